// Keys bought from suppliers are secrets like imported ones: sealed at rest on arrival
// (by answer or by callback), and absent from workflow history, logs, webhooks and listings.
import { startSupplierSim, type SupplierSim } from '../../scripts/lib/supplier-sim';
import { adminKey } from '../support/clients';
import { clientFor } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { addRoute, addSupplier } from '../support/suppliers';
import { waitFor } from '../support/wait';
import { startWebhookReceiver } from '../support/webhook-receiver';

const logLines: string[] = [];
let stack: TestStack;
let sim: SupplierSim;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
beforeAll(async () => {
  [stack, sim, receiver] = await Promise.all([
    startStack({ logDestination: { write: (line) => logLines.push(line) } }),
    startSupplierSim(),
    startWebhookReceiver(),
  ]);
});
afterAll(async () => {
  await stack?.close();
  await sim?.close();
  await receiver?.close();
});

test('supplier keys, answered or called back, never leave the database unsealed but through the claim', async () => {
  const admin = clientFor(stack.url, await adminKey(stack));
  const { sku, api } = await shopWithStock(stack, { stock: 0, topUp: 10 * PRICE, webhookUrl: receiver.url });
  const supplier = await addSupplier(sim.url, admin, {
    products: { K: { kind: 'card_key', costMinor: 1000, stock: 10 } },
    settings: { callbackDeadlineMs: 5_000 },
  });
  await addRoute(admin, sku, supplier, { productCode: 'K', costMinor: 1000 });
  // One order answered at once, one completed by callback.
  await supplier.setFaults({ rules: [{ kind: 'async_callback', callbackDelayMs: 200, times: 1 }] });

  const codes: string[] = [];
  for (let i = 0; i < 2; i++) {
    const placed = await api.post('/v1/orders', orderBody(sku, 1));
    const order = await waitForTerminal(api, placed.body.id, 30_000);
    expect(order.status).toBe('delivered');
    await waitFor(() => receiver.received.some((w) => w.body.data?.orderId === order.id), 'the webhook');
    const claim = await clientFor(stack.url).get(new URL(order.claimUrl).pathname);
    codes.push(...claim.body.items[0].codes);

    const workflowId = (await stack.db.order.findUniqueOrThrow({ where: { id: order.id } })).workflowId;
    const history = JSON.stringify(await stack.deps.temporal.workflow.getHandle(workflowId).fetchHistory());
    const listings = JSON.stringify([
      await api.get(`/v1/orders/${order.id}`),
      await admin.get(`/v1/orders/${order.id}`),
    ]);
    for (const code of claim.body.items[0].codes) {
      expect(history).not.toContain(code);
      expect(listings).not.toContain(code);
    }
  }
  expect(codes).toEqual([expect.stringMatching(/^SIM-/), expect.stringMatching(/^SIM-/)]);

  const stored = JSON.stringify(await stack.db.cardKey.findMany({ where: { sourceSupplierId: supplier.id } }));
  const logs = logLines.join('\n');
  expect(logs).toContain('supplier callback'); // the capture is live
  for (const code of codes) {
    expect(stored).not.toContain(code);
    expect(logs).not.toContain(code);
    expect(JSON.stringify(receiver.received)).not.toContain(code);
  }
});
