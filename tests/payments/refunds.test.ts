// Refunding delivered units from the prepaid balance: the price goes back once per unit
// under its own key, however many times (and however concurrently) support asks.
import { randomUUID } from 'node:crypto';
import { createClientViaApi } from '../support/clients';
import { clientFor } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { workflowIds } from '../../domain/workflow-ids';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.close());

test('the same refund asked ten times at once: one refund per unit, keys void, the order refunded', async () => {
  const { sku, api, shop } = await shopWithStock(stack, { stock: 2, topUp: 2 * PRICE });
  const order = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku, 2))).body.id);
  expect(order.status).toBe('delivered');
  expect((await api.get('/v1/balance')).body.available.minor).toBe(0);

  const staffName = `support ${randomUUID().slice(0, 8)}`;
  const staff = await createClientViaApi(stack, 'support', { name: staffName });
  const support = clientFor(stack.url, staff.apiKey);
  const answers = await Promise.all(
    Array.from({ length: 10 }, () => support.post(`/v1/orders/${order.id}/refunds`, { reason: 'codes did not work' })),
  );
  expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
  expect(answers[0]!.body).toMatchObject({ orderStatus: 'refunded', total: { minor: 2 * PRICE, currency: 'CNY' } });

  const refunds = await stack.db.ledgerTransaction.findMany({ where: { orderId: order.id, kind: 'refund' } });
  const unitIds = order.items[0].units.map((u: { id: string }) => u.id).sort();
  expect(refunds.map((r) => r.idempotencyKey).sort()).toEqual(
    unitIds.map((u: string) => `order:${order.id}:unit:${u}:refund`).sort(),
  );
  expect((await api.get('/v1/balance')).body.available.minor).toBe(2 * PRICE);
  const after = (await api.get(`/v1/orders/${order.id}`)).body;
  expect(after.status).toBe('refunded');
  expect(after.items[0].units.map((u: { status: string }) => u.status)).toEqual(['refunded', 'refunded']);
  const units = await stack.db.orderUnit.findMany({ where: { orderId: order.id } });
  const keys = await stack.db.cardKey.findMany({ where: { id: { in: units.map((u) => u.cardKeyId!) } } });
  expect(keys.map((k) => k.status)).toEqual(['void', 'void']);
  // Refunded keys never come back on the shelf.
  const again = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku, 1))).body.id);
  expect(again.status).toBe('refunded');
  const audit = await stack.db.auditLog.findMany({ where: { subjectId: order.id, action: 'order.units_refunded' } });
  expect(audit).toHaveLength(1);
  expect(audit[0]).toMatchObject({
    actor: `client:${staffName}`,
    actorClientId: staff.id,
    reason: 'codes did not work',
  });
  expect(await stack.db.order.count({ where: { clientId: shop.id } })).toBe(2);
});

test('a refund whose run failed does not hold its units for good: asked again, it runs anew and refunds them', async () => {
  const { sku, api } = await shopWithStock(stack, { stock: 1, topUp: PRICE });
  const order = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku))).body.id);
  const staff = await createClientViaApi(stack, 'support', { name: `support ${randomUUID().slice(0, 8)}` });
  const support = clientFor(stack.url, staff.apiKey);
  // A run under the id the API uses for "every delivered unit" that fails for good: the
  // database refuses its reason (the API's own validation would never let it through).
  const workflowId = workflowIds.refund(order.id, 'all');
  const failed = await stack.deps.temporal.workflow.start('refundWorkflow', {
    workflowId,
    taskQueue: stack.taskQueue,
    args: [{ orderId: order.id, reason: 'bad\u0000reason', actor: { clientId: null, name: 'test' } }],
  });
  await expect(failed.result()).rejects.toThrow();

  const again = await support.post(`/v1/orders/${order.id}/refunds`, { reason: 'codes did not work' });
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ orderStatus: 'refunded', total: { minor: PRICE, currency: 'CNY' } });
});
