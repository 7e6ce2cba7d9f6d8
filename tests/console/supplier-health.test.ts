// Supplier health as operations reads it from GET /v1/suppliers: the last hour's calls, their
// success rate and the 95th percentile of the sales' latency, per supplier; none for a
// supplier that was not called.
import { staffApi } from '../support/clients';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { addRoute, addSupplier, stackWithSuppliers } from '../support/suppliers';

jest.setTimeout(120_000);

const env = stackWithSuppliers();
const CARD = { kind: 'card_key' as const, costMinor: 1000, stock: 100 };

test("each supplier's calls, success rate and p95 latency over the last hour; an idle one has none", async () => {
  const shop = await shopWithStock(env.stack, { stock: 0, topUp: 20 * PRICE });
  const flaky = await addSupplier(env.sim.url, env.admin, { products: { 'VIP-1M': CARD } });
  const steady = await addSupplier(env.sim.url, env.admin, { products: { 'VIP-1M': CARD } });
  const idle = await addSupplier(env.sim.url, env.admin, { products: { 'VIP-1M': CARD } });
  await addRoute(env.admin, shop.sku, flaky, { productCode: 'VIP-1M', costMinor: 1000, priority: 10 });
  await addRoute(env.admin, shop.sku, steady, { productCode: 'VIP-1M', costMinor: 1000, priority: 20 });
  // The first supplier fails every sale: each order falls back to the second.
  await flaky.setFaults({ rules: [{ kind: 'error_500', on: 'any' }] });
  for (let i = 0; i < 3; i++) {
    const order = await waitForTerminal(
      shop.api,
      (await shop.api.post('/v1/orders', orderBody(shop.sku))).body.id,
      60_000,
    );
    expect(order.status).toBe('delivered');
  }

  const support = await staffApi(env.stack, 'support');
  const listed = await support.get('/v1/suppliers');
  expect(listed.status).toBe(200);
  const health = (name: string) => listed.body.suppliers.find((s: any) => s.name === name).health;
  expect(health(flaky.name)).toMatchObject({ windowSeconds: 3600, successRate: 0 });
  expect(health(flaky.name).calls).toBeGreaterThanOrEqual(3);
  expect(health(steady.name)).toMatchObject({ windowSeconds: 3600, calls: 3, successRate: 1 });
  expect(health(steady.name).p95LatencyMs).toEqual(expect.any(Number));
  expect(health(idle.name)).toEqual({ windowSeconds: 3600, calls: 0, successRate: null, p95LatencyMs: null });
  const one = await support.get(`/v1/suppliers/${steady.id}`);
  expect(one.body.health).toEqual(health(steady.name));
});
