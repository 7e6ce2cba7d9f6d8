// 200 orders against three suppliers under a seeded random mix of every fault the
// simulator has: every order ends, no unit is delivered twice, every sale a supplier made
// is a unit the platform delivered from it, and the money balances to the minor unit.
import { randomUUID } from 'node:crypto';
import { type FaultMix } from '../../scripts/lib/supplier-sim';
import { adminKey, createClientViaApi } from '../support/clients';
import { clientFor } from '../support/http';
import { PRICE, waitForTerminal } from '../support/orders';
import { addRoute, addSupplier, type SimSupplier, stackWithSuppliers } from '../support/suppliers';

jest.setTimeout(240_000);

const env = stackWithSuppliers();

const SEED = Number(process.env.FAULT_MIX_SEED ?? 20261129);
const PHONE = '1[3-9]\\d{9}';
const RATES: FaultMix['rates'] = {
  error_500: 0.05,
  reset: 0.05,
  timeout: 0.03,
  lost_response: 0.06,
  out_of_stock: 0.04,
  price_rise: 0.03,
  invalid_key: 0.03,
  async_callback: 0.05,
  async_duplicate: 0.03,
  async_silent: 0.03,
  async_never: 0.02,
};
// The Reloadly-shaped mode has no asynchronous or bad-key faults.
const TRANSPORT_RATES: FaultMix['rates'] = {
  error_500: 0.06,
  reset: 0.06,
  timeout: 0.03,
  lost_response: 0.08,
  out_of_stock: 0.04,
};
const FAST = { timeoutMs: 500, callbackDeadlineMs: 1_000 };

test(`200 orders under a seeded fault mix (seed ${SEED}) settle exactly`, async () => {
  const admin = clientFor(env.stack.url, await adminKey(env.stack));
  const tag = randomUUID().slice(0, 8);
  const cardSku = `mix-card-${tag}`;
  const topupSku = `mix-topup-${tag}`;
  for (const [sku, kind] of [
    [cardSku, 'card_key'],
    [topupSku, 'direct_topup'],
  ] as const) {
    const res = await admin.post('/v1/products', {
      sku,
      name: sku,
      kind,
      price: { minor: PRICE, currency: 'CNY' },
      ...(kind === 'direct_topup' ? { accountPattern: PHONE } : {}),
    });
    expect(res.status).toBe(201);
  }
  const stockOf = { kind: 'card_key' as const, costMinor: 1000, stock: 1000 };
  const topupOf = { kind: 'direct_topup' as const, costMinor: 1000, stock: 1000, accountPattern: PHONE };
  const a = await addSupplier(env.sim.url, admin, { products: { CARD: stockOf, TOPUP: topupOf }, settings: FAST });
  const b = await addSupplier(env.sim.url, admin, { products: { CARD: stockOf, TOPUP: topupOf }, settings: FAST });
  const c = await addSupplier(env.sim.url, admin, {
    protocol: 'reloadly',
    products: { '120': stockOf, '341': topupOf },
    settings: FAST,
  });
  await a.setFaults({ rules: [], mix: { seed: SEED, rates: RATES } });
  await b.setFaults({ rules: [], mix: { seed: SEED + 1, rates: RATES, callbackDelayMs: 300 } });
  await c.setFaults({ rules: [], mix: { seed: SEED + 2, rates: TRANSPORT_RATES } });
  for (const [priority, supplier] of [a, b, c].entries()) {
    const reloadly = supplier === c;
    await addRoute(admin, cardSku, supplier, { productCode: reloadly ? '120@10' : 'CARD', costMinor: 1000, priority });
    await addRoute(admin, topupSku, supplier, {
      productCode: reloadly ? '341@10@CN' : 'TOPUP',
      costMinor: 1000,
      priority,
    });
  }

  const shop = await createClientViaApi(env.stack, 'order-system');
  const TOP_UP = 1_000 * PRICE;
  await admin.post(`/v1/clients/${shop.id}/topups`, { amount: { minor: TOP_UP, currency: 'CNY' } });
  const api = clientFor(env.stack.url, shop.apiKey);

  // 150 one-key orders, 30 three-key orders that accept partial delivery, 20 top-ups.
  const bodies = Array.from({ length: 200 }, (_, i) => {
    const item =
      i % 10 === 0
        ? { sku: topupSku, quantity: 1, account: `1380013${String(i).padStart(4, '0')}` }
        : { sku: cardSku, quantity: i % 10 < 4 && i % 10 > 1 && i < 150 ? 3 : 1 };
    return {
      externalOrderId: `mix-${i}`,
      buyer: { id: `buyer-${i}`, ip: '203.0.113.7' }, // one each: risk control's velocity limits are not this test's subject
      items: [item],
      ...(item.quantity > 1 ? { allowPartial: true } : {}),
    };
  });
  const ids: string[] = [];
  for (let i = 0; i < bodies.length; i += 25) {
    const placed = await Promise.all(bodies.slice(i, i + 25).map((body) => api.post('/v1/orders', body)));
    for (const p of placed) {
      expect(p.status).toBe(202);
      ids.push(p.body.id);
    }
  }
  const orders: any[] = [];
  for (const id of ids) orders.push(await waitForTerminal(api, id, 180_000));

  // Every order ended; no order is left without a reason unless delivered.
  const byStatus = (s: string) => orders.filter((o) => o.status === s).length;
  expect(byStatus('delivered') + byStatus('partially_delivered') + byStatus('refunded')).toBe(200);

  // No key serves two units, and every delivered unit holds its key or its top-up proof.
  const units = await env.stack.db.orderUnit.findMany({ where: { orderId: { in: ids } } });
  const delivered = units.filter((u) => u.status === 'delivered');
  const keys = delivered.flatMap((u) => (u.cardKeyId ? [u.cardKeyId] : []));
  expect(new Set(keys).size).toBe(keys.length);
  for (const u of delivered) expect(u.cardKeyId ?? u.supplierRef).toBeTruthy();

  // Each supplier's own ledger of sales is exactly the units the platform delivered from it.
  for (const supplier of [a, b, c] as SimSupplier[]) {
    const sold = (await supplier.sold()).sort();
    const fromIt = delivered
      .filter((u) => u.supplierId === supplier.id)
      .map((u) => u.id)
      .sort();
    expect(sold).toEqual(fromIt);
  }

  // Money: the shop paid for exactly the delivered units.
  expect((await api.get('/v1/balance')).body.available.minor).toBe(TOP_UP - delivered.length * PRICE);
  const faultsSeen = new Set(
    (await env.stack.db.sourcingAttempt.findMany({ where: { unitId: { in: units.map((u) => u.id) } } })).map(
      (x) => x.outcome,
    ),
  );
  // The mix really exercised the hard paths.
  for (const outcome of ['ambiguous', 'found_on_lookup', 'pending', 'invalid_key', 'cancelled']) {
    expect(faultsSeen).toContain(outcome);
  }
});
