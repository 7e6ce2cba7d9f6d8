// Supplier reconciliation against the simulator over real HTTP, rounds run by the real
// workflow on the real Temporal server: every sale in a supplier's own record is matched to a
// platform unit. A sale whose answer the platform lost (and whose lookup never answered) is
// found and disputed; sales for refunded units, costs billed otherwise than recorded and
// sales the platform never made are reported (admin report, JSON and CSV; metric); a second
// round records nothing new. The same round asks the supplier which keys it sold were redeemed.
import { randomUUID } from 'node:crypto';
import { credentialsOf } from '../../store/suppliers/registry';
import { ensureSupplierReconciliationSchedule } from '../../workers/schedules';
import type { SupplierReconciliationResult } from '../../workflows/supplier-reconciliation';
import { clientFor, expectProblem, request } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { addRoute, addSupplier, type SimSupplier, stackWithSuppliers } from '../support/suppliers';
import { waitFor } from '../support/wait';

jest.setTimeout(240_000);

const env = stackWithSuppliers();
const CARD = { kind: 'card_key' as const, costMinor: 1000, stock: 50 };
const DAY = 86_400_000;

/** One round for these suppliers only (suites share the database: others' suppliers are not this test's). */
function reconcile(...suppliers: SimSupplier[]): Promise<SupplierReconciliationResult> {
  return env.stack.deps.temporal.workflow.execute('supplierReconciliationWorkflow', {
    taskQueue: env.stack.taskQueue,
    workflowId: `reconcile-${randomUUID()}`,
    args: [{ supplierIds: suppliers.map((s) => s.id) }],
  });
}

/** A change the supplier makes to a sale on its side (what it bills, a redemption). */
async function supplierChangesSale(s: SimSupplier, reference: string, patch: Record<string, unknown>) {
  const res = await request(env.sim.url, 'PATCH', `/admin/suppliers/${s.name}/sales/${reference}`, patch);
  expect(res.status).toBe(200);
}

const findingsOf = (s: SimSupplier) =>
  env.stack.db.supplierSaleFinding.findMany({ where: { supplierId: s.id }, orderBy: { kind: 'asc' } });

async function deliveredFrom(shop: Awaited<ReturnType<typeof shopWithStock>>, timeoutMs = 60_000) {
  const placed = await shop.api.post('/v1/orders', orderBody(shop.sku));
  expect(placed.status).toBe(202);
  const order = await waitForTerminal(shop.api, placed.body.id, timeoutMs);
  expect(order.status).toBe('delivered');
  return { order, unitId: order.items[0].units[0].id as string };
}

async function metricLines(): Promise<string[]> {
  const res = await request(env.stack.url, 'GET', '/metrics');
  return res.text.split('\n').filter((l) => l.startsWith('rights_supplier_sales_unmatched{'));
}

test('a sale whose answer was lost and whose lookup never answered is found as an orphan, disputed, and recorded once', async () => {
  const shop = await shopWithStock(env.stack, { stock: 0, topUp: 10 * PRICE });
  const lost = await addSupplier(env.sim.url, env.admin, { products: { P: CARD } });
  const next = await addSupplier(env.sim.url, env.admin, { products: { P: CARD } });
  await addRoute(env.admin, shop.sku, lost, { productCode: 'P', costMinor: 1000, priority: 0 });
  await addRoute(env.admin, shop.sku, next, { productCode: 'P', costMinor: 1000, priority: 1 });
  // The supplier sells, the answer never arrives, and its lookup fails until the unit moves on.
  await lost.setFaults({
    rules: [
      { kind: 'lost_response', times: 1 },
      { kind: 'error_500', on: 'lookup' },
    ],
  });

  const { order, unitId } = await deliveredFrom(shop, 200_000);
  const attempts = order.items[0].units[0].attempts.map((a: any) => `${a.supplier}:${a.outcome}`);
  expect(attempts).toContain(`${lost.name}:unresolved`);
  expect(attempts[attempts.length - 1]).toBe(`${next.name}:delivered`);
  // The first supplier did sell it: a sale the platform holds no unit for.
  expect(await lost.sold()).toEqual([unitId]);
  await lost.setFaults({ rules: [] });

  const first = await reconcile(lost, next);
  const round = first.suppliers.find((s) => s.supplierId === lost.id)!.sales;
  expect(round).toMatchObject({ found: 1, disputed: 1 });
  expect(first.suppliers.find((s) => s.supplierId === next.id)!.sales).toMatchObject({ sales: 1, found: 0 });

  const [orphan, ...others] = await findingsOf(lost);
  expect(others).toEqual([]);
  expect(orphan).toMatchObject({
    kind: 'orphan',
    reference: unitId,
    unitId,
    orderId: order.id,
    saleStatus: 'succeeded',
    saleCostMinor: 1000,
    action: 'disputed',
    resolvedAt: expect.any(Date),
  });
  expect(orphan!.detail).toMatch(/delivered and holds another supplier/);
  expect(await findingsOf(next)).toEqual([]);
  // The supplier was told: it refunds the sale, which its record now shows.
  expect((await lost.report()).sales.map((s) => s.status)).toEqual(['disputed']);

  // A second round (and a third) finds the same record and writes nothing new.
  await reconcile(lost, next);
  const again = await reconcile(lost, next);
  expect(again.suppliers.find((s) => s.supplierId === lost.id)!.sales).toMatchObject({ sales: 1, found: 0 });
  expect(await findingsOf(lost)).toEqual([orphan]);

  const range = `from=${new Date(Date.now() - DAY).toISOString()}&to=${new Date(Date.now() + DAY).toISOString()}`;
  const report = await env.admin.get(`/v1/reports/supplier-reconciliation?${range}`);
  expect(report.status).toBe(200);
  expect(report.body.findings.filter((f: any) => f.supplier.name === lost.name)).toEqual([
    expect.objectContaining({
      kind: 'orphan',
      reference: unitId,
      orderId: order.id,
      sale: expect.objectContaining({ status: 'succeeded', costMinor: 1000 }),
      action: 'disputed',
    }),
  ]);
  const csv = await env.admin.get(`/v1/reports/supplier-reconciliation?${range}`, { headers: { accept: 'text/csv' } });
  expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(csv.text.split('\n')[0]).toMatch(/^found_at,supplier,kind,reference,transaction_id/);
  expect(csv.text).toContain(`,${lost.name},orphan,${unitId},`);
  // Bad ranges are refused as every report's are; only an admin reads it.
  expectProblem(
    await env.admin.get('/v1/reports/supplier-reconciliation?from=yesterday&to=now'),
    422,
    'validation_failed',
  );
  expectProblem(await shop.api.get(`/v1/reports/supplier-reconciliation?${range}`), 403, 'forbidden');
  // Settled by the dispute: nothing open for the metric.
  expect((await metricLines()).filter((l) => l.includes(lost.name))).toEqual([]);
});

