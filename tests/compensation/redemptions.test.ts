// Redemption (核销) end to end: rights owners mark delivered keys by code (matched by
// fingerprint, never decrypted), suppliers send signed redemption notices, and the admin
// report's figures (JSON and CSV) for a small known scenario. No code reaches a log line
// or the audit log.
import { randomUUID } from 'node:crypto';
import { ReferenceCredentials } from '../../domain/suppliers';
import { signRequest } from '../../infra/request-signature';
import { fingerprintOf } from '../../store/inventory';
import { isRedeemed, redemptionOf, redemptionOfUnit } from '../../store/redemptions';
import { credentialsOf } from '../../store/suppliers/registry';
import { createClientViaApi } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { orderBody, PRICE, shopWithStock, uniqueCodes, waitForTerminal } from '../support/orders';
import { addRoute, addSupplier, type SimSupplier, stackWithSuppliers } from '../support/suppliers';

type Api = ReturnType<typeof clientFor>;

const logLines: string[] = [];
const env = stackWithSuppliers({ logDestination: { write: (line) => logLines.push(line) } });
/** Every code this file reveals or sends, for the secrecy check at the end. */
const seenCodes: string[] = [];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SIM_PRODUCTS = { K: { kind: 'card_key' as const, costMinor: 1000, stock: 100 } };

async function deliveredOrder(api: Api, sku: string, quantity: number) {
  const placed = await api.post('/v1/orders', orderBody(sku, quantity));
  expect(placed.status).toBe(202);
  const order = await waitForTerminal(api, placed.body.id, 60_000);
  expect(order.status).toBe('delivered');
  const claim = await clientFor(env.stack.url).get(new URL(order.claimUrl).pathname);
  expect(claim.status).toBe(200);
  const codes: string[] = claim.body.items[0].codes;
  seenCodes.push(...codes);
  return { order, codes, unitIds: order.items[0].units.map((u: any) => u.id as string) };
}

function redeem(api: Api, sku: string, codes: string | string[]) {
  seenCodes.push(...[codes].flat());
  return api.post('/v1/redemptions', typeof codes === 'string' ? { sku, code: codes } : { sku, codes });
}
const outcomes = (res: any): string[] => res.body.results.map((r: any) => r.outcome);

/** The stored key a code was imported (or bought) as, found the way the platform finds it. */
async function keyOf(sku: string, code: string) {
  const product = await env.stack.db.product.findUniqueOrThrow({ where: { sku } });
  const fingerprint = fingerprintOf(env.stack.config.KEY_FINGERPRINT_SECRET, product.id, code);
  return env.stack.db.cardKey.findUniqueOrThrow({
    where: { productId_fingerprint: { productId: product.id, fingerprint } },
  });
}

/** "ABC-1" as a phone keyboard in fullwidth mode types it: "ＡＢＣ－１". */
const fullwidth = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

