// Direct top-ups (nothing to claim: the supplier credits the buyer's account) through the
// reference protocol and the Reloadly-shaped API, and Reloadly gift cards with their token.
import { randomUUID } from 'node:crypto';
import { createClientViaApi } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { rowCounts } from '../support/row-counts';
import { addRoute, addSupplier, type SimSupplier, stackWithSuppliers } from '../support/suppliers';

const env = stackWithSuppliers();

const PHONE = '1[3-9]\\d{9}';

/** A direct top-up product (mobile credit) and a shop with a balance. */
async function topupShop() {
  const sku = `topup-${randomUUID().slice(0, 8)}`;
  const product = await env.admin.post('/v1/products', {
    sku,
    name: 'Mobile credit 10 CNY',
    kind: 'direct_topup',
    price: { minor: PRICE, currency: 'CNY' },
    accountPattern: PHONE,
  });
  expect(product.status).toBe(201);
  const shop = await createClientViaApi(env.stack, 'order-system');
  await env.admin.post(`/v1/clients/${shop.id}/topups`, { amount: { minor: 10 * PRICE, currency: 'CNY' } });
  return { sku, api: clientFor(env.stack.url, shop.apiKey) };
}

const topupOrder = (sku: string, account: string) => ({
  externalOrderId: `ext-${randomUUID()}`,
  buyer: { id: 'buyer-1', ip: '203.0.113.7' },
  items: [{ sku, quantity: 1, account }],
});

async function expectCredited(api: ReturnType<typeof clientFor>, sku: string, supplier: SimSupplier) {
  const placed = await api.post('/v1/orders', topupOrder(sku, '13800138000'));
  expect(placed.status).toBe(202);
  const order = await waitForTerminal(api, placed.body.id, 60_000);
  expect(order.status).toBe('delivered');
  const unit = order.items[0].units[0];
  expect(order.items[0].account).toBe('13800138000');
  expect(unit.source).toEqual({ kind: 'supplier', supplier: supplier.name });
  const { sales } = await supplier.report();
  expect(sales).toEqual([expect.objectContaining({ reference: unit.id, account: '13800138000', status: 'succeeded' })]);
  expect(unit.supplierTransactionId).toBe(sales[0]!.transactionId);
  // Nothing to claim: the claim says so.
  const claim = await clientFor(env.stack.url).get(new URL(order.claimUrl).pathname);
  expect(claim.body.items).toEqual([
    expect.objectContaining({ sku, kind: 'direct_topup', account: '13800138000', credited: 1 }),
  ]);
  expect((await api.get('/v1/balance')).body.available.minor).toBe(9 * PRICE);
}

test('a direct top-up through the reference protocol credits the account', async () => {
  const { sku, api } = await topupShop();
  const supplier = await addSupplier(env.sim.url, env.admin, {
    products: { 'CM-10': { kind: 'direct_topup', costMinor: 1000, stock: 10, accountPattern: PHONE } },
  });
  await addRoute(env.admin, sku, supplier, { productCode: 'CM-10', costMinor: 1000 });
  await expectCredited(api, sku, supplier);
});

test('a direct top-up through the Reloadly-shaped API credits the phone number', async () => {
  const { sku, api } = await topupShop();
  const supplier = await addSupplier(env.sim.url, env.admin, {
    protocol: 'reloadly',
    products: { '341': { kind: 'direct_topup', costMinor: 1000, stock: 10, accountPattern: PHONE } },
  });
  await addRoute(env.admin, sku, supplier, { productCode: '341@10@CN', costMinor: 1000 });
  await expectCredited(api, sku, supplier);
});

test('a top-up needs an account that matches the product; a card key takes none; nothing is written', async () => {
  const { sku, api } = await topupShop();
  const card = await shopWithStock(env.stack, { stock: 1, topUp: 0 });
  const before = await rowCounts(env.stack.db);
  const missing = await api.post('/v1/orders', { ...topupOrder(sku, 'x'), items: [{ sku, quantity: 1 }] });
  expectProblem(missing, 422, 'invalid_account');
  expectProblem(await api.post('/v1/orders', topupOrder(sku, '12345')), 422, 'invalid_account');
  expectProblem(await api.post('/v1/orders', topupOrder(card.sku, '13800138000')), 422, 'invalid_account');
  expect(await rowCounts(env.stack.db)).toEqual(before);
});

test('Reloadly gift cards: the key is fetched by transaction, the token is reused, a lost answer is found by customIdentifier', async () => {
  const shop = await shopWithStock(env.stack, { stock: 0, topUp: 10 * PRICE });
  const supplier = await addSupplier(env.sim.url, env.admin, {
    protocol: 'reloadly',
    products: { '120': { kind: 'card_key', costMinor: 1200, stock: 10 } },
  });
  await addRoute(env.admin, shop.sku, supplier, { productCode: '120@12', costMinor: 1200 });
  await supplier.setFaults({ rules: [{ kind: 'lost_response', times: 1 }] });

  const orders = [];
  for (let i = 0; i < 3; i++) {
    const placed = await shop.api.post('/v1/orders', {
      externalOrderId: `ext-${randomUUID()}`,
      buyer: { id: 'b', ip: '203.0.113.7' },
      items: [{ sku: shop.sku, quantity: 1 }],
    });
    orders.push(await waitForTerminal(shop.api, placed.body.id, 60_000));
  }
  expect(orders.map((o) => o.status)).toEqual(['delivered', 'delivered', 'delivered']);
  expect(orders[0].items[0].units[0].attempts.map((a: any) => a.outcome)).toEqual(['ambiguous', 'found_on_lookup']);
  const report = await supplier.report();
  expect(report.sales).toHaveLength(3);
  // One token served every call of the three orders: it is cached until shortly before it expires.
  expect(report.stats.tokenIssued).toBe(1);
  const claim = await clientFor(env.stack.url).get(new URL(orders[0].claimUrl).pathname);
  expect(claim.body.items[0].codes).toEqual([expect.stringMatching(/^SIM-.+ PIN \d{4}$/)]);
});
