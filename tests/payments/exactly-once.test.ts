// Money moves once even when a step's answer is lost after it committed: the workflow runs
// the step again, and the ledger's idempotency keys make the second run find the first.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';

const LOSE = new Set([
  'admitOrder',
  'beginOrder',
  'fulfilFromStock',
  'deliverOrder',
  'settleShortfall',
  'closeUnfulfilled',
]);
const lost = new Set<string>();
/** The first run of each money step of each order commits, then its answer is lost. */
const loseFirstAnswer: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const result = await next(input);
      const key = `${ctx.info.workflowExecution?.workflowId}/${ctx.info.activityType}`;
      if (LOSE.has(ctx.info.activityType) && !lost.has(key)) {
        lost.add(key);
        throw new Error(`answer of ${ctx.info.activityType} lost after it committed`);
      }
      return result;
    },
  },
});

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ workerOptions: { interceptors: { activity: [loseFirstAnswer] } } });
});
afterAll(() => stack?.close());

test('a delivered order whose authorize and capture answers were lost: one hold, one capture', async () => {
  const { sku, api } = await shopWithStock(stack, { stock: 2, topUp: 5 * PRICE });
  const order = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku, 2))).body.id);
  expect(order.status).toBe('delivered');
  const moves = await stack.db.ledgerTransaction.findMany({ where: { orderId: order.id }, orderBy: { id: 'asc' } });
  expect(moves.map((m) => [m.kind, Number(m.amountMinor)])).toEqual([
    ['hold', 2 * PRICE],
    ['capture', 2 * PRICE],
  ]);
  expect((await api.get('/v1/balance')).body).toMatchObject({ available: { minor: 3 * PRICE }, held: { minor: 0 } });
});

test('a refunded order whose release answer was lost: one hold, one release', async () => {
  const { sku, api } = await shopWithStock(stack, { stock: 0, topUp: 5 * PRICE });
  const order = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku))).body.id);
  expect(order.status).toBe('refunded');
  const moves = await stack.db.ledgerTransaction.findMany({ where: { orderId: order.id }, orderBy: { id: 'asc' } });
  expect(moves.map((m) => [m.kind, Number(m.amountMinor)])).toEqual([
    ['hold', PRICE],
    ['release', PRICE],
  ]);
  expect((await api.get('/v1/balance')).body).toMatchObject({ available: { minor: 5 * PRICE }, held: { minor: 0 } });
});