describe('POST /v1/redemptions', () => {
  let shop: Awaited<ReturnType<typeof shopWithStock>>;
  let delivered: string[];
  let inStock: string[];
  beforeAll(async () => {
    shop = await shopWithStock(env.stack, { stock: 8, topUp: 20 * PRICE });
    seenCodes.push(...shop.codes);
    // Two orders of three: six units at once are beyond risk control's per-SKU norm (review).
    delivered = [
      ...(await deliveredOrder(shop.api, shop.sku, 3)).codes,
      ...(await deliveredOrder(shop.api, shop.sku, 3)).codes,
    ];
    inStock = shop.codes.filter((c) => !delivered.includes(c));
    expect(inStock).toHaveLength(2);
  });

  test('an order system marks a key of its own order redeemed by the code', async () => {
    const res = await redeem(shop.api, shop.sku, delivered[0]!);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      sku: shop.sku,
      results: [{ outcome: 'redeemed', redeemedAt: expect.any(String) }],
      counts: { redeemed: 1, already_redeemed: 0, not_found: 0, not_delivered: 0, void: 0 },
    });
    const key = await keyOf(shop.sku, delivered[0]!);
    expect(key.status).toBe('redeemed');
    expect(key.redeemedAt?.toISOString()).toBe(res.body.results[0].redeemedAt);
    expect(await redemptionOf(env.stack.db, key.id)).toEqual({ cardKeyId: key.id, redeemedAt: key.redeemedAt });
    expect(await isRedeemed(env.stack.db, key.id)).toBe(true);
    expect(await isRedeemed(env.stack.db, (await keyOf(shop.sku, delivered[5]!)).id)).toBe(false);

    const audit = await env.stack.db.auditLog.findMany({
      where: { action: 'card_keys.redeemed', actorClientId: shop.shop.id },
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toEqual({
      sku: shop.sku,
      submitted: 1,
      redeemed: 1,
      already_redeemed: 0,
      not_found: 0,
      not_delivered: 0,
      void: 0,
    });
  });

  test('is idempotent: a repeat, a code repeated in one batch and concurrent marks redeem once', async () => {
    const first = await keyOf(shop.sku, delivered[0]!);
    const again = await redeem(shop.api, shop.sku, delivered[0]!);
    expect(again.body.results).toEqual([{ outcome: 'already_redeemed', redeemedAt: first.redeemedAt!.toISOString() }]);
    expect((await keyOf(shop.sku, delivered[0]!)).redeemedAt).toEqual(first.redeemedAt);

    const batch = await redeem(shop.api, shop.sku, [delivered[0]!, delivered[1]!, delivered[1]!]);
    expect(outcomes(batch)).toEqual(['already_redeemed', 'redeemed', 'already_redeemed']);
    expect(batch.body.results[1].redeemedAt).toBe(batch.body.results[2].redeemedAt);
    expect(batch.body.counts).toMatchObject({ redeemed: 1, already_redeemed: 2 });

    const concurrent = await Promise.all(Array.from({ length: 8 }, () => redeem(shop.api, shop.sku, delivered[2]!)));
    expect(concurrent.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(concurrent.flatMap(outcomes).sort()).toEqual([...Array(7).fill('already_redeemed'), 'redeemed']);
  });

  test('matches a normalised spelling of the code: fullwidth, invisible characters, surrounding spaces', async () => {
    const variant = `  ${fullwidth(delivered[3]!)}\u200b `;
    expect(variant).not.toContain(delivered[3]!);
    const res = await redeem(shop.api, shop.sku, variant);
    expect(outcomes(res)).toEqual(['redeemed']);
    expect((await keyOf(shop.sku, delivered[3]!)).status).toBe('redeemed');
  });

  test('another client’s key, an unknown code and a key never sold are not_found to an order system', async () => {
    const other = await createClientViaApi(env.stack, 'order-system', { name: `other ${randomUUID()}` });
    const res = await redeem(clientFor(env.stack.url, other.apiKey), shop.sku, [
      delivered[4]!,
      `NO-SUCH-${randomUUID()}`,
      inStock[0]!,
    ]);
    expect(outcomes(res)).toEqual(['not_found', 'not_found', 'not_found']);
    expect((await keyOf(shop.sku, delivered[4]!)).status).toBe('delivered');
    // The shop itself never received the key still in stock.
    expect(outcomes(await redeem(shop.api, shop.sku, inStock[0]!))).toEqual(['not_found']);
  });

  test('an admin may mark any delivered key; a key in stock is not_delivered and a void key stays void', async () => {
    const voided = await keyOf(shop.sku, delivered[5]!);
    await env.stack.db.cardKey.update({
      where: { id: voided.id },
      data: { status: 'void', voidReason: 'reported invalid', voidedAt: new Date() },
    });
    const res = await redeem(env.admin, shop.sku, [inStock[0]!, delivered[4]!, delivered[5]!]);
    expect(outcomes(res)).toEqual(['not_delivered', 'redeemed', 'void']);
    expect((await keyOf(shop.sku, inStock[0]!)).status).toBe('available');
    expect((await keyOf(shop.sku, delivered[4]!)).status).toBe('redeemed');
    expect(await keyOf(shop.sku, delivered[5]!)).toMatchObject({ status: 'void', redeemedAt: null });
  });

  test('refuses bad bodies and unknown products without echoing a code', async () => {
    const code = delivered[4]!;
    for (const body of [
      { sku: shop.sku },
      { sku: shop.sku, code, codes: [code] },
      { sku: shop.sku, codes: [] },
      { sku: shop.sku, codes: Array(1001).fill(code) },
      { sku: shop.sku, code: ' \u200b ' },
    ]) {
      const res = await shop.api.post('/v1/redemptions', body);
      expectProblem(res, 422, 'validation_failed');
      expect(res.text).not.toContain(code);
    }
    expectProblem(await redeem(shop.api, `nope-${randomUUID().slice(0, 8)}`, code), 422, 'unknown_sku');
  });

  test('support and risk analysts may not mark keys', async () => {
    for (const role of ['support', 'risk-analyst'] as const) {
      const client = await createClientViaApi(env.stack, role);
      expectProblem(await redeem(clientFor(env.stack.url, client.apiKey), shop.sku, delivered[4]!), 403, 'forbidden');
    }
  });
});

/** The supplier's shared secret, as the platform holds it sealed. */
async function secretOf(supplier: SimSupplier): Promise<string> {
  const row = await env.stack.db.supplier.findUniqueOrThrow({ where: { id: supplier.id } });
  return ReferenceCredentials.parse(credentialsOf(env.stack.deps.keyring, row)).secret;
}

/** A redemption notice as the supplier sends it: signed over method, path and raw body. */
function notify(supplierName: string, secret: string | null, body: unknown) {
  const path = `/v1/supplier-callbacks/${supplierName}/redemptions`;
  const raw = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (secret) {
    headers['x-rights-signature'] = signRequest(
      secret,
      { method: 'POST', path, body: raw },
      Math.floor(Date.now() / 1000),
    );
  }
  return clientFor(env.stack.url).post(path, undefined, { raw, headers });
}

describe('supplier redemption notices', () => {
  let supplier: SimSupplier;
  let secret: string;
  let units: string[];
  let sku: string;
  beforeAll(async () => {
    const shop = await shopWithStock(env.stack, { stock: 0, topUp: 10 * PRICE });
    sku = shop.sku;
    supplier = await addSupplier(env.sim.url, env.admin, { products: SIM_PRODUCTS });
    await addRoute(env.admin, sku, supplier, { productCode: 'K', costMinor: 1000 });
    secret = await secretOf(supplier);
    units = (await deliveredOrder(shop.api, sku, 3)).unitIds;
  });
  const keyOfUnit = async (unitId: string) => {
    const unit = await env.stack.db.orderUnit.findUniqueOrThrow({ where: { id: unitId } });
    return env.stack.db.cardKey.findUniqueOrThrow({ where: { id: unit.cardKeyId! } });
  };

  test('a signed notice marks the key sold under the reference redeemed at the reported time, once', async () => {
    const at = new Date();
    expect((await keyOfUnit(units[0]!)).deliveredAt!.getTime()).toBeLessThanOrEqual(at.getTime());
    const res = await notify(supplier.name, secret, { reference: units[0], redeemedAt: at.toISOString() });
    expect(res.status).toBe(204);
    const key = await keyOfUnit(units[0]!);
    expect(key).toMatchObject({ status: 'redeemed', redeemedAt: at });
    expect(await redemptionOfUnit(env.stack.db, units[0]!)).toEqual({ cardKeyId: key.id, redeemedAt: at });

    const repeat = await notify(supplier.name, secret, { reference: units[0], redeemedAt: new Date().toISOString() });
    expect(repeat.status).toBe(204);
    expect((await keyOfUnit(units[0]!)).redeemedAt).toEqual(at);
    const audit = await env.stack.db.auditLog.findMany({ where: { action: 'card_key.redeemed', subjectId: key.id } });
    expect(audit.map((a) => a.actor)).toEqual([`supplier:${supplier.name}`]);
  });

  test('a time before the delivery is taken as the delivery time', async () => {
    const res = await notify(supplier.name, secret, { reference: units[1], redeemedAt: '2000-01-01T00:00:00Z' });
    expect(res.status).toBe(204);
    const key = await keyOfUnit(units[1]!);
    expect(key.redeemedAt).toEqual(key.deliveredAt);
  });

  test('refuses bad signatures, other suppliers, unknown references, bad bodies and keys not delivered', async () => {
    const body = { reference: units[2], redeemedAt: new Date().toISOString() };
    expectProblem(await notify(supplier.name, null, body), 401, 'bad_signature');
    expectProblem(await notify(supplier.name, 'x'.repeat(32), body), 401, 'bad_signature');

    const stranger = await addSupplier(env.sim.url, env.admin, { products: SIM_PRODUCTS });
    expectProblem(await notify(stranger.name, await secretOf(stranger), body), 404, 'not_found');
    expectProblem(await notify(supplier.name, secret, { ...body, reference: randomUUID() }), 404, 'not_found');
    expectProblem(await notify(supplier.name, secret, { reference: units[2] }), 422, 'invalid_callback');

    const key = await keyOfUnit(units[2]!);
    await env.stack.db.cardKey.update({ where: { id: key.id }, data: { status: 'void', voidReason: 'disputed' } });
    expectProblem(await notify(supplier.name, secret, body), 409, 'key_not_delivered');
    expect(await isRedeemed(env.stack.db, key.id)).toBe(false);
  });
});

describe('GET /v1/reports/redemptions', () => {
  const ids = { batchA: '', batchB: '', labelA: `lab-a-${randomUUID().slice(0, 8)}`, labelB: '' };
  let sku: string;
  let supplier: SimSupplier;
  let range: string;

  // Batch A (4 keys, delivered 10 days ago): two redeemed after 1 h and 3 h, one still
  // delivered, one voided without a reason (a refund, not a bad key). Batch B (3 keys,
  // delivered 2 days ago): one redeemed after a day, one still delivered, one voided as bad.
  // One key bought from a supplier 40 days ago, never redeemed.
  beforeAll(async () => {
    ids.labelB = `lab-b-${randomUUID().slice(0, 8)}`;
    const shop = await shopWithStock(env.stack, { stock: 0, topUp: 20 * PRICE });
    sku = shop.sku;
    const importBatch = async (label: string, n: number) => {
      const codes = uniqueCodes(n);
      seenCodes.push(...codes);
      const res = await env.admin.post('/v1/inventory/batches', { sku, keys: codes, supplier: label });
      expect(res.status).toBe(201);
      return res.body.batchId as string;
    };
    ids.batchA = await importBatch(ids.labelA, 4);
    const a = (await deliveredOrder(shop.api, sku, 4)).codes;
    ids.batchB = await importBatch(ids.labelB, 3);
    const b = (await deliveredOrder(shop.api, sku, 3)).codes;
    supplier = await addSupplier(env.sim.url, env.admin, { products: SIM_PRODUCTS });
    await addRoute(env.admin, sku, supplier, { productCode: 'K', costMinor: 1000 });
    const [bought] = (await deliveredOrder(shop.api, sku, 1)).codes;
    expect(outcomes(await redeem(shop.api, sku, [a[0]!, a[1]!, b[0]!]))).toEqual(['redeemed', 'redeemed', 'redeemed']);

    const now = Date.now();
    const set = async (code: string, data: Record<string, unknown>) => {
      await env.stack.db.cardKey.update({ where: { id: (await keyOf(sku, code)).id }, data });
    };
    const deliveredA = new Date(now - 10 * DAY);
    const deliveredB = new Date(now - 2 * DAY);
    await set(a[0]!, { deliveredAt: deliveredA, redeemedAt: new Date(deliveredA.getTime() + HOUR) });
    await set(a[1]!, { deliveredAt: deliveredA, redeemedAt: new Date(deliveredA.getTime() + 3 * HOUR) });
    await set(a[2]!, { deliveredAt: deliveredA });
    await set(a[3]!, { deliveredAt: deliveredA, status: 'void' });
    await set(b[0]!, { deliveredAt: deliveredB, redeemedAt: new Date(deliveredB.getTime() + DAY) });
    await set(b[1]!, { deliveredAt: deliveredB });
    await set(b[2]!, { deliveredAt: deliveredB, status: 'void', voidReason: 'reported invalid', voidedAt: new Date() });
    await set(bought!, { deliveredAt: new Date(now - 40 * DAY) });
    range = `from=${new Date(now - 60 * DAY).toISOString()}&to=${new Date(now + 60_000).toISOString()}`;
  });

  const figuresA = {
    delivered: 4,
    redeemed: 2,
    redemptionRate: 0.5,
    medianSecondsToRedeem: 7200,
    unredeemed: { under1d: 0, from1dTo7d: 0, from7dTo30d: 1, over30d: 0 },
    bad: 0,
    badKeyRate: 0,
  };
  const figuresB = {
    delivered: 3,
    redeemed: 1,
    redemptionRate: 0.3333,
    medianSecondsToRedeem: 86400,
    unredeemed: { under1d: 0, from1dTo7d: 1, from7dTo30d: 0, over30d: 0 },
    bad: 1,
    badKeyRate: 0.3333,
  };
  const figuresSupplier = {
    delivered: 1,
    redeemed: 0,
    redemptionRate: 0,
    medianSecondsToRedeem: null,
    unredeemed: { under1d: 0, from1dTo7d: 0, from7dTo30d: 0, over30d: 1 },
    bad: 0,
    badKeyRate: 0,
  };

  test('per product, source and batch: redemption rate, median time to redeem, ageing, bad-key rate', async () => {
    const res = await env.admin.get(`/v1/reports/redemptions?${range}`);
    expect(res.status).toBe(200);
    const report = res.body;
    const srcA = { kind: 'inventory', name: ids.labelA };
    const srcB = { kind: 'inventory', name: ids.labelB };
    const srcS = { kind: 'supplier', name: supplier.name };
    expect(report.byProduct.filter((r: any) => r.sku === sku)).toEqual([
      {
        sku,
        delivered: 8,
        redeemed: 3,
        redemptionRate: 0.375,
        medianSecondsToRedeem: 10800,
        unredeemed: { under1d: 0, from1dTo7d: 1, from7dTo30d: 1, over30d: 1 },
        bad: 1,
        badKeyRate: 0.125,
      },
    ]);
    expect(report.byProductAndSource.filter((r: any) => r.sku === sku)).toEqual([
      { sku, source: srcA, ...figuresA },
      { sku, source: srcB, ...figuresB },
      { sku, source: srcS, ...figuresSupplier },
    ]);
    const mySources = [ids.labelA, ids.labelB, supplier.name];
    expect(report.bySource.filter((r: any) => mySources.includes(r.source.name))).toEqual([
      { source: srcA, ...figuresA },
      { source: srcB, ...figuresB },
      { source: srcS, ...figuresSupplier },
    ]);
    expect(report.byBatch.filter((r: any) => r.sku === sku)).toEqual(
      expect.arrayContaining([
        { batchId: ids.batchA, sku, source: srcA, quarantinedAt: null, ...figuresA },
        { batchId: ids.batchB, sku, source: srcB, quarantinedAt: null, ...figuresB },
      ]),
    );
    expect(report.byBatch.filter((r: any) => r.sku === sku)).toHaveLength(2);
    expect(report.byBatch.every((r: any) => r.batchId !== null)).toBe(true);
  });

  test('as CSV with Accept: text/csv', async () => {
    const res = await env.admin.get(`/v1/reports/redemptions?${range}`, { headers: { accept: 'text/csv' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = res.text.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'grouping,sku,source_kind,source,batch_id,delivered,redeemed,redemption_rate,median_seconds_to_redeem,' +
        'unredeemed_under_1d,unredeemed_1d_7d,unredeemed_7d_30d,unredeemed_over_30d,bad,bad_key_rate',
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        `product,${sku},,,,8,3,0.375,10800,0,1,1,1,1,0.125`,
        `batch,${sku},inventory,${ids.labelA},${ids.batchA},4,2,0.5,7200,0,0,1,0,0,0`,
        `batch,${sku},inventory,${ids.labelB},${ids.batchB},3,1,0.3333,86400,0,1,0,0,1,0.3333`,
        `product_source,${sku},supplier,${supplier.name},,1,0,0,,0,0,0,1,0,0`,
        `source,,supplier,${supplier.name},,1,0,0,,0,0,0,1,0,0`,
      ]),
    );
  });

  test('is for admins, over a valid range', async () => {
    const support = await createClientViaApi(env.stack, 'support');
    expectProblem(
      await clientFor(env.stack.url, support.apiKey).get(`/v1/reports/redemptions?${range}`),
      403,
      'forbidden',
    );
    expectProblem(
      await env.admin.get('/v1/reports/redemptions?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z'),
      422,
      'validation_failed',
    );
  });
});

test('no code reaches a log line or the audit log', async () => {
  const logs = logLines.join('\n');
  expect(logs).toContain('redemptions marked'); // the capture is live
  expect(logs).toContain('supplier redemption');
  const audit = JSON.stringify(
    await env.stack.db.auditLog.findMany({
      where: { action: { in: ['card_keys.redeemed', 'card_key.redeemed'] } },
      select: { actor: true, subjectId: true, reason: true, details: true },
    }),
  );
  expect(seenCodes.length).toBeGreaterThan(20);
  for (const code of new Set(seenCodes)) {
    expect(logs).not.toContain(code.trim());
    expect(audit).not.toContain(code.trim());
  }
});
