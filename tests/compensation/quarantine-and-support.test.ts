// Bad sources stop selling, and support sees and acts on compensations: batch quarantine at the
// threshold (and not below), release and void; a supplier route paused by bad keys within the
// window; the alert metrics; the compensation list and each unit's history; the audited reveal.
// Keys are voided here as the compensation workflow does it: in a transaction that sets them
// void with a reason, then asks checkBadSourceInTx.
import { randomUUID } from 'node:crypto';
import type { CompensationStatus } from '@prisma/client';
import { checkBadSourceInTx } from '../../store/quarantine';
import { createClientViaApi } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { addRoute, addSupplier, stackWithSuppliers } from '../support/suppliers';

const logLines: string[] = [];
const env = stackWithSuppliers({ logDestination: { write: (line) => logLines.push(line) } });

type Api = ReturnType<typeof clientFor>;

let support: Api;
let supportName: string;
beforeAll(async () => {
  supportName = `support ${randomUUID().slice(0, 8)}`;
  support = clientFor(env.stack.url, (await createClientViaApi(env.stack, 'support', { name: supportName })).apiKey);
});

async function settled(api: Api, body: object) {
  const placed = await api.post('/v1/orders', body);
  expect(placed.status).toBe(202);
  return waitForTerminal(api, placed.body.id, 60_000);
}

async function keysOf(orderId: string) {
  const units = await env.stack.db.orderUnit.findMany({ where: { orderId }, orderBy: { createdAt: 'asc' } });
  return Promise.all(units.map((u) => env.stack.db.cardKey.findUniqueOrThrow({ where: { id: u.cardKeyId! } })));
}

/** What the compensation workflow does to a bad key, in one transaction. */
function voidAsBad(cardKeyId: string, options: { voidedHoursAgo?: number; unstamped?: boolean } = {}) {
  return env.stack.db.$transaction(async (tx) => {
    // `unstamped`: the time is left for the check to stamp (a second update of the key).
    await tx.$executeRaw`
      UPDATE card_keys SET status = 'void', void_reason = 'buyer: code already used',
             voided_at = CASE WHEN ${options.unstamped ?? false} THEN NULL
                              ELSE now() - make_interval(hours => ${options.voidedHoursAgo ?? 0}::int) END
       WHERE id = ${cardKeyId}::uuid`;
    return checkBadSourceInTx(tx, { cardKeyId, limits: env.stack.config });
  });
}

function checkAgain(cardKeyId: string) {
  return env.stack.db.$transaction((tx) => checkBadSourceInTx(tx, { cardKeyId, limits: env.stack.config }));
}

async function keyStatuses(batchId: string) {
  const groups = await env.stack.db.cardKey.groupBy({ by: ['status'], where: { batchId }, _count: { _all: true } });
  return Object.fromEntries(groups.map((g) => [g.status, g._count._all]));
}

async function metrics() {
  const res = await clientFor(env.stack.url).get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const value = (name: string) => {
    const line = res.text.split('\n').find((l) => l.startsWith(`${name} `));
    if (!line) throw new Error(`no ${name} in /metrics`);
    return Number(line.slice(name.length + 1));
  };
  return {
    text: res.text,
    quarantinedBatches: value('rights_quarantined_batches'),
    pausedRoutes: value('rights_paused_routes'),
    badInventory: value('rights_bad_keys_total{source="inventory"}'),
    badSupplier: value('rights_bad_keys_total{source="supplier"}'),
  };
}

