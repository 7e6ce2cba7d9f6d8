// Issue 29: a step that fails for days must not take its workflow past Temporal's history
// limit (51,200 events, where the server terminates it). It parks: no more retries, visible in
// the status query, the stuck listing and /metrics, until support resumes it; a resumed order
// whose history is large goes on in a new run from where it stood, and completes once. Days
// of failing are forced by bounds narrowed through the config (milliseconds between attempts,
// a 200-event history bound); faults are real PostgreSQL errors raised by triggers.
import { workflowIds } from '../../domain/workflow-ids';
import { statusQuery } from '../../workflows/order-messages';
import { adminKey, staffApi } from '../support/clients';
import { injectFault } from '../support/db-faults';
import { clientFor, expectProblem } from '../support/http';
import { orderBody, PRICE, shopWithStock, startedWorkflow, uniqueCodes, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const PARK_AT_EVENTS = 120;
/** What a parked run may hold beyond the bound: the attempt that crossed it and the parking itself. */
const PARKING_EVENTS = 20;

let stack: TestStack;
let support: ReturnType<typeof clientFor>;
beforeAll(async () => {
  stack = await startStack({ config: { ORDER_RETRY_MAX_MS: '5', ORDER_PARK_HISTORY_EVENTS: String(PARK_AT_EVENTS) } });
  support = await staffApi(stack, 'support');
});
afterAll(() => stack.close());

async function productIdOf(sku: string) {
  return (await stack.db.product.findUniqueOrThrow({ where: { sku } })).id;
}

async function parkedOrders(): Promise<number> {
  const res = await clientFor(stack.url).get('/metrics');
  const line = res.text.split('\n').find((l) => l.startsWith('rights_orders_parked '));
  if (!line) throw new Error('no rights_orders_parked in /metrics');
  return Number(line.slice('rights_orders_parked '.length));
}

/** Places an order and waits until its workflow is parked and the parking recorded; returns the run. */
async function placeAndPark(ctx: Awaited<ReturnType<typeof shopWithStock>>) {
  const body = orderBody(ctx.sku, 1);
  const accepted = await ctx.api.post('/v1/orders', body);
  expect(accepted.status).toBe(202);
  const handle = await startedWorkflow(stack, workflowIds.order(ctx.shop.id, body.externalOrderId));
  let progress: any;
  await waitFor(
    async () => {
      progress = await handle.query(statusQuery);
      return progress.parked?.marked === true;
    },
    'the order to park',
    60_000,
  );
  const run = await handle.describe();
  return { orderId: accepted.body.id as string, handle, progress, runId: run.runId };
}

async function reconciliation() {
  const from = encodeURIComponent(new Date(Date.now() - 600_000).toISOString());
  const to = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
  return clientFor(stack.url, await adminKey(stack)).get(`/v1/reports/reconciliation?from=${from}&to=${to}`);
}

test('a step that fails on and on parks the order under the history bound, visibly; resumed, it continues as new and delivers once', async () => {
  const before = await parkedOrders();
  const ctx = await shopWithStock(stack, { stock: 1, topUp: 5 * PRICE });
  const broken = await injectFault(
    stack.db,
    'card_keys',
    'BEFORE UPDATE',
    `NEW.product_id = '${await productIdOf(ctx.sku)}'`,
    '40001',
  );
  const { orderId, handle, progress, runId } = await placeAndPark(ctx);

  // Parked, not terminated nor failed: the run waits, its history at the bound and no longer growing.
  expect(progress).toMatchObject({ status: 'fulfilling', step: 'reserving', parked: { marked: true } });
  expect(progress.attempt).toBeGreaterThan(10);
  expect(progress.lastError).toContain(`database error 40001: injected fault ${broken.name}`);
  const parkedRun = await handle.describe();
  expect(parkedRun.status.name).toBe('RUNNING');
  expect(parkedRun.historyLength).toBeGreaterThanOrEqual(PARK_AT_EVENTS);
  expect(parkedRun.historyLength).toBeLessThan(PARK_AT_EVENTS + PARKING_EVENTS);
  await new Promise((r) => setTimeout(r, 1_500));
  expect((await handle.describe()).historyLength).toBe(parkedRun.historyLength);

  // Support sees it parked in the stuck listing (from the database and from the workflow); /metrics counts it.
  const stuck = await support.get('/v1/orders?stuckFor=1s');
  expect(stuck.status).toBe(200);
  expect(stuck.body.orders).toContainEqual(
    expect.objectContaining({
      id: orderId,
      status: 'fulfilling',
      parked: expect.objectContaining({
        step: 'reserving',
        attempts: progress.attempt,
        lastError: expect.stringContaining('40001'),
      }),
      workflow: expect.objectContaining({ step: 'reserving', parked: expect.objectContaining({ marked: true }) }),
    }),
  );
  expect(await parkedOrders()).toBe(before + 1);

  // Only support and admins resume, with a reason.
  expectProblem(await ctx.api.post(`/v1/orders/${orderId}/resume`, { reason: 'mine' }), 403, 'forbidden');
  expectProblem(await support.post(`/v1/orders/${orderId}/resume`, {}), 422, 'validation_failed');
  expectProblem(await support.post(`/v1/orders/${orderId}/resume`, { reason: 'a\u0000b' }), 422, 'validation_failed');
  expectProblem(
    await support.post('/v1/orders/00000000-0000-4000-8000-000000000000/resume', { reason: 'x' }),
    404,
    'not_found',
  );

  await broken.remove();
  const resumed = await support.post(`/v1/orders/${orderId}/resume`, { reason: 'serialization fault fixed' });
  expect(resumed.status).toBe(200);
  expect(resumed.body).toEqual({
    id: orderId,
    resumed: { step: 'reserving', attempts: progress.attempt, continuesAsNew: true },
  });
  const order = await waitForTerminal(ctx.api, orderId, 60_000);
  expect(order.status).toBe('delivered');

  // Exactly once: one hold, one capture, one key; the ledger reconciles.
  const moves = await stack.db.ledgerTransaction.findMany({ where: { orderId }, orderBy: { id: 'asc' } });
  expect(moves.map((m) => m.kind)).toEqual(['hold', 'capture']);
  expect(await stack.db.cardKey.count({ where: { productId: await productIdOf(ctx.sku), status: 'delivered' } })).toBe(
    1,
  );
  expect((await reconciliation()).body.mismatches).toEqual([]);

  // The parked run continued as new; the new run started where it stood and finished small.
  const first = await stack.deps.temporal.workflow.getHandle(handle.workflowId, runId).describe();
  expect(first.status.name).toBe('CONTINUED_AS_NEW');
  const last = await stack.deps.temporal.workflow.getHandle(handle.workflowId).describe();
  expect(last.runId).not.toBe(runId);
  expect(last.status.name).toBe('COMPLETED');
  expect(last.historyLength).toBeLessThan(50);

  // The resume is audited and ends the parking; the alert clears; a second resume has nothing to do.
  const audit = await stack.db.auditLog.findMany({ where: { subjectId: orderId, action: 'order.resumed' } });
  expect(audit).toEqual([expect.objectContaining({ reason: 'serialization fault fixed' })]);
  expect(await stack.db.orderParking.findMany({ where: { orderId } })).toEqual([
    expect.objectContaining({ parking: 1, step: 'reserving', resumedAt: expect.any(Date) }),
  ]);
  expect(await parkedOrders()).toBe(before);
  expectProblem(await support.post(`/v1/orders/${orderId}/resume`, { reason: 'again' }), 409, 'order_not_parked');
});

test('a compensation that keeps failing parks rather than give up, and refunds once when resumed', async () => {
  const ctx = await shopWithStock(stack, { stock: 0, topUp: 5 * PRICE }); // out of stock → the money goes back
  const broken = await injectFault(
    stack.db,
    'order_status_history',
    'BEFORE INSERT',
    `NEW.status = 'refunded' AND EXISTS (SELECT 1 FROM orders WHERE id = NEW.order_id AND client_id = '${ctx.shop.id}')`,
    '40001',
  );
  const { orderId, handle, progress } = await placeAndPark(ctx);
  expect(progress).toMatchObject({ status: 'fulfilling', step: 'compensating', parked: { marked: true } });
  expect(await stack.db.ledgerTransaction.count({ where: { orderId, kind: 'release' } })).toBe(0);
  // Stock arrives meanwhile: a run that tried the fulfilment again would now deliver.
  const batch = await ctx.admin.post('/v1/inventory/batches', { sku: ctx.sku, keys: uniqueCodes(1) });
  expect(batch.status).toBe(201);

  await broken.remove();
  const resumed = await support.post(`/v1/orders/${orderId}/resume`, { reason: 'trigger dropped' });
  expect(resumed.body.resumed).toMatchObject({ step: 'compensating', continuesAsNew: true });
  const order = await waitForTerminal(ctx.api, orderId, 60_000);
  // The new run went on with the compensation it was parked in, not a new attempt at fulfilment.
  expect(order.status).toBe('refunded');
  expect(order.history.at(-1).reason).toBe('out of stock: 1 of 1 units unavailable');
  expect(await stack.db.ledgerTransaction.count({ where: { orderId, kind: 'release' } })).toBe(1);
  expect((await ctx.api.get('/v1/balance')).body.available.minor).toBe(5 * PRICE);
  expect(await stack.db.cardKey.count({ where: { productId: await productIdOf(ctx.sku), status: 'available' } })).toBe(
    1,
  );
  expect((await handle.describe()).status.name).toBe('COMPLETED');
  expect((await reconciliation()).body.mismatches).toEqual([]);
});

test('an order parked by time resumes in the same run when its history is small', async () => {
  // A step failing for longer than the time bound parks however few events it cost.
  Object.assign(stack.config, { ORDER_RETRY_MAX_MS: 50, ORDER_PARK_AFTER_MS: 500 });
  try {
    const ctx = await shopWithStock(stack, { stock: 1, topUp: 5 * PRICE });
    const broken = await injectFault(
      stack.db,
      'card_keys',
      'BEFORE UPDATE',
      `NEW.product_id = '${await productIdOf(ctx.sku)}'`,
      '40001',
    );
    const { orderId, handle, progress, runId } = await placeAndPark(ctx);
    expect(progress.parked.historyLength).toBeLessThan(PARK_AT_EVENTS / 2);
    await broken.remove();
    const resumed = await support.post(`/v1/orders/${orderId}/resume`, { reason: 'fixed' });
    expect(resumed.body.resumed).toMatchObject({ step: 'reserving', continuesAsNew: false });
    expect((await waitForTerminal(ctx.api, orderId, 60_000)).status).toBe('delivered');
    const run = await handle.describe();
    expect(run.runId).toBe(runId);
    expect(run.status.name).toBe('COMPLETED');
  } finally {
    Object.assign(stack.config, { ORDER_RETRY_MAX_MS: 5, ORDER_PARK_AFTER_MS: undefined });
  }
});

test('an order cancelled while parked is closed and refunded, its parking ended', async () => {
  const before = await parkedOrders();
  const ctx = await shopWithStock(stack, { stock: 1, topUp: 5 * PRICE });
  const broken = await injectFault(
    stack.db,
    'card_keys',
    'BEFORE UPDATE',
    `NEW.product_id = '${await productIdOf(ctx.sku)}'`,
    '40001',
  );
  try {
    const { orderId, handle } = await placeAndPark(ctx);
    expect(await parkedOrders()).toBe(before + 1);
    await handle.cancel();
    const order = await waitForTerminal(ctx.api, orderId, 60_000);
    expect(order.status).toBe('refunded');
    expect(order.history.at(-1).reason).toBe('cancelled');
    expect(await stack.db.orderParking.findMany({ where: { orderId } })).toEqual([
      expect.objectContaining({ resumedBy: 'closed: cancelled' }),
    ]);
    expect(await parkedOrders()).toBe(before);
  } finally {
    await broken.remove();
  }
});
