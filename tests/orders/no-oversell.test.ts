// Acceptance 3: 10 keys in stock, 40 concurrent one-unit orders → exactly 10 delivered and 30
// refunded, no key in two units, and the balance is the top-up less 10 prices.
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

test('40 concurrent orders for 10 keys: 10 delivered, 30 refunded, nothing sold twice', async () => {
  const topUp = 100 * PRICE;
  const { sku, shop, api } = await shopWithStock(stack, { stock: 10, topUp });
  const accepted = await Promise.all(Array.from({ length: 40 }, () => api.post('/v1/orders', orderBody(sku, 1))));
  expect(accepted.every((r) => r.status === 202)).toBe(true);

  const orders = await Promise.all(accepted.map((r) => waitForTerminal(api, r.body.id, 60_000)));
  const byStatus = (s: string) => orders.filter((o) => o.status === s);
  expect(byStatus('delivered')).toHaveLength(10);
  expect(byStatus('refunded')).toHaveLength(30);
  for (const o of byStatus('refunded')) expect(o.history.at(-1).reason).toMatch(/^out of stock/);

  const product = await stack.db.product.findUniqueOrThrow({ where: { sku } });
  const units = await stack.db.orderUnit.findMany({ where: { productId: product.id, cardKeyId: { not: null } } });
  expect(units).toHaveLength(10);
  expect(new Set(units.map((u) => u.cardKeyId)).size).toBe(10);
  expect(await stack.db.cardKey.count({ where: { productId: product.id, status: 'delivered' } })).toBe(10);
  expect(
    await stack.db.cardKey.count({ where: { productId: product.id, status: { in: ['available', 'reserved'] } } }),
  ).toBe(0);

  expect((await api.get('/v1/balance')).body.available).toEqual({ minor: topUp - 10 * PRICE, currency: 'CNY' });
  expect(await stack.db.ledgerTransaction.count({ where: { clientId: shop.id, kind: 'release' } })).toBe(30);
});