test('a batch is quarantined at exactly the threshold, its keys stop selling, and release restores sales', async () => {
  expect(env.stack.config.QUARANTINE_BATCH_VOIDS).toBe(3);
  const { sku, api, admin, codes } = await shopWithStock(env.stack, { stock: 6, topUp: 10 * PRICE });
  const before = await metrics();
  const order = await settled(api, orderBody(sku, 3));
  expect(order.status).toBe('delivered');
  const [k1, k2, k3] = await keysOf(order.id);
  const batchId = k1!.batchId!;

  // A delivered key that is not void, and one voided without a reason (a refund), are no evidence.
  expect(await checkAgain(k1!.id)).toEqual({});
  await env.stack.db.cardKey.update({ where: { id: k1!.id }, data: { status: 'void' } });
  expect(await checkAgain(k1!.id)).toEqual({});

  // Below the threshold nothing happens, however often it is checked.
  expect(await voidAsBad(k1!.id)).toEqual({});
  expect(await voidAsBad(k2!.id)).toEqual({});
  expect(await checkAgain(k2!.id)).toEqual({});
  expect((await env.stack.db.keyBatch.findUniqueOrThrow({ where: { id: batchId } })).quarantinedAt).toBeNull();
  expect(await keyStatuses(batchId)).toEqual({ void: 2, delivered: 1, available: 3 });

  // The third bad key quarantines the batch; checking again changes nothing.
  expect(await voidAsBad(k3!.id)).toEqual({ batchQuarantined: batchId });
  expect(await checkAgain(k3!.id)).toEqual({});
  const batch = await env.stack.db.keyBatch.findUniqueOrThrow({ where: { id: batchId } });
  expect(batch.quarantinedAt).not.toBeNull();
  expect(batch.quarantineReason).toBe('3 of its keys turned out bad (threshold 3)');
  expect(await keyStatuses(batchId)).toEqual({ void: 3, quarantined: 3 });
  const audits = await env.stack.db.auditLog.findMany({
    where: { subjectType: 'key_batch', subjectId: batchId, action: 'inventory.batch_quarantined' },
  });
  expect(audits).toEqual([
    expect.objectContaining({
      actor: 'system:quarantine',
      actorClientId: null,
      details: expect.objectContaining({ cardKeyId: k3!.id, badKeys: 3, keysQuarantined: 3 }),
    }),
  ]);

  const during = await metrics();
  expect(during.quarantinedBatches).toBe(before.quarantinedBatches + 1);
  expect(during.badInventory).toBe(before.badInventory + 3);
  for (const code of codes) expect(during.text).not.toContain(code);

  // Support sees it among the quarantined batches; the import route still works beside the list.
  const listed = await support.get('/v1/inventory/batches?quarantined=true&limit=100');
  expect(listed.status).toBe(200);
  expect(listed.body.batches).toContainEqual(
    expect.objectContaining({
      id: batchId,
      sku,
      supplier: 'acme',
      imported: 6,
      quarantined: true,
      quarantineReason: batch.quarantineReason,
      keys: { void: 3, quarantined: 3 },
      badKeys: 3,
    }),
  );
  const unquarantined = await support.get('/v1/inventory/batches?quarantined=false&limit=100');
  expect(unquarantined.body.batches.map((b: { id: string }) => b.id)).not.toContain(batchId);
  expectProblem(await api.get('/v1/inventory/batches'), 403, 'forbidden');
  expectProblem(await support.post('/v1/inventory/batches', { sku, keys: ['X-1'] }), 403, 'forbidden');

  // Only quarantined stock: the order cannot be filled and is refunded.
  const starved = await settled(api, orderBody(sku, 1));
  expect(starved.status).toBe('refunded');
  expect(await keyStatuses(batchId)).toEqual({ void: 3, quarantined: 3 });

  // Release: support may not, an admin may, once.
  expectProblem(await support.post(`/v1/inventory/batches/${batchId}/release`, {}), 403, 'forbidden');
  const released = await admin.post(`/v1/inventory/batches/${batchId}/release`, { reason: 'supplier replaced them' });
  expect(released.status).toBe(200);
  expect(released.body).toEqual({ id: batchId, released: 3 });
  expectProblem(await admin.post(`/v1/inventory/batches/${batchId}/release`), 409, 'batch_not_quarantined');
  expectProblem(await admin.post(`/v1/inventory/batches/${randomUUID()}/release`), 404, 'not_found');
  expect(await keyStatuses(batchId)).toEqual({ void: 3, available: 3 });
  expect(
    await env.stack.db.auditLog.findFirst({ where: { subjectId: batchId, action: 'inventory.batch_released' } }),
  ).toMatchObject({ reason: 'supplier replaced them', details: expect.objectContaining({ keys: 3 }) });
  expect((await metrics()).quarantinedBatches).toBe(before.quarantinedBatches);

  // Sales resume from the released keys; the release restarted the count, so one more bad key
  // does not quarantine the batch again.
  const resumed = await settled(api, orderBody(sku, 1));
  expect(resumed.status).toBe('delivered');
  const [next] = await keysOf(resumed.id);
  expect(next!.batchId).toBe(batchId);
  expect(await voidAsBad(next!.id)).toEqual({});
  expect((await env.stack.db.keyBatch.findUniqueOrThrow({ where: { id: batchId } })).quarantinedAt).toBeNull();
});

