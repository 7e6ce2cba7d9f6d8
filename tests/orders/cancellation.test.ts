// Issue 16: an order cancelled from Temporal (UI, CLI, or later a buyer's cancel) at any
// step ends refunded (or failed when nothing was charged) with the reason `cancelled`:
// nothing stays charged or reserved. The step that was running when the cancel came is
// held at its start and let go afterwards, so a stale step racing the compensation is
// part of every case.
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { workflowIds } from '../../domain/workflow-ids';
import { statusQuery } from '../../workflows/order-messages';
import { activityGate } from '../support/activity-gate';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';
import { startWebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(90_000);

const gate = activityGate();
let stack: TestStack;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
beforeAll(async () => {
  stack = await startStack({ workerOptions: gate.workerOptions });
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

/** Puts a one-unit order (two units in stock) at the start of `activity`, then cancels it there. */
async function cancelAt(activity: string) {
  const ctx = await shopWithStock(stack, { stock: 2, topUp: 10 * PRICE, webhookUrl: receiver.url });
  const body = orderBody(ctx.sku, 1);
  const workflowId = workflowIds.order(ctx.shop.id, body.externalOrderId);
  const held = gate.hold(workflowId, activity);
  const accepted = await ctx.api.post('/v1/orders', body);
  await waitFor(held.reached, `the order to reach ${activity}`);

  const handle = stack.deps.temporal.workflow.getHandle(workflowId);
  await handle.cancel();
  // A running local activity holds the workflow task open, so the request shows in the
  // history only once the task's heartbeat completes it (about 8 s).
  await waitFor(
    async () =>
      ((await handle.fetchHistory()).events ?? []).some(
        (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
      ),
    'the cancel request in the history',
    30_000,
  );
  // The compensation does not wait for the held step: the order settles while it is held.
  await waitForTerminal(ctx.api, accepted.body.id);
  held.open(); // the stale step now runs against an order that has moved on, and must do nothing
  const outcome = await handle.result().then(
    () => 'completed',
    (err) => (err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure ? 'cancelled' : String(err)),
  );
  const order = await waitForTerminal(ctx.api, accepted.body.id);
  const ledger = await stack.db.ledgerTransaction.findMany({ where: { orderId: order.id }, orderBy: { id: 'asc' } });
  const product = await stack.db.product.findUniqueOrThrow({ where: { sku: ctx.sku } });
  return { ctx, order, outcome, ledger, product, handle };
}

async function settleStale() {
  // Give the released stale step time to run and (correctly) do nothing.
  await new Promise((r) => setTimeout(r, 500));
}

test('cancelled while charging: failed, nothing charged, nothing reserved', async () => {
  const { ctx, order, outcome, ledger, product } = await cancelAt('admitOrder');
  await settleStale();
  expect(outcome).toBe('cancelled');
  expect(order.status).toBe('failed');
  expect(order.history.at(-1)).toMatchObject({ status: 'failed', reason: 'cancelled' });
  expect(await stack.db.ledgerTransaction.count({ where: { orderId: order.id } })).toBe(0);
  expect(ledger).toHaveLength(0);
  expect(await stack.db.cardKey.count({ where: { productId: product.id, status: 'available' } })).toBe(2);
  expect((await ctx.api.get('/v1/balance')).body.available.minor).toBe(10 * PRICE);
});

// An own-stock order reserves and delivers in one step (fulfilFromStock): a cancel while it
// is held races the reservation and the delivery (the same deliver_order a supplier-bought
// order's own delivering step runs).
test.each([['reserving and delivering', 'fulfilFromStock']])(
  'cancelled while %s: refunded once with reason cancelled, keys back on the shelf',
  async (_step, activity) => {
    const { ctx, order, outcome, product } = await cancelAt(activity);
    await settleStale();
    expect(outcome).toBe('cancelled');
    expect(order.status).toBe('refunded');
    expect(order.history.map((h: { status: string }) => h.status)).toEqual(['received', 'fulfilling', 'refunded']);
    expect(order.history.at(-1).reason).toBe('cancelled');
    const kinds = (await stack.db.ledgerTransaction.findMany({ where: { orderId: order.id } }))
      .map((e) => e.kind)
      .sort();
    expect(kinds).toEqual(['hold', 'release']);
    expect(await stack.db.cardKey.count({ where: { productId: product.id, status: 'available' } })).toBe(2);
    expect(await stack.db.orderUnit.count({ where: { orderId: order.id, cardKeyId: { not: null } } })).toBe(0);
    expect((await ctx.api.get('/v1/balance')).body.available.minor).toBe(10 * PRICE);
    // The refund is announced like any terminal status.
    await waitFor(
      () => receiver.received.some((w) => w.body.id === `evt_${order.id}_refunded`),
      'the order.refunded webhook',
    );
  },
);

test('cancelled after delivery (while notifying): stays delivered, announced, not refunded', async () => {
  const { order, outcome, handle } = await cancelAt('notifyOrderStatus');
  expect(outcome).toBe('completed');
  expect(order.status).toBe('delivered');
  expect(await stack.db.ledgerTransaction.count({ where: { orderId: order.id, kind: 'release' } })).toBe(0);
  await waitFor(
    () => receiver.received.some((w) => w.body.id === `evt_${order.id}_delivered`),
    'the order.delivered webhook',
  );
  await expect(handle.query(statusQuery)).resolves.toMatchObject({ status: 'delivered', step: 'done' });
});