test('sales for refunded units, costs billed otherwise than recorded and sales the platform never made are found once each', async () => {
  const shop = await shopWithStock(env.stack, { stock: 0, topUp: 10 * PRICE });
  const ref = await addSupplier(env.sim.url, env.admin, { products: { P: CARD } });
  await addRoute(env.admin, shop.sku, ref, { productCode: 'P', costMinor: 1000 });
  const refunded = await deliveredFrom(shop);
  const repriced = await deliveredFrom(shop);
  const matched = await deliveredFrom(shop);
  const refund = await env.admin.post(`/v1/orders/${refunded.order.id}/refunds`, { reason: 'buyer changed mind' });
  expect(refund.status).toBeLessThan(300);
  await waitFor(
    async () =>
      (await env.stack.db.orderUnit.findUniqueOrThrow({ where: { id: refunded.unitId } })).status === 'refunded',
    'the refund',
  );
  await supplierChangesSale(ref, repriced.unitId, { costMinor: 1234 });

  // Reloadly: one sale through the platform, one the platform never made (another system on
  // the same account), found through its transaction report.
  const rl = await addSupplier(env.sim.url, env.admin, { protocol: 'reloadly', products: { '120': CARD } });
  const rlShop = await shopWithStock(env.stack, { stock: 0, topUp: 10 * PRICE });
  await addRoute(env.admin, rlShop.sku, rl, { productCode: '120@10', costMinor: 1000 });
  await deliveredFrom(rlShop);
  const stranger = randomUUID();
  await sellOutsideThePlatform(rl, stranger);

  const first = await reconcile(ref, rl);
  expect(first.suppliers.find((s) => s.supplierId === ref.id)!.sales).toMatchObject({ sales: 3, found: 2 });
  expect(first.suppliers.find((s) => s.supplierId === rl.id)!.sales).toMatchObject({ sales: 2, found: 1 });
  expect(await findingsOf(ref)).toEqual([
    expect.objectContaining({ kind: 'unit_refunded', unitId: refunded.unitId, resolvedAt: null }),
    expect.objectContaining({
      kind: 'cost_differs',
      unitId: repriced.unitId,
      saleCostMinor: 1234,
      recordedCostMinor: 1000,
      resolvedAt: null,
    }),
  ]);
  expect((await findingsOf(ref)).some((f) => f.unitId === matched.unitId)).toBe(false);
  // Reloadly has no dispute: the orphan stays open for a person, with why.
  expect(await findingsOf(rl)).toEqual([
    expect.objectContaining({
      kind: 'orphan',
      reference: stranger,
      unitId: null,
      action: 'none',
      resolvedAt: null,
      detail: 'no unit of the platform has this reference',
    }),
  ]);
  expect((await metricLines()).filter((l) => l.includes(ref.name) || l.includes(rl.name)).sort()).toEqual(
    [
      `rights_supplier_sales_unmatched{supplier="${ref.name}",kind="cost_differs"} 1`,
      `rights_supplier_sales_unmatched{supplier="${ref.name}",kind="unit_refunded"} 1`,
      `rights_supplier_sales_unmatched{supplier="${rl.name}",kind="orphan"} 1`,
    ].sort(),
  );

  const second = await reconcile(ref, rl);
  for (const s of second.suppliers) expect(s.sales).toMatchObject({ found: 0 });
  expect(await env.stack.db.supplierSaleFinding.count({ where: { supplierId: { in: [ref.id, rl.id] } } })).toBe(3);

  // The supplier corrects its bill: the next round settles that finding, and the metric follows.
  await supplierChangesSale(ref, repriced.unitId, { costMinor: 1000 });
  await reconcile(ref);
  const costFinding = (await findingsOf(ref)).find((f) => f.kind === 'cost_differs')!;
  expect(costFinding.resolvedAt).toEqual(expect.any(Date));
  expect((await metricLines()).filter((l) => l.includes(ref.name))).toEqual([
    `rights_supplier_sales_unmatched{supplier="${ref.name}",kind="unit_refunded"} 1`,
  ]);
});

