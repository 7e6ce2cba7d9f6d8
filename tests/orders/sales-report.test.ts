// GET /v1/reports/sales over a small known scenario, all through the public API against a real
// stack and the supplier simulator: own-stock keys with a batch cost, keys bought from a
// supplier at its price, a unit refunded after delivery, an order closed unfulfilled, a second
// currency with a batch of unknown cost, an order of two products, and orders on both edges of
// the range. Revenue, cost and margin are asserted per product and per channel (the shop that
// placed the orders), as JSON and CSV.
import { randomInt, randomUUID } from 'node:crypto';
import { createClientViaApi, staffApi } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { orderBody, uniqueCodes, waitForTerminal } from '../support/orders';
import { addRoute, addSupplier, stackWithSuppliers } from '../support/suppliers';

jest.setTimeout(120_000);

type Api = ReturnType<typeof clientFor>;

const env = stackWithSuppliers();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// The report reads orders by creation time; the scenario's orders are moved to a day of their
// own, so other files' orders (one database per run) never fall in its range.
const from = new Date(Date.UTC(2001, 0, 1) + randomInt(0, 3650) * DAY);
const to = new Date(from.getTime() + DAY);
const range = `from=${from.toISOString()}&to=${to.toISOString()}`;

const tag = randomUUID().slice(0, 8);
const products = {
  own: { sku: `sales-own-${tag}`, name: `${tag} 1 own stock`, price: 1500, currency: 'CNY' },
  bought: { sku: `sales-sup-${tag}`, name: `${tag} 2 from a supplier`, price: 2000, currency: 'CNY' },
  dollars: { sku: `sales-usd-${tag}`, name: `${tag} 3 in dollars`, price: 500, currency: 'USD' },
};
const BATCH_COST = 900;
const SUPPLIER_COST = 1200;
const shops = {
  a: { id: '', name: `${tag} shop A`, api: {} as Api },
  b: { id: '', name: `${tag} shop B`, api: {} as Api },
};

async function settled(api: Api, sku: string | string[], quantity: number, createdAt: Date, status = 'delivered') {
  const body = orderBody([sku].flat()[0]!, quantity);
  body.items = [sku].flat().map((s) => ({ sku: s, quantity }));
  const placed = await api.post('/v1/orders', body);
  expect(placed.status).toBe(202);
  const order = await waitForTerminal(api, placed.body.id, 60_000);
  expect(order.status).toBe(status);
  await env.stack.db.order.update({ where: { id: order.id }, data: { createdAt } });
  return order;
}

beforeAll(async () => {
  const { admin } = env;
  for (const p of Object.values(products)) {
    const res = await admin.post('/v1/products', {
      sku: p.sku,
      name: p.name,
      kind: 'card_key',
      price: { minor: p.price, currency: p.currency },
    });
    expect(res.status).toBe(201);
  }
  const own = await admin.post('/v1/inventory/batches', {
    sku: products.own.sku,
    keys: uniqueCodes(3),
    supplier: 'acme',
    costMinor: BATCH_COST,
  });
  expect(own.status).toBe(201);
  // No cost given at import: the unit sold from it has no known cost.
  expect((await admin.post('/v1/inventory/batches', { sku: products.dollars.sku, keys: uniqueCodes(1) })).status).toBe(
    201,
  );
  const supplier = await addSupplier(env.sim.url, admin, {
    products: { K: { kind: 'card_key', costMinor: SUPPLIER_COST, stock: 10 } },
  });
  await addRoute(admin, products.bought.sku, supplier, { productCode: 'K', costMinor: SUPPLIER_COST });
  for (const shop of Object.values(shops)) {
    const client = await createClientViaApi(env.stack, 'order-system', { name: shop.name });
    shop.id = client.id;
    shop.api = clientFor(env.stack.url, client.apiKey);
    for (const amount of [
      { minor: 20_000, currency: 'CNY' },
      { minor: 5_000, currency: 'USD' },
    ]) {
      expect((await admin.post(`/v1/clients/${client.id}/topups`, { amount })).status).toBe(201);
    }
  }

  // Shop A: two own-stock units, one refunded after delivery; one bought unit; dollars.
  const two = await settled(shops.a.api, products.own.sku, 2, new Date(from.getTime() + HOUR));
  const refund = await admin.post(`/v1/orders/${two.id}/refunds`, {
    unitIds: [two.items[0].units[0].id],
    reason: 'the buyer changed their mind',
  });
  expect({ status: refund.status, outcome: refund.body.status }).toEqual({ status: 200, outcome: 'refunded' });
  await settled(shops.a.api, products.bought.sku, 1, new Date(from.getTime() + 2 * HOUR));
  // Two dollar units with one key in stock and no supplier: the order is closed unfulfilled
  // (refunded, its key back on the shelf), and the next order of one unit gets that key.
  await settled(shops.a.api, products.dollars.sku, 2, new Date(from.getTime() + 3 * HOUR), 'refunded');
  await settled(shops.a.api, products.dollars.sku, 1, new Date(from.getTime() + 4 * HOUR));
  // Shop B: one bought unit at the range's first instant (in it), one at its end (not in it).
  await settled(shops.b.api, products.bought.sku, 1, from);
  await settled(shops.b.api, products.bought.sku, 1, to);
  // On the next day, one order of both CNY products.
  await settled(shops.b.api, [products.own.sku, products.bought.sku], 1, new Date(to.getTime() + HOUR));
});