test('voids counted at once still quarantine once; voiding the batch writes its remaining keys off', async () => {
  const { sku, api, admin } = await shopWithStock(env.stack, { stock: 5, topUp: 10 * PRICE });
  const before = await metrics();
  const order = await settled(api, orderBody(sku, 3));
  expect(order.status).toBe('delivered');
  const keys = await keysOf(order.id);
  const batchId = keys[0]!.batchId!;

  // Three compensations void three keys of the batch at the same time: the batch row lock
  // orders their counts, so exactly one of them sees the third bad key. Each updates its key
  // twice (the check stamps the time), which takes a KEY SHARE lock on the batch row: the
  // check's own lock must not deadlock on it.
  const outcomes = await Promise.all(keys.map((k) => voidAsBad(k.id, { unstamped: true })));
  expect(outcomes.filter((o) => o.batchQuarantined === batchId)).toHaveLength(1);
  expect(await keyStatuses(batchId)).toEqual({ void: 3, quarantined: 2 });

  expectProblem(await admin.post(`/v1/inventory/batches/${batchId}/void`, {}), 422, 'validation_failed');
  expectProblem(await support.post(`/v1/inventory/batches/${batchId}/void`, { reason: 'x' }), 403, 'forbidden');
  const voided = await admin.post(`/v1/inventory/batches/${batchId}/void`, { reason: 'leaked batch' });
  expect(voided.status).toBe(200);
  expect(voided.body).toEqual({ id: batchId, voided: 2 });
  expect(await keyStatuses(batchId)).toEqual({ void: 5 });
  const written = await env.stack.db.cardKey.findMany({ where: { batchId, deliveredAt: null } });
  expect(written.map((k) => k.voidReason)).toEqual(['leaked batch', 'leaked batch']);
  expectProblem(
    await admin.post(`/v1/inventory/batches/${batchId}/void`, { reason: 'again' }),
    409,
    'batch_not_quarantined',
  );
  expectProblem(await admin.post(`/v1/inventory/batches/${batchId}/release`), 409, 'batch_not_quarantined');
  const audit = await env.stack.db.auditLog.findMany({
    where: { subjectId: batchId, action: 'inventory.batch_voided' },
  });
  expect(audit).toEqual([expect.objectContaining({ reason: 'leaked batch', actorClientId: expect.any(String) })]);

  // Written-off keys never reached a buyer: they are not counted as bad keys.
  const after = await metrics();
  expect(after.badInventory).toBe(before.badInventory + 3);
  expect(after.quarantinedBatches).toBe(before.quarantinedBatches);
  expect((await settled(api, orderBody(sku, 1))).status).toBe('refunded');
});

test('bad supplier keys within the window pause the route; re-enabling it clears the reason', async () => {
  const { sku, api, admin } = await shopWithStock(env.stack, { stock: 0, topUp: 10 * PRICE });
  const supplier = await addSupplier(env.sim.url, admin, {
    products: { K: { kind: 'card_key', costMinor: 1000, stock: 20 } },
  });
  await addRoute(admin, sku, supplier, { productCode: 'K', costMinor: 1000 });
  const before = await metrics();

  const first = await settled(api, orderBody(sku, 3));
  expect(first.status).toBe('delivered');
  const [old, k2, k3] = await keysOf(first.id);
  expect(old!.sourceSupplierId).toBe(supplier.id);

  // One of three bad keys went bad a day and an hour ago: outside the 24 h window.
  expect(await voidAsBad(old!.id, { voidedHoursAgo: 25 })).toEqual({});
  expect(await voidAsBad(k2!.id)).toEqual({});
  expect(await voidAsBad(k3!.id)).toEqual({});
  const route = await env.stack.db.supplierRoute.findFirstOrThrow({ where: { supplierId: supplier.id } });
  expect(route).toMatchObject({ enabled: true, pausedReason: null });

  const second = await settled(api, orderBody(sku, 1));
  expect(second.status).toBe('delivered');
  const [k4] = await keysOf(second.id);
  expect(await voidAsBad(k4!.id)).toEqual({ routePaused: route.id });
  expect(await checkAgain(k4!.id)).toEqual({});
  const routes = (await admin.get(`/v1/products/${sku}/routes`)).body.routes;
  expect(routes).toEqual([
    expect.objectContaining({
      enabled: false,
      pausedReason: '3 of its keys turned out bad within 86400 s (threshold 3)',
    }),
  ]);
  expect(
    await env.stack.db.auditLog.findFirst({ where: { action: 'route.paused', subjectId: route.productId } }),
  ).toMatchObject({ actor: 'system:quarantine', details: expect.objectContaining({ routeId: route.id, badKeys: 3 }) });
  const during = await metrics();
  expect(during.pausedRoutes).toBe(before.pausedRoutes + 1);
  expect(during.badSupplier).toBe(before.badSupplier + 4);

  // Paused: nothing sells it now.
  expect((await settled(api, orderBody(sku, 1))).status).toBe('refunded');

  const resumed = await admin.put(`/v1/products/${sku}/routes/${supplier.name}`, {
    productCode: 'K',
    cost: { minor: 1000 },
    enabled: true,
  });
  expect(resumed.status).toBe(200);
  expect(resumed.body.enabled).toBe(true);
  expect(resumed.body).not.toHaveProperty('pausedReason');
  expect((await env.stack.db.supplierRoute.findUniqueOrThrow({ where: { id: route.id } })).pausedReason).toBeNull();
  expect((await metrics()).pausedRoutes).toBe(before.pausedRoutes);
  const third = await settled(api, orderBody(sku, 1));
  expect(third.status).toBe('delivered');
  // Re-enabling vouched for the keys seen so far: one more bad key does not pause it again.
  const [k5] = await keysOf(third.id);
  expect(await voidAsBad(k5!.id)).toEqual({});
});

