// Supplier routing and fallback, end to end: orders through the API, a real worker, the
// simulator over real HTTP. Each test has its own product, shop and suppliers.
import { clientFor } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { addRoute, addSupplier, type SimSupplier, stackWithSuppliers } from '../support/suppliers';

const env = stackWithSuppliers();

const CARD = { kind: 'card_key' as const, costMinor: 1000, stock: 100 };

/** A shop with no own stock for a fresh product, and suppliers routed in the given order. */
async function routedShop(
  routes: { products?: Record<string, typeof CARD>; settings?: Record<string, unknown> }[],
  stock = 0,
) {
  const shop = await shopWithStock(env.stack, { stock, topUp: 20 * PRICE });
  const suppliers: SimSupplier[] = [];
  for (const [i, r] of routes.entries()) {
    const supplier = await addSupplier(env.sim.url, env.admin, {
      products: r.products ?? { 'VIP-1M': CARD },
      ...(r.settings ? { settings: r.settings } : {}),
    });
    await addRoute(env.admin, shop.sku, supplier, { productCode: 'VIP-1M', costMinor: 1000, priority: (i + 1) * 10 });
    suppliers.push(supplier);
  }
  return { ...shop, suppliers };
}

async function placeAndSettle(api: ReturnType<typeof clientFor>, body: object) {
  const placed = await api.post('/v1/orders', body);
  expect(placed.status).toBe(202);
  return waitForTerminal(api, placed.body.id, 60_000);
}

const attemptsOf = (order: any) => order.items.flatMap((i: any) => i.units.flatMap((u: any) => u.attempts ?? []));
const outcomes = (order: any) => attemptsOf(order).map((a: any) => `${a.supplier}:${a.outcome}`);
const unitIds = (order: any): string[] => order.items.flatMap((i: any) => i.units.map((u: any) => u.id));

test('primary down: the second supplier delivers, and the unit shows both', async () => {
  const { api, sku, suppliers } = await routedShop([{}, {}]);
  const [primary, second] = suppliers as [SimSupplier, SimSupplier];
  await primary.setFaults({ rules: [{ kind: 'error_500', on: 'any' }] });

  const order = await placeAndSettle(api, orderBody(sku));
  expect(order.status).toBe('delivered');
  const seen = outcomes(order);
  expect(seen.filter((o: string) => o === `${primary.name}:failed`).length).toBeGreaterThanOrEqual(1);
  expect(seen.at(-1)).toBe(`${second.name}:delivered`);
  expect(order.items[0].units[0].source).toEqual({ kind: 'supplier', supplier: second.name });
  expect(await primary.sold()).toEqual([]);
  expect(await second.sold()).toEqual(unitIds(order));

  // The bought key is the one the buyer claims, revealed once.
  const claim = await clientFor(env.stack.url).get(new URL(order.claimUrl).pathname);
  expect(claim.body.items[0].codes).toEqual([expect.stringMatching(/^SIM-/)]);
});

test('a lost answer that hid a sale: the lookup finds it, and the unit is bought once', async () => {
  const { api, sku, suppliers } = await routedShop([{}, {}]);
  const [primary, second] = suppliers as [SimSupplier, SimSupplier];
  await primary.setFaults({ rules: [{ kind: 'lost_response', times: 1 }] });

  const order = await placeAndSettle(api, orderBody(sku));
  expect(order.status).toBe('delivered');
  expect(outcomes(order)).toEqual([`${primary.name}:ambiguous`, `${primary.name}:found_on_lookup`]);
  expect(await primary.sold()).toEqual(unitIds(order));
  expect((await primary.report()).sales).toHaveLength(1);
  expect(await second.sold()).toEqual([]);
});

test('a timeout that hid a sale behind a slow answer is looked up too, never bought twice', async () => {
  const { api, sku, suppliers } = await routedShop([{}, {}]);
  const [primary, second] = suppliers as [SimSupplier, SimSupplier];
  // The order is sold after 1.5 s; the platform gives up after 1 s.
  await primary.setFaults({ rules: [{ kind: 'latency', latencyMs: 1500, times: 1 }] });

  const order = await placeAndSettle(api, orderBody(sku));
  expect(order.status).toBe('delivered');
  expect(outcomes(order)[0]).toBe(`${primary.name}:ambiguous`);
  expect((await primary.report()).sales).toHaveLength(1);
  expect(await primary.sold()).toEqual(unitIds(order));
  expect(await second.sold()).toEqual([]);
});

