// Acceptance 2: the same order submitted 20 times concurrently makes one order, one debit and
// one workflow; the same Idempotency-Key with a different body is 409.
import { expectProblem } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

test('20 concurrent submissions of one order: one order, one debit, one workflow', async () => {
  const { sku, shop, api } = await shopWithStock(stack, { stock: 5, topUp: 10 * PRICE });
  const body = orderBody(sku, 1);
  const responses = await Promise.all(Array.from({ length: 20 }, () => api.post('/v1/orders', body)));

  const ids = new Set(responses.map((r) => r.body.id));
  expect(ids.size).toBe(1);
  expect(responses.filter((r) => r.status === 202)).toHaveLength(1);
  expect(responses.filter((r) => r.status === 200)).toHaveLength(19);
  const orderId = [...ids][0] as string;

  expect((await waitForTerminal(api, orderId)).status).toBe('delivered');
  expect(await stack.db.order.count({ where: { clientId: shop.id } })).toBe(1);
  expect(await stack.db.ledgerTransaction.count({ where: { orderId, kind: 'hold' } })).toBe(1);
  expect((await api.get('/v1/balance')).body.available.minor).toBe(9 * PRICE);

  const workflows = [];
  for await (const wf of stack.deps.temporal.workflow.list({
    query: `WorkflowId = 'order:${shop.id}:${body.externalOrderId}'`,
  })) {
    workflows.push(wf);
  }
  expect(workflows).toHaveLength(1);

  // A resubmission after completion still answers with the same order and starts nothing.
  const again = await api.post('/v1/orders', body);
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ id: orderId, status: 'delivered' });
});

test('the same Idempotency-Key returns the same order; with a different body it is 409', async () => {
  const { sku, shop, api } = await shopWithStock(stack, { stock: 5, topUp: 10 * PRICE });
  const key = `idem-${Date.now()}`;
  const body = orderBody(sku, 1);
  const first = await api.post('/v1/orders', body, { headers: { 'idempotency-key': key } });
  expect(first.status).toBe(202);
  const second = await api.post('/v1/orders', body, { headers: { 'idempotency-key': key } });
  expect(second.status).toBe(200);
  expect(second.body.id).toBe(first.body.id);

  const before = await stack.db.order.count({ where: { clientId: shop.id } });
  const changed = await api.post('/v1/orders', { ...orderBody(sku, 2) }, { headers: { 'idempotency-key': key } });
  expectProblem(changed, 409, 'idempotency_conflict');
  const sameExternalId = await api.post('/v1/orders', { ...body, items: [{ sku, quantity: 3 }] });
  expectProblem(sameExternalId, 409, 'idempotency_conflict');
  expect(await stack.db.order.count({ where: { clientId: shop.id } })).toBe(before);
});

test('insufficient balance fails the order before any key is reserved', async () => {
  const { sku, shop, api } = await shopWithStock(stack, { stock: 5, topUp: PRICE });
  const res = await api.post('/v1/orders', orderBody(sku, 2));
  const order = await waitForTerminal(api, res.body.id);
  expect(order.status).toBe('failed');
  expect(order.history.at(-1)).toMatchObject({ status: 'failed', reason: 'insufficient balance' });
  expect(await stack.db.ledgerTransaction.count({ where: { clientId: shop.id, kind: 'hold' } })).toBe(0);
  const product = await stack.db.product.findUniqueOrThrow({ where: { sku } });
  expect(await stack.db.cardKey.count({ where: { productId: product.id, status: 'available' } })).toBe(5);
});