async function addCompensation(
  orderId: string,
  unitId: string,
  data: { status: CompensationStatus; outcome?: string; newUnitId?: string; createdAt: Date; note?: string },
) {
  return env.stack.db.compensation.create({
    data: {
      orderId,
      unitId,
      incident: randomUUID(),
      action: 'reissue',
      trigger: 'support',
      reason: 'code already used',
      requestedBy: `client:${supportName}`,
      workflowId: `compensation:test:${randomUUID()}`,
      ...data,
      ...(data.status === 'completed' ? { completedAt: new Date(data.createdAt.getTime() + 1000) } : {}),
    },
  });
}

test('compensations: the list pages oldest first by status, and each unit shows its history', async () => {
  const { sku, api } = await shopWithStock(env.stack, { stock: 2, topUp: 10 * PRICE });
  const order = await settled(api, orderBody(sku, 2));
  expect(order.status).toBe('delivered');
  const [u1, u2] = order.items[0].units.map((u: { id: string }) => u.id) as [string, string];
  const newUnitId = randomUUID();
  const t0 = Date.now() - 60_000;
  const done = await addCompensation(order.id, u1, {
    status: 'completed',
    outcome: 'reissued',
    newUnitId,
    createdAt: new Date(t0),
    note: 'called the buyer back',
  });
  const open = [
    await addCompensation(order.id, u2, { status: 'open', createdAt: new Date(t0 + 1000) }),
    await addCompensation(order.id, u1, { status: 'open', createdAt: new Date(t0 + 2000) }),
    await addCompensation(order.id, u2, { status: 'open', createdAt: new Date(t0 + 3000) }),
  ];

  // Walk every page of open compensations, two at a time.
  const seen: any[] = [];
  let cursor: string | undefined;
  do {
    const page = await support.get(`/v1/compensations?status=open&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    expect(page.body.compensations.length).toBeLessThanOrEqual(2);
    seen.push(...page.body.compensations);
    cursor = page.body.nextCursor;
  } while (cursor);
  expect(seen.every((c) => c.status === 'open')).toBe(true);
  expect(new Set(seen.map((c) => c.id)).size).toBe(seen.length);
  const mine = seen.filter((c) => c.orderId === order.id);
  expect(mine.map((c) => c.id)).toEqual(open.map((c) => c.id));
  expect(mine[0]).toMatchObject({
    unitId: u2,
    action: 'reissue',
    trigger: 'support',
    requestedBy: `client:${supportName}`,
    reason: 'code already used',
    externalOrderId: order.externalOrderId,
  });

  const completed = await support.get('/v1/compensations?status=completed&limit=100');
  expect(completed.body.compensations).toContainEqual(
    expect.objectContaining({ id: done.id, outcome: 'reissued', newUnitId, note: 'called the buyer back' }),
  );
  expectProblem(await api.get('/v1/compensations'), 403, 'forbidden');
  expectProblem(await support.get('/v1/compensations?cursor=nonsense'), 422, 'validation_failed');
  expectProblem(await support.get('/v1/compensations?status=lost'), 422, 'validation_failed');

  // The order's own view: the order system sees what happened, support also who asked.
  const unitOf = (view: any, id: string) => view.items[0].units.find((u: { id: string }) => u.id === id);
  const asShop = (await api.get(`/v1/orders/${order.id}`)).body;
  const history = unitOf(asShop, u1).compensations;
  expect(history).toEqual([
    {
      id: done.id,
      action: 'reissue',
      trigger: 'support',
      reason: 'code already used',
      status: 'completed',
      outcome: 'reissued',
      newUnitId,
      createdAt: new Date(t0).toISOString(),
      completedAt: new Date(t0 + 1000).toISOString(),
    },
    expect.objectContaining({ id: open[1]!.id, status: 'open' }),
  ]);
  expect(JSON.stringify(asShop)).not.toContain(supportName);
  const asSupport = (await support.get(`/v1/orders/${order.id}`)).body;
  expect(unitOf(asSupport, u1).compensations[0]).toMatchObject({
    requestedBy: `client:${supportName}`,
    note: 'called the buyer back',
  });
  expect(unitOf(asSupport, u2).compensations.map((c: { id: string }) => c.id)).toEqual([open[0]!.id, open[2]!.id]);
  // Another order system does not see the order at all.
  const stranger = await createClientViaApi(env.stack, 'order-system');
  expectProblem(await clientFor(env.stack.url, stranger.apiKey).get(`/v1/orders/${order.id}`), 404, 'not_found');
});

test('support reveals one unit’s code once asked why: audited without the code, never cached or logged', async () => {
  const { sku, api, admin, codes } = await shopWithStock(env.stack, { stock: 1, topUp: 10 * PRICE });
  const order = await settled(api, orderBody(sku, 1));
  expect(order.status).toBe('delivered');
  const unitId = order.items[0].units[0].id;
  const path = `/v1/orders/${order.id}/units/${unitId}/reveal`;

  expectProblem(await support.post(path, {}), 422, 'validation_failed');
  const revealed = await support.post(path, { reason: 'buyer on the phone, claim link lost' });
  expect(revealed.status).toBe(200);
  expect(revealed.headers.get('cache-control')).toBe('no-store');
  expect(revealed.body).toEqual({ orderId: order.id, unitId, sku, keyStatus: 'delivered', code: codes[0] });

  const audit = await env.stack.db.auditLog.findMany({ where: { subjectId: order.id, action: 'order.unit_revealed' } });
  expect(audit).toEqual([
    expect.objectContaining({
      actor: `client:${supportName}`,
      reason: 'buyer on the phone, claim link lost',
      details: expect.objectContaining({ unitId }),
    }),
  ]);
  expect(JSON.stringify(audit, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(codes[0]);
  expect(logLines.join('\n')).not.toContain(codes[0]);
  expect(logLines.some((l) => l.includes('unit key revealed to staff'))).toBe(true);

  // The order system has its claim link, not this; analysts have no business here either.
  expectProblem(await api.post(path, { reason: 'curious' }), 403, 'forbidden');
  const analyst = await createClientViaApi(env.stack, 'risk-analyst');
  expectProblem(await clientFor(env.stack.url, analyst.apiKey).post(path, { reason: 'x' }), 403, 'forbidden');
  expectProblem(
    await support.post(`/v1/orders/${order.id}/units/${randomUUID()}/reveal`, { reason: 'x' }),
    404,
    'not_found',
  );
  expectProblem(
    await support.post(`/v1/orders/${randomUUID()}/units/${unitId}/reveal`, { reason: 'x' }),
    404,
    'not_found',
  );

  // A direct top-up was credited to an account: there is no code to read out.
  const topupSku = `topup-${randomUUID().slice(0, 8)}`;
  expect(
    (
      await admin.post('/v1/products', {
        sku: topupSku,
        name: 'Mobile credit',
        kind: 'direct_topup',
        price: { minor: PRICE, currency: 'CNY' },
        accountPattern: '1[3-9]\\d{9}',
      })
    ).status,
  ).toBe(201);
  const supplier = await addSupplier(env.sim.url, admin, {
    products: { 'CM-10': { kind: 'direct_topup', costMinor: 1000, stock: 10, accountPattern: '1[3-9]\\d{9}' } },
  });
  await addRoute(admin, topupSku, supplier, { productCode: 'CM-10', costMinor: 1000 });
  const topup = await settled(api, {
    ...orderBody(topupSku, 1),
    items: [{ sku: topupSku, quantity: 1, account: '13800138000' }],
  });
  expect(topup.status).toBe('delivered');
  const topupUnit = topup.items[0].units[0].id;
  expectProblem(
    await support.post(`/v1/orders/${topup.id}/units/${topupUnit}/reveal`, { reason: 'buyer asks' }),
    409,
    'no_card_key',
  );
  expect(await env.stack.db.auditLog.count({ where: { subjectId: topup.id, action: 'order.unit_revealed' } })).toBe(0);
});