const totals = [
  // 1,500 + 2 × 2,000 kept; 2 × 900 + 2 × 1,200 paid; 1,300 ÷ 5,500 = 0.23636…
  {
    currency: 'CNY',
    orders: 3,
    unitsDelivered: 3,
    unitsRefunded: 1,
    revenueMinor: 5500,
    costMinor: 4200,
    marginMinor: 1300,
    marginRate: 0.2364,
  },
  // The order closed unfulfilled gave both its units' price back.
  {
    currency: 'USD',
    orders: 2,
    unitsDelivered: 1,
    unitsRefunded: 2,
    revenueMinor: 500,
    costMinor: 0,
    marginMinor: 500,
    marginRate: 1,
  },
];

test('per product: revenue kept, cost paid (a refunded unit still cost its key), margin, per currency', async () => {
  const res = await env.admin.get(`/v1/reports/sales?${range}&groupBy=product`);
  expect(res.status).toBe(200);
  const row = (p: (typeof products)[keyof typeof products]) => ({ key: p.sku, label: p.name, currency: p.currency });
  expect(res.body).toEqual({
    from: from.toISOString(),
    to: to.toISOString(),
    groupBy: 'product',
    rows: [
      // Two units of 1,500 delivered, one refunded: 1,500 kept; both keys cost 900.
      {
        ...row(products.own),
        orders: 1,
        unitsDelivered: 1,
        unitsRefunded: 1,
        revenueMinor: 1500,
        costMinor: 1800,
        marginMinor: -300,
        marginRate: -0.2,
        unitsWithoutCost: 0,
      },
      // Shop A's unit and shop B's at the range's start; B's at its end is not counted.
      {
        ...row(products.bought),
        orders: 2,
        unitsDelivered: 2,
        unitsRefunded: 0,
        revenueMinor: 4000,
        costMinor: 2400,
        marginMinor: 1600,
        marginRate: 0.4,
        unitsWithoutCost: 0,
      },
      {
        ...row(products.dollars),
        orders: 2,
        unitsDelivered: 1,
        unitsRefunded: 2,
        revenueMinor: 500,
        costMinor: 0,
        marginMinor: 500,
        marginRate: 1,
        unitsWithoutCost: 1,
      },
    ],
    totals,
  });
  // groupBy defaults to product.
  expect((await env.admin.get(`/v1/reports/sales?${range}`)).body).toEqual(res.body);
});

test('per channel: the order system that placed the orders, one row per currency', async () => {
  const res = await env.admin.get(`/v1/reports/sales?${range}&groupBy=channel`);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    from: from.toISOString(),
    to: to.toISOString(),
    groupBy: 'channel',
    rows: [
      // 1,500 + 2,000 kept; 1,800 + 1,200 paid; 500 ÷ 3,500 = 0.142857…
      {
        key: shops.a.id,
        label: shops.a.name,
        currency: 'CNY',
        orders: 2,
        unitsDelivered: 2,
        unitsRefunded: 1,
        revenueMinor: 3500,
        costMinor: 3000,
        marginMinor: 500,
        marginRate: 0.1429,
        unitsWithoutCost: 0,
      },
      {
        key: shops.a.id,
        label: shops.a.name,
        currency: 'USD',
        orders: 2,
        unitsDelivered: 1,
        unitsRefunded: 2,
        revenueMinor: 500,
        costMinor: 0,
        marginMinor: 500,
        marginRate: 1,
        unitsWithoutCost: 1,
      },
      {
        key: shops.b.id,
        label: shops.b.name,
        currency: 'CNY',
        orders: 1,
        unitsDelivered: 1,
        unitsRefunded: 0,
        revenueMinor: 2000,
        costMinor: 1200,
        marginMinor: 800,
        marginRate: 0.4,
        unitsWithoutCost: 0,
      },
    ],
    totals,
  });
});