test('a key its supplier reports redeemed on lookup is marked redeemed by the round; the others stay delivered', async () => {
  const shop = await shopWithStock(env.stack, { stock: 0, topUp: 10 * PRICE });
  const ref = await addSupplier(env.sim.url, env.admin, { products: { P: CARD } });
  await addRoute(env.admin, shop.sku, ref, { productCode: 'P', costMinor: 1000 });
  const used = await deliveredFrom(shop);
  const unused = await deliveredFrom(shop);
  const keyOf = async (unitId: string) => {
    const unit = await env.stack.db.orderUnit.findUniqueOrThrow({ where: { id: unitId } });
    return env.stack.db.cardKey.findUniqueOrThrow({ where: { id: unit.cardKeyId! } });
  };
  const redeemedAt = new Date();
  await supplierChangesSale(ref, used.unitId, { redeemedAt: redeemedAt.toISOString() });

  const round = await reconcile(ref);
  expect(round.suppliers[0]!.redemptions).toEqual({ asked: 2, redeemed: 1 });
  const key = await keyOf(used.unitId);
  expect(key).toMatchObject({ status: 'redeemed', redeemedAt });
  expect(await keyOf(unused.unitId)).toMatchObject({ status: 'delivered', redeemedAt: null });
  const audit = await env.stack.db.auditLog.findMany({ where: { subjectId: key.id, action: 'card_key.redeemed' } });
  expect(audit.map((a) => a.actor)).toEqual([`supplier:${ref.name}`]);
});

test('a supplier record that cannot be read skips that supplier for the round, and the others go on', async () => {
  const shop = await shopWithStock(env.stack, { stock: 0, topUp: 10 * PRICE });
  const down = await addSupplier(env.sim.url, env.admin, { products: { P: CARD } });
  const up = await addSupplier(env.sim.url, env.admin, { products: { P: CARD } });
  await addRoute(env.admin, shop.sku, up, { productCode: 'P', costMinor: 1000 });
  await deliveredFrom(shop);
  await down.setFaults({ rules: [{ kind: 'error_500', on: 'sales' }] });
  const round = await reconcile(down, up);
  expect(round.suppliers.find((s) => s.supplierId === down.id)!.sales).toMatchObject({
    skipped: expect.stringMatching(/could not be read: GET .*\/sales: answered 500/),
  });
  expect(round.suppliers.find((s) => s.supplierId === up.id)!.sales).toMatchObject({ sales: 1, found: 0 });
});

/** A gift card bought on the supplier's own API by someone else: the platform never saw it. */
async function sellOutsideThePlatform(rl: SimSupplier, customIdentifier: string) {
  const base = `${env.sim.url}/reloadly/${rl.name}`;
  const row = await env.stack.db.supplier.findUniqueOrThrow({ where: { id: rl.id } });
  const creds = credentialsOf(env.stack.deps.keyring, row) as { clientId: string; clientSecret: string };
  const token = await request(base, 'POST', '/oauth/token', {
    client_id: creds.clientId,
    client_secret: creds.clientSecret,
    grant_type: 'client_credentials',
    audience: 'https://giftcards.reloadly.com',
  });
  const sold = await clientFor(base).post(
    '/orders',
    { productId: 120, quantity: 1, unitPrice: 10, customIdentifier, senderName: 'someone else' },
    { headers: { authorization: `Bearer ${token.body.access_token}` } },
  );
  expect(sold.status).toBe(200);
}

test('the supplier-reconciliation schedule is ensured with its interval, and a second start brings it to the new one', async () => {
  const temporal = env.stack.deps.temporal;
  const options = { taskQueue: env.stack.taskQueue, scheduleId: `supplier-reconciliation-${randomUUID()}` };
  const scheduleId = await ensureSupplierReconciliationSchedule(temporal, { ...options, everyMs: 3_600_000 });
  const schedule = temporal.schedule.getHandle(scheduleId);
  try {
    const first = await schedule.describe();
    expect(first.action).toMatchObject({ type: 'startWorkflow', workflowType: 'supplierReconciliationWorkflow' });
    expect(first.spec.intervals?.map((i) => i.every)).toEqual([3_600_000]);
    await ensureSupplierReconciliationSchedule(temporal, { ...options, everyMs: 7_200_000 });
    expect((await schedule.describe()).spec.intervals?.map((i) => i.every)).toEqual([7_200_000]);
  } finally {
    await schedule.delete();
  }
});
