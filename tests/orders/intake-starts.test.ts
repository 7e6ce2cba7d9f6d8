// Intake answers 202 once the order is committed and starts its workflow in the background
// (api/order-starts.ts). A start that does not happen (Temporal away, the API killed between
// commit and start) loses nothing: the sweep, or a resubmission, starts it, once.
import { createOrderStarts } from '../../api/order-starts';
import { workflowIds } from '../../domain/workflow-ids';
import { clientFor } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { apiWithoutTemporal as downApi, runsOf, workflowExists as exists } from '../support/temporal-down';

let stack: TestStack;
const closers: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await stack.close();
});

/** Another API process over the same database whose Temporal is unreachable. */
async function apiWithoutTemporal(): Promise<string> {
  const api = await downApi(stack);
  closers.push(api.close);
  return api.url;
}

const workflowExists = (workflowId: string) => exists(stack, workflowId);

test('with Temporal down the order is still accepted; the sweep starts it once Temporal answers, and it is delivered once', async () => {
  const ctx = await shopWithStock(stack, { stock: 2, topUp: 10 * PRICE });
  const downUrl = await apiWithoutTemporal();
  const body = orderBody(ctx.sku);
  const accepted = await clientFor(downUrl, ctx.shop.apiKey).post('/v1/orders', body);
  expect(accepted.status).toBe(202);
  expect(accepted.body).toMatchObject({ externalOrderId: body.externalOrderId, status: 'received' });
  const workflowId = workflowIds.order(ctx.shop.id, body.externalOrderId);
  expect(await workflowExists(workflowId)).toBe(false);
  expect((await ctx.api.get(`/v1/orders/${accepted.body.id}`)).body.status).toBe('received');

  // An order younger than the idle time is left alone: its own start may still be under way.
  expect(await stack.deps.orderStarts.sweep({ clientId: ctx.shop.id })).toBe(0);
  expect(await workflowExists(workflowId)).toBe(false);

  const sweeper = createOrderStarts({ ...stack.deps, config: { ...stack.config, ORDER_START_SWEEP_IDLE_MS: 0 } });
  expect(await sweeper.sweep({ clientId: ctx.shop.id })).toBe(1);
  const order = await waitForTerminal(ctx.api, accepted.body.id);
  expect(order.status).toBe('delivered');
  expect(order.items[0].units).toHaveLength(1);
  const moves = await stack.db.ledgerTransaction.findMany({ where: { orderId: order.id }, orderBy: { id: 'asc' } });
  expect(moves.map((m) => m.kind)).toEqual(['hold', 'capture']);

  // Swept again, a delivered order is not `received`: nothing is started, nothing moves.
  expect(await sweeper.sweep({ clientId: ctx.shop.id })).toBe(0);
  expect(await runsOf(stack, workflowId)).toBe(1);
});

test('a resubmission starts a workflow whose start was lost, at once', async () => {
  const ctx = await shopWithStock(stack, { stock: 1, topUp: 10 * PRICE });
  const body = orderBody(ctx.sku);
  const accepted = await clientFor(await apiWithoutTemporal(), ctx.shop.apiKey).post('/v1/orders', body);
  expect(accepted.status).toBe(202);

  const again = await ctx.api.post('/v1/orders', body);
  expect(again.status).toBe(200);
  expect(again.body.id).toBe(accepted.body.id);
  const order = await waitForTerminal(ctx.api, accepted.body.id);
  expect(order.status).toBe('delivered');
  expect(await stack.db.ledgerTransaction.count({ where: { orderId: order.id, kind: 'hold' } })).toBe(1);
});
