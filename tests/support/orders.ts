// Shared setup for order tests, all through the public API as an operator and a shop would.
import { randomUUID } from 'node:crypto';
import { createClientViaApi, adminKey } from './clients';
import { clientFor } from './http';
import type { TestStack } from './stack';
import { waitFor } from './wait';
import { TERMINAL_STATUSES } from '../../domain/order-status';
import { whenStarted } from '../../infra/temporal';

export const PRICE = 1500;

export function uniqueCodes(n: number, prefix = 'VIP'): string[] {
  return Array.from({ length: n }, () => `${prefix}-${randomUUID().toUpperCase()}`);
}

/** An admin-created product with `stock` imported keys, and a shop with a topped-up balance. */
export async function shopWithStock(stack: TestStack, options: { stock: number; topUp: number; webhookUrl?: string }) {
  const admin = clientFor(stack.url, await adminKey(stack));
  const sku = `vip-${randomUUID().slice(0, 8)}`;
  const product = await admin.post('/v1/products', {
    sku,
    name: 'Video VIP 1 month',
    kind: 'card_key',
    price: { minor: PRICE, currency: 'CNY' },
  });
  if (product.status !== 201) throw new Error(`product: ${product.status} ${product.text}`);
  const codes = uniqueCodes(options.stock);
  if (codes.length > 0) {
    const batch = await admin.post('/v1/inventory/batches', { sku, keys: codes, supplier: 'acme' });
    if (batch.status !== 201) throw new Error(`batch: ${batch.status} ${batch.text}`);
  }
  const shop = await createClientViaApi(stack, 'order-system', {
    name: `shop ${sku}`,
    ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}),
  });
  if (options.topUp > 0) {
    const topup = await admin.post(`/v1/clients/${shop.id}/topups`, {
      amount: { minor: options.topUp, currency: 'CNY' },
    });
    if (topup.status !== 201) throw new Error(`topup: ${topup.status} ${topup.text}`);
  }
  return { sku, codes, shop, api: clientFor(stack.url, shop.apiKey), admin };
}

/**
 * A one-item order from a buyer of its own (tests place many orders a minute: from one buyer
 * they would trip risk control's velocity limits, which tests/risk exercises on purpose).
 */
export function orderBody(sku: string, quantity = 1, externalOrderId = `ext-${randomUUID()}`) {
  const buyer = randomUUID().slice(0, 8);
  return {
    externalOrderId,
    buyer: { id: `buyer-${buyer}`, ip: '203.0.113.7', deviceId: `dev-${buyer}` },
    items: [{ sku, quantity }],
  };
}

/** Polls GET /v1/orders/:id until the status is terminal, and returns the order. */
export async function waitForTerminal(api: ReturnType<typeof clientFor>, orderId: string, timeoutMs = 30_000) {
  let order: any;
  await waitFor(
    async () => {
      order = (await api.get(`/v1/orders/${orderId}`)).body;
      return TERMINAL_STATUSES.includes(order?.status);
    },
    `order ${orderId} to settle`,
    timeoutMs,
  );
  return order;
}

/** The order workflow's handle once the workflow exists (it starts just after the order's 202). */
export function startedWorkflow(stack: TestStack, workflowId: string) {
  return whenStarted(stack.deps.temporal, workflowId, async (handle) => {
    await handle.describe();
    return handle;
  });
}