test('every route fails: the order is refunded in full, with the reasons on the unit', async () => {
  const soldOut = { 'VIP-1M': { ...CARD, stock: 0 } };
  const { api, sku, suppliers } = await routedShop([{ products: soldOut }, { products: soldOut }]);
  const order = await placeAndSettle(api, orderBody(sku));
  expect(order.status).toBe('refunded');
  expect(order.history.at(-1).reason).toBe(
    'unavailable: 1 of 1 units could not be obtained from stock or any supplier',
  );
  expect(outcomes(order)).toEqual(suppliers.map((s) => `${s.name}:out_of_stock`));
  expect((await api.get('/v1/balance')).body.available.minor).toBe(20 * PRICE);
});

test('a live price above the product price skips that route; the next one is used', async () => {
  const { api, sku, suppliers } = await routedShop([{}, {}]);
  const [primary, second] = suppliers as [SimSupplier, SimSupplier];
  await primary.setProduct('VIP-1M', { costMinor: PRICE + 1 });

  const order = await placeAndSettle(api, orderBody(sku));
  expect(order.status).toBe('delivered');
  expect(outcomes(order)).toEqual([`${primary.name}:price_above_limit`, `${second.name}:delivered`]);
  expect(await primary.sold()).toEqual([]);
  // Staff see what each attempt would have cost; the shop does not.
  const staffView = (await env.admin.get(`/v1/orders/${order.id}`)).body;
  expect(attemptsOf(staffView)[0].costMinor).toBe(PRICE + 1);
  expect(attemptsOf(order)[0].costMinor).toBeUndefined();
});

test('a route whose recorded cost is above the price is never called', async () => {
  const { api, sku, suppliers } = await routedShop([{}, {}]);
  const [primary, second] = suppliers as [SimSupplier, SimSupplier];
  await addRoute(env.admin, sku, primary, { productCode: 'VIP-1M', costMinor: PRICE + 500, priority: 10 });

  const order = await placeAndSettle(api, orderBody(sku));
  expect(order.status).toBe('delivered');
  expect(outcomes(order)).toEqual([`${primary.name}:price_above_limit`, `${second.name}:delivered`]);
  expect((await primary.report()).stats.quoteRequests).toBe(0);
});

test('five units of which three can be obtained: partially delivered, two refunded to the minor unit', async () => {
  // Two keys in own stock, one unit at the supplier, then nothing.
  const { api, sku, suppliers } = await routedShop([{ products: { 'VIP-1M': { ...CARD, stock: 1 } } }], 2);
  const order = await placeAndSettle(api, { ...orderBody(sku, 5), allowPartial: true });
  expect(order.status).toBe('partially_delivered');
  const units = order.items[0].units;
  expect(units.filter((u: any) => u.status === 'delivered')).toHaveLength(3);
  const refunded = units.filter((u: any) => u.status === 'refunded');
  expect(refunded).toHaveLength(2);
  for (const u of refunded) expect(u.reason).toMatch(/could not be obtained/);
  expect((await api.get('/v1/balance')).body.available.minor).toBe(20 * PRICE - 3 * PRICE);
  expect(await suppliers[0]!.sold()).toHaveLength(1);

  const claim = await clientFor(env.stack.url).get(new URL(order.claimUrl).pathname);
  expect(claim.status).toBe(200);
  expect(claim.body.items[0].codes).toHaveLength(3);
});

test('without allowPartial, a shortfall refunds everything and supplier-bought keys go to own stock', async () => {
  const { api, sku, suppliers } = await routedShop([{ products: { 'VIP-1M': { ...CARD, stock: 1 } } }]);
  const order = await placeAndSettle(api, orderBody(sku, 2));
  expect(order.status).toBe('refunded');
  expect((await api.get('/v1/balance')).body.available.minor).toBe(20 * PRICE);
  const [bought] = await suppliers[0]!.sold();
  const product = await env.stack.db.product.findUniqueOrThrow({ where: { sku } });
  // The key was paid for: it stays, available to the next order.
  expect(
    await env.stack.db.cardKey.count({
      where: { productId: product.id, status: 'available', sourceSupplierId: suppliers[0]!.id },
    }),
  ).toBe(1);
  expect(bought).toBeDefined();
});