test('as CSV: a header and the same figures, a line per row', async () => {
  const res = await env.admin.get(`/v1/reports/sales?${range}&groupBy=channel`, { headers: { accept: 'text/csv' } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(res.text.trimEnd().split('\n')).toEqual([
    'key,label,currency,orders,units_delivered,units_refunded,revenue_minor,cost_minor,margin_minor,margin_rate,units_without_cost',
    `${shops.a.id},${shops.a.name},CNY,2,2,1,3500,3000,500,0.1429,0`,
    `${shops.a.id},${shops.a.name},USD,2,1,2,500,0,500,1,1`,
    `${shops.b.id},${shops.b.name},CNY,1,1,0,2000,1200,800,0.4,0`,
  ]);
  const byProduct = await env.admin.get(`/v1/reports/sales?${range}`, { headers: { accept: 'text/csv' } });
  expect(byProduct.text.trimEnd().split('\n').slice(1)).toEqual([
    `${products.own.sku},${products.own.name},CNY,1,1,1,1500,1800,-300,-0.2,0`,
    `${products.bought.sku},${products.bought.name},CNY,2,2,0,4000,2400,1600,0.4,0`,
    `${products.dollars.sku},${products.dollars.name},USD,2,1,2,500,0,500,1,1`,
  ]);
});

test('an order of two products: each product gets what the ledger kept for its delivered units', async () => {
  const nextDay = `from=${to.toISOString()}&to=${new Date(to.getTime() + DAY).toISOString()}`;
  const res = await env.admin.get(`/v1/reports/sales?${nextDay}`);
  expect(res.status).toBe(200);
  const figures = { orders: 1, unitsDelivered: 1, unitsRefunded: 0, unitsWithoutCost: 0 };
  expect(res.body.rows).toEqual([
    {
      key: products.own.sku,
      label: products.own.name,
      currency: 'CNY',
      ...figures,
      revenueMinor: 1500,
      costMinor: 900,
      marginMinor: 600,
      marginRate: 0.4,
    },
    // This order's unit and shop B's order placed at the previous range's end.
    {
      key: products.bought.sku,
      label: products.bought.name,
      currency: 'CNY',
      ...figures,
      orders: 2,
      unitsDelivered: 2,
      revenueMinor: 4000,
      costMinor: 2400,
      marginMinor: 1600,
      marginRate: 0.4,
    },
  ]);
  // The order of two products is counted once in the totals.
  expect(res.body.totals).toEqual([
    {
      currency: 'CNY',
      orders: 2,
      unitsDelivered: 3,
      unitsRefunded: 0,
      revenueMinor: 5500,
      costMinor: 3300,
      marginMinor: 2200,
      marginRate: 0.4,
    },
  ]);
});

test('a range with no orders has no rows and no totals', async () => {
  const res = await env.admin.get('/v1/reports/sales?from=1980-01-01T00:00:00Z&to=1980-01-02T00:00:00Z');
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    from: '1980-01-01T00:00:00.000Z',
    to: '1980-01-02T00:00:00.000Z',
    groupBy: 'product',
    rows: [],
    totals: [],
  });
});

test('is for admins, with a known grouping over a valid range', async () => {
  expectProblem(await (await staffApi(env.stack, 'support')).get(`/v1/reports/sales?${range}`), 403, 'forbidden');
  expectProblem(await shops.a.api.get(`/v1/reports/sales?${range}`), 403, 'forbidden');
  expectProblem(await env.admin.get(`/v1/reports/sales?${range}&groupBy=supplier`), 422, 'validation_failed');
  expectProblem(await env.admin.get(`/v1/reports/sales?${range}&groupBy=`), 422, 'validation_failed');
  expectProblem(
    await env.admin.get(`/v1/reports/sales?from=${to.toISOString()}&to=${from.toISOString()}`),
    422,
    'validation_failed',
  );
  expectProblem(await env.admin.get(`/v1/reports/sales?from=${from.toISOString()}`), 422, 'validation_failed');
});
