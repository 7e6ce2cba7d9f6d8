// The risk admin API: per-SKU policies (admins change them, analysts read them), the allow
// and deny lists (analysts and admins keep them), and replaying decided reviews against a
// candidate policy. Every change audited with before and after; bad input refused with
// problem+json and nothing written.
import { randomUUID } from 'node:crypto';
import { type ClaimFacts, type Geo, type IpFacts, type OrderFacts, RiskFactsSchema } from '../../domain/risk/facts';
import { DEFAULT_RISK_POLICY, mergePolicy, RiskPolicySchema } from '../../domain/risk/policy';
import { evaluate } from '../../domain/risk/rules';
import { orderFactsOf } from '../../store/risk/facts';
import { adminKey, createClientViaApi } from '../support/clients';
import { clientFor, expectProblem, type HttpResponse, request } from '../support/http';
import { orderBody, shopWithStock } from '../support/orders';
import { rowCounts } from '../support/row-counts';
import { startStack, type TestStack } from '../support/stack';

let stack: TestStack;
let admin: ReturnType<typeof clientFor>;
let adminApiKey: string;
let analystKey: string;
let analyst: ReturnType<typeof clientFor>;
let supportKey: string;
let orderSystemKey: string;

beforeAll(async () => {
  // No worker: orders placed here stay `received`, so the only assessments are the test's own.
  stack = await startStack({ worker: false });
  const [clock] = await stack.db.$queryRaw<{ now: Date }[]>`SELECT now() AS now`;
  startedAt = clock!.now;
  adminApiKey = await adminKey(stack);
  admin = clientFor(stack.url, adminApiKey);
  analystKey = (await createClientViaApi(stack, 'risk-analyst')).apiKey;
  analyst = clientFor(stack.url, analystKey);
  supportKey = (await createClientViaApi(stack, 'support')).apiKey;
  orderSystemKey = (await createClientViaApi(stack, 'order-system')).apiKey;
});
// What this file adds that other files' risk tests would see (the database is shared by the
// run): list entries (an IP entry matches their buyers) and reviews (an open one is queued).
let startedAt: Date;
const cleanup = { assessments: [] as string[], reviews: [] as string[] };
afterAll(async () => {
  await stack.db.riskListEntry.deleteMany({ where: { createdAt: { gte: startedAt } } });
  await stack.db.riskReview.deleteMany({ where: { id: { in: cleanup.reviews } } });
  await stack.db.riskAssessment.deleteMany({ where: { id: { in: cleanup.assessments } } });
  await stack.close();
});

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const del = (path: string, key = adminApiKey) => request(stack.url, 'DELETE', path, undefined, { key });

async function createProduct(): Promise<{ sku: string; productId: string }> {
  const sku = unique('hot');
  const res = await admin.post('/v1/products', {
    sku,
    name: 'Hot launch membership',
    kind: 'card_key',
    price: { minor: 1500, currency: 'CNY' },
  });
  if (res.status !== 201) throw new Error(`product: ${res.status} ${res.text}`);
  return { sku, productId: res.body.id };
}

const policyRow = (productId: string) => stack.db.riskPolicy.findUnique({ where: { productId } });
const defaultRow = () => stack.db.riskPolicy.findFirstOrThrow({ where: { productId: null } });

function lastAudit(subjectType: string, subjectId: string) {
  return stack.db.auditLog.findFirst({ where: { subjectType, subjectId }, orderBy: { id: 'desc' } });
}

function expectValidation(res: HttpResponse, path: string | RegExp) {
  expectProblem(res, 422, 'validation_failed');
  const paths: string[] = res.body.errors.map((e: { path: string }) => e.path);
  expect(paths).toContainEqual(typeof path === 'string' ? path : expect.stringMatching(path));
}

describe('roles', () => {
  const endpoints = (sku: string): [method: string, path: string, body?: unknown][] => [
    ['GET', '/v1/risk/policies'],
    ['GET', `/v1/risk/policies/${sku}`],
    ['PUT', `/v1/risk/policies/${sku}`, {}],
    ['PATCH', `/v1/risk/policies/${sku}`, { thresholds: { block: 90 } }],
    ['DELETE', `/v1/risk/policies/${sku}`],
    ['POST', `/v1/risk/policies/${sku}/simulate`, {}],
    ['GET', '/v1/risk/lists'],
    ['POST', '/v1/risk/lists', { list: 'deny', kind: 'buyer', value: unique('buyer') }],
    ['DELETE', `/v1/risk/lists/${randomUUID()}`],
  ];

  test('an order-system or support key gets 403 on every endpoint, and nothing is written', async () => {
    const { sku } = await createProduct();
    const before = await rowCounts(stack.db);
    for (const key of [orderSystemKey, supportKey]) {
      for (const [method, path, body] of endpoints(sku)) {
        const res = await request(stack.url, method, path, body, { key });
        expect({ method, path, status: res.status, code: res.body?.code }).toEqual({
          method,
          path,
          status: 403,
          code: 'forbidden',
        });
      }
    }
    expect(await rowCounts(stack.db)).toEqual(before);
  });

  test('no key is 401', async () => {
    expectProblem(await request(stack.url, 'GET', '/v1/risk/policies'), 401, 'unauthenticated');
    expectProblem(await request(stack.url, 'GET', '/v1/risk/lists'), 401, 'unauthenticated');
  });

  test('a risk analyst reads policies and simulates, but cannot change a policy', async () => {
    const { sku, productId } = await createProduct();
    expect((await analyst.get('/v1/risk/policies')).status).toBe(200);
    expect((await analyst.get(`/v1/risk/policies/${sku}`)).status).toBe(200);
    expect((await analyst.get('/v1/risk/policies/default')).status).toBe(200);
    expect((await analyst.post(`/v1/risk/policies/${sku}/simulate`, {})).status).toBe(200);

    const before = await rowCounts(stack.db);
    const defaultVersion = (await defaultRow()).version;
    expectProblem(await analyst.put(`/v1/risk/policies/${sku}`, {}), 403, 'forbidden');
    expectProblem(await analyst.patch(`/v1/risk/policies/${sku}`, { thresholds: { block: 90 } }), 403, 'forbidden');
    expectProblem(await analyst.patch('/v1/risk/policies/default', { thresholds: { block: 90 } }), 403, 'forbidden');
    expectProblem(await del(`/v1/risk/policies/${sku}`, analystKey), 403, 'forbidden');
    expect(await rowCounts(stack.db)).toEqual(before);
    expect(await policyRow(productId)).toBeNull();
    expect((await defaultRow()).version).toBe(defaultVersion);
  });
});

describe('policies', () => {
  test('a SKU without a policy of its own answers to the default, fully expanded, marked inherited', async () => {
    const { sku } = await createProduct();
    const fallback = await admin.get('/v1/risk/policies/default');
    expect(fallback.status).toBe(200);
    expect(fallback.body).toMatchObject({ sku: 'default', inherited: false });
    // Every field filled in, even when the stored default is the seeded `{}`.
    expect(RiskPolicySchema.parse(fallback.body.policy)).toEqual(fallback.body.policy);
    expect(Object.keys(fallback.body.policy).sort()).toEqual(Object.keys(DEFAULT_RISK_POLICY).sort());

    const res = await admin.get(`/v1/risk/policies/${sku}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      sku,
      inherited: true,
      version: fallback.body.version,
      updatedAt: fallback.body.updatedAt,
      policy: fallback.body.policy,
    });
  });

  test('an unknown or malformed SKU is 404 problem+json', async () => {
    expectProblem(await admin.get(`/v1/risk/policies/${unique('nope')}`), 404, 'not_found');
    expectProblem(await admin.get('/v1/risk/policies/bad%20sku'), 404, 'not_found');
    expectProblem(await admin.put(`/v1/risk/policies/${unique('nope')}`, {}), 404, 'not_found');
    expectProblem(await admin.patch(`/v1/risk/policies/${unique('nope')}`, {}), 404, 'not_found');
    expectProblem(await del(`/v1/risk/policies/${unique('nope')}`), 404, 'not_found');
    expectProblem(await admin.post(`/v1/risk/policies/${unique('nope')}/simulate`, {}), 404, 'not_found');
  });

  test('PUT replaces the policy with the validated, expanded body; version 1, then 2; audited before and after', async () => {
    const { sku, productId } = await createProduct();
    const inherited = (await admin.get(`/v1/risk/policies/${sku}`)).body.policy;
    const body = { thresholds: { review: 30, block: 60 }, limits: { maxUnitsPerBuyerPerDay: 2 }, countries: ['CN'] };

    const res = await admin.put(`/v1/risk/policies/${sku}`, body);
    expect(res.status).toBe(200);
    const expanded = RiskPolicySchema.parse(body);
    expect(res.body).toMatchObject({ sku, inherited: false, version: 1, policy: expanded });
    const row = await policyRow(productId);
    expect(row).toMatchObject({ version: 1, policy: expanded });
    expect(row!.updatedAt.toISOString()).toBe(res.body.updatedAt);

    const audit = await lastAudit('risk_policy', productId);
    expect(audit).toMatchObject({
      action: 'risk_policy.replaced',
      actor: 'client:bootstrap admin',
      details: { sku, version: 1, before: inherited, after: expanded, inherited: { before: true, after: false } },
    });

    const again = await admin.put(`/v1/risk/policies/${sku}`, { thresholds: { review: 20, block: 50 } });
    expect(again.body).toMatchObject({
      version: 2,
      policy: { thresholds: { review: 20, block: 50 }, countries: null },
    });
    expect(await lastAudit('risk_policy', productId)).toMatchObject({
      details: { version: 2, before: expanded, after: again.body.policy },
    });

    const listed = await admin.get('/v1/risk/policies');
    expect(listed.status).toBe(200);
    expect(listed.body.policies[0]).toMatchObject({ sku: 'default', inherited: false });
    expect(listed.body.policies).toContainEqual({ ...again.body });
  });

  test('PATCH merges into the effective policy (a SKU that inherited gets its own), bumps the version, audited', async () => {
    const { sku, productId } = await createProduct();
    const fallback = (await admin.get('/v1/risk/policies/default')).body.policy;

    const first = await admin.patch(`/v1/risk/policies/${sku}`, { limits: { velocity: { buyer: { '1m': 1 } } } });
    expect(first.status).toBe(200);
    const forked = mergePolicy(fallback, { limits: { velocity: { buyer: { '1m': 1 } } } });
    expect(first.body).toMatchObject({ sku, inherited: false, version: 1, policy: forked });
    expect(first.body.policy.limits.velocity.buyer).toEqual({ ...fallback.limits.velocity.buyer, '1m': 1 });

    const second = await admin.patch(`/v1/risk/policies/${sku}`, { scores: { velocity: 70 } });
    expect(second.body.version).toBe(2);
    expect(second.body.policy).toEqual(mergePolicy(forked, { scores: { velocity: 70 } }));
    expect((await policyRow(productId))?.policy).toEqual(second.body.policy);
    expect(await lastAudit('risk_policy', productId)).toMatchObject({
      action: 'risk_policy.patched',
      details: { version: 2, before: forked, after: second.body.policy, inherited: { before: false, after: false } },
    });
  });

  test('DELETE goes back to inheriting the default, audited; again is 204 with nothing written', async () => {
    const { sku, productId } = await createProduct();
    const own = (await admin.put(`/v1/risk/policies/${sku}`, { thresholds: { review: 10, block: 20 } })).body.policy;

    const res = await del(`/v1/risk/policies/${sku}`);
    expect(res.status).toBe(204);
    expect(await policyRow(productId)).toBeNull();
    const now = await admin.get(`/v1/risk/policies/${sku}`);
    expect(now.body.inherited).toBe(true);
    expect(await lastAudit('risk_policy', productId)).toMatchObject({
      action: 'risk_policy.deleted',
      details: { before: own, after: now.body.policy, inherited: { before: false, after: true } },
    });

    const before = await rowCounts(stack.db);
    expect((await del(`/v1/risk/policies/${sku}`)).status).toBe(204);
    expect(await rowCounts(stack.db)).toEqual(before);
  });

  test('`default` is addressed by name: PATCH and PUT change it (audited, versioned), DELETE is 409', async () => {
    const before = await admin.get('/v1/risk/policies/default');
    const patched = await admin.patch('/v1/risk/policies/default', { review: { deadlineSeconds: 7200 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ sku: 'default', inherited: false, version: before.body.version + 1 });
    expect(patched.body.policy.review).toEqual({ deadlineSeconds: 7200, onDeadline: 'reject' });
    expect(await lastAudit('risk_policy', 'default')).toMatchObject({
      action: 'risk_policy.patched',
      details: { sku: 'default', before: before.body.policy, after: patched.body.policy },
    });
    // A SKU that inherits sees the change at once.
    const { sku } = await createProduct();
    expect((await admin.get(`/v1/risk/policies/${sku}`)).body.policy.review.deadlineSeconds).toBe(7200);

    const rows = await rowCounts(stack.db);
    expectProblem(await del('/v1/risk/policies/default'), 409, 'default_policy_required');
    expect(await rowCounts(stack.db)).toEqual(rows);

    // Put the default back as it was for the other tests (one more version).
    const restored = await admin.put('/v1/risk/policies/default', before.body.policy);
    expect(restored.body).toMatchObject({ version: before.body.version + 2, policy: before.body.policy });
  });

  type BadPolicy = [name: string, method: 'PUT' | 'PATCH', body: unknown, path: string | RegExp];
  const bad: BadPolicy[] = [
    ['review not below block', 'PUT', { thresholds: { review: 80, block: 80 } }, 'thresholds.review'],
    ['an unknown field', 'PUT', { thresholds: { review: 1, block: 2 }, colour: 'red' }, '(body)'],
    ['not an object', 'PUT', [1, 2], '(body)'],
    ['a negative score', 'PUT', { scores: { velocity: -1 } }, 'scores.velocity'],
    ['an unknown rule', 'PATCH', { scores: { telepathy: 10 } }, /^scores/],
    ['a zero limit', 'PATCH', { limits: { maxBuyersPerIp: 0 } }, 'limits.maxBuyersPerIp'],
    ['block lowered below the stored review', 'PATCH', { thresholds: { block: 10 } }, 'thresholds.review'],
    ['a bad country', 'PATCH', { countries: ['china'] }, 'countries.0'],
    ['a deadline too short', 'PATCH', { review: { deadlineSeconds: 5 } }, 'review.deadlineSeconds'],
    ['a patch that is not an object', 'PATCH', [{ thresholds: { block: 90 } }], '(body)'],
  ];
  test.each(bad)('%s (%s) is 422 naming the field, nothing written', async (_name, method, body, path) => {
    const { sku, productId } = await createProduct();
    await admin.put(`/v1/risk/policies/${sku}`, { thresholds: { review: 40, block: 80 } });
    const before = await rowCounts(stack.db);
    const stored = await policyRow(productId);
    const defaultBefore = await defaultRow();

    const res = await request(stack.url, method, `/v1/risk/policies/${sku}`, body, { key: adminApiKey });
    expectValidation(res, path);
    const resOnDefault = await request(stack.url, method, '/v1/risk/policies/default', body, { key: adminApiKey });
    expectValidation(resOnDefault, path);

    expect(await rowCounts(stack.db)).toEqual(before);
    expect(await policyRow(productId)).toEqual(stored);
    expect(await defaultRow()).toEqual(defaultBefore);
  });

  test('concurrent PATCHes of different fields are all kept, one version each', async () => {
    const patches = [
      { scores: { velocity: 11 } },
      { scores: { shared_ip: 12 } },
      { limits: { maxBuyersPerDevice: 13 } },
      { review: { onDeadline: 'approve' } },
    ];
    // Once on a SKU that has its own policy (its row is locked), once on one that still
    // inherits (no row yet: the product is what serialises them).
    const own = await createProduct();
    await admin.put(`/v1/risk/policies/${own.sku}`, {});
    const inheriting = await createProduct();

    for (const { sku, productId, startVersion } of [
      { ...own, startVersion: 1 },
      { ...inheriting, startVersion: 0 },
    ]) {
      const results = await Promise.all(patches.map((p) => admin.patch(`/v1/risk/policies/${sku}`, p)));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(results.map((r) => r.body.version).sort()).toEqual([1, 2, 3, 4].map((n) => startVersion + n));
      const row = await policyRow(productId);
      expect(row?.version).toBe(startVersion + patches.length);
      expect(row?.policy).toMatchObject({
        scores: { velocity: 11, shared_ip: 12 },
        limits: { maxBuyersPerDevice: 13 },
        review: { onDeadline: 'approve' },
      });
      const audits = await stack.db.auditLog.count({ where: { subjectType: 'risk_policy', subjectId: productId } });
      expect(audits).toBe(startVersion + patches.length);
    }
  });
});

describe('lists', () => {
  test('adding an entry is 201 and audited; adding it again is 200 with the same entry and nothing written', async () => {
    const value = unique('buyer');
    const res = await analyst.post('/v1/risk/lists', { list: 'deny', kind: 'buyer', value, note: 'chargebacks' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ list: 'deny', kind: 'buyer', value, note: 'chargebacks' });
    expect(await lastAudit('risk_list_entry', res.body.id)).toMatchObject({
      action: 'risk_list.added',
      details: { list: 'deny', kind: 'buyer', value, note: 'chargebacks' },
    });

    const before = await rowCounts(stack.db);
    const again = await admin.post('/v1/risk/lists', { list: 'deny', kind: 'buyer', value, note: 'other note' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    expect(await rowCounts(stack.db)).toEqual(before);

    // The same value on the other list is another entry.
    expect((await admin.post('/v1/risk/lists', { list: 'allow', kind: 'buyer', value })).status).toBe(201);
  });

  const canonical: [written: string, stored: string][] = [
    ['198.51.100.7', '198.51.100.7/32'],
    ['198.51.100.0/24', '198.51.100.0/24'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1/128'],
    ['::ffff:192.0.2.33', '192.0.2.33/32'],
    ['::ffff:192.0.2.34/128', '192.0.2.34/32'],
    ['::ffff:c000:223', '192.0.2.35/32'],
    // A zone id names the observer's interface, not the address: dropped (domain/ip-address.ts).
    ['fe80::1%eth0', 'fe80::1/128'],
    ['0.0.0.0/0', '0.0.0.0/0'],
  ];
  test.each(canonical)('the IP value %s is stored as %s', async (written, stored) => {
    const res = await admin.post('/v1/risk/lists', { list: 'allow', kind: 'ip', value: written });
    expect([200, 201]).toContain(res.status);
    expect(res.body.value).toBe(stored);
    const row = await stack.db.riskListEntry.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row.value).toBe(stored);
  });

  test('one network written two ways is one entry', async () => {
    const first = await admin.post('/v1/risk/lists', { list: 'deny', kind: 'ip', value: '192.0.2.77' });
    expect(first.status).toBe(201);
    const second = await admin.post('/v1/risk/lists', { list: 'deny', kind: 'ip', value: '192.0.2.77/32' });
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
  });

  // Every row has four entries: a shorter one would make jest pass its `done` callback instead.
  type BadEntry = [name: string, body: Record<string, unknown>, path: string, message: RegExp | null];
  const badEntries: BadEntry[] = [
    ['host bits beyond the mask', { kind: 'ip', value: '198.51.100.7/24' }, 'value', /198\.51\.100\.0\/24/],
    ['not an address', { kind: 'ip', value: 'not-an-ip' }, 'value', null],
    ['a legacy abbreviation', { kind: 'ip', value: '10/8' }, 'value', null],
    ['a prefix too long', { kind: 'ip', value: '198.51.100.7/33' }, 'value', null],
    ['an empty zone id', { kind: 'ip', value: 'fe80::1%' }, 'value', null],
    ['an IPv4-mapped network shorter than /96', { kind: 'ip', value: '::ffff:0:0/95' }, 'value', /at least \/96/],
    ['two prefixes', { kind: 'ip', value: '198.51.100.0/24/8' }, 'value', null],
    ['an empty buyer', { kind: 'buyer', value: '' }, 'value', null],
    ['a buyer with surrounding spaces', { kind: 'buyer', value: ' b1 ' }, 'value', null],
    ['a device id too long', { kind: 'device', value: 'd'.repeat(129) }, 'value', null],
    ['an unknown list', { list: 'grey', kind: 'buyer', value: 'b1' }, 'list', null],
    ['an unknown kind', { kind: 'email', value: 'a@b.c' }, 'kind', null],
    ['an unknown field', { kind: 'buyer', value: 'b1', expires: '2030-01-01' }, '(body)', null],
  ];
  test.each(badEntries)('%s is 422 naming the field, nothing written', async (_name, body, path, message) => {
    const before = await rowCounts(stack.db);
    const res = await analyst.post('/v1/risk/lists', { list: 'deny', ...body });
    expectValidation(res, path);
    if (message) expect(res.body.errors[0].message).toMatch(message);
    expect(await rowCounts(stack.db)).toEqual(before);
  });

  test('listing filters by list and kind and pages oldest first with nextCursor', async () => {
    const values = Array.from({ length: 5 }, (_, i) => unique(`device${i}`));
    for (const value of values) {
      expect((await admin.post('/v1/risk/lists', { list: 'deny', kind: 'device', value })).status).toBe(201);
    }
    await admin.post('/v1/risk/lists', { list: 'allow', kind: 'device', value: unique('other') });

    const seen: any[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const res = await analyst.get(
        `/v1/risk/lists?list=deny&kind=device&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.entries.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.entries);
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(cursor).toBeUndefined();
    expect(seen.every((e) => e.list === 'deny' && e.kind === 'device')).toBe(true);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    const mine = seen.filter((e) => values.includes(e.value)).map((e) => e.value);
    expect(mine).toEqual(values);
    const times = seen.map((e) => e.createdAt);
    expect([...times].sort()).toEqual(times);
  });

  test('a bad cursor, limit or filter is 422', async () => {
    expectValidation(await analyst.get('/v1/risk/lists?cursor=garbage'), 'cursor');
    expectValidation(await analyst.get('/v1/risk/lists?limit=201'), 'limit');
    expectValidation(await analyst.get('/v1/risk/lists?limit=0'), 'limit');
    expectValidation(await analyst.get('/v1/risk/lists?kind=email'), 'kind');
  });

  test('DELETE removes the entry (204, audited with what it was); again, or an unknown id, is 404', async () => {
    const value = unique('dev');
    const created = (await analyst.post('/v1/risk/lists', { list: 'deny', kind: 'device', value, note: 'farm' })).body;
    const res = await del(`/v1/risk/lists/${created.id}`, analystKey);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(await stack.db.riskListEntry.findUnique({ where: { id: created.id } })).toBeNull();
    expect(await lastAudit('risk_list_entry', created.id)).toMatchObject({
      action: 'risk_list.removed',
      details: { list: 'deny', kind: 'device', value, note: 'farm' },
    });
    expectProblem(await del(`/v1/risk/lists/${created.id}`), 404, 'not_found');
    expectProblem(await del('/v1/risk/lists/not-a-uuid'), 404, 'not_found');
  });

  test('a canonical network entry is what the facts query matches an order against', async () => {
    const shop = await shopWithStock(stack, { stock: 0, topUp: 100_000 });
    const placed = await shop.api.post('/v1/orders', orderBody(shop.sku)); // buyer IP 203.0.113.7
    expect(placed.status).toBe(202);
    const entry = (await admin.post('/v1/risk/lists', { list: 'deny', kind: 'ip', value: '203.0.113.0/24' })).body;
    try {
      const found = await orderFactsOf(stack.db, placed.body.id);
      expect(found?.facts.lists).toContainEqual({ list: 'deny', kind: 'ip', value: '203.0.113.0/24', note: null });
    } finally {
      expect((await del(`/v1/risk/lists/${entry.id}`)).status).toBe(204);
    }
  });
});

describe('order addresses', () => {
  test("located once at intake and read by the facts query, with the previous order's location", async () => {
    const shop = await shopWithStock(stack, { stock: 0, topUp: 100_000 });
    const buyer = { id: `traveller-${randomUUID().slice(0, 8)}` };
    const first = await shop.api.post('/v1/orders', {
      ...orderBody(shop.sku),
      buyer: { ...buyer, ip: '81.2.69.142' }, // London
    });
    const second = await shop.api.post('/v1/orders', {
      ...orderBody(shop.sku),
      buyer: { ...buyer, ip: '61.135.169.7' }, // Beijing
    });
    expect([first.status, second.status]).toEqual([202, 202]);
    const stored = await stack.db.order.findUniqueOrThrow({ where: { id: first.body.id } });
    expect(stored.buyerGeo).toMatchObject({ country: 'GB' });

    const found = await orderFactsOf(stack.db, second.body.id);
    expect(found?.facts.ip).toMatchObject({ ip: '61.135.169.7', kind: 'public', geo: { country: 'CN' } });
    expect(found?.facts.previous?.ip).toMatchObject({ ip: '81.2.69.142', geo: { country: 'GB' } });
  });

  test('a non-public address has no location', async () => {
    const shop = await shopWithStock(stack, { stock: 0, topUp: 100_000 });
    const placed = await shop.api.post('/v1/orders', orderBody(shop.sku)); // 203.0.113.7, documentation range
    const stored = await stack.db.order.findUniqueOrThrow({ where: { id: placed.body.id } });
    expect(stored.buyerGeo).toBeNull();
    expect((await orderFactsOf(stack.db, placed.body.id))?.facts.ip).toMatchObject({ kind: 'reserved', geo: null });
  });
});

describe('simulation', () => {
  const LONDON: Geo = { country: 'GB', lat: 51.5074, lon: -0.1278, accuracyKm: 10 };
  const LONDON_IP: IpFacts = { ip: '81.2.69.142', kind: 'public', network: '81.2.69.0/24', geo: LONDON };
  const PARIS_IP: IpFacts = {
    ip: '90.63.1.1',
    kind: 'public',
    network: '90.63.1.0/24',
    geo: { country: 'FR', lat: 48.8566, lon: 2.3522, accuracyKm: 10 },
  };
  const counts = { orders: 1, units: 1, amountMinor: 1500 };
  const windows = { '1m': counts, '1h': counts, '24h': counts };

  /** Quiet facts but for what is given: unclaimed units (hoarding) and buyers on the device. */
  function orderFacts(sku: string, given: { unclaimedUnits?: number; buyersOnDevice24h?: number }): OrderFacts {
    return {
      kind: 'order',
      at: new Date().toISOString(),
      buyer: { id: 'buyer-1', deviceId: 'dev-1' },
      ip: LONDON_IP,
      items: [{ sku, units: 1 }],
      velocity: { buyer: windows, device: windows, ip: windows, network: windows },
      buyersOnDevice24h: given.buyersOnDevice24h ?? 1,
      buyersOnIp24h: 1,
      unclaimedUnits: given.unclaimedUnits ?? 0,
      skuHistory: [{ sku, units24h: 1, dailyAverage30d: 0 }],
      previous: null,
      lists: [],
    };
  }

  /** Claimed from Paris, minutes after ordering in London: country mismatch only. */
  function claimFacts(orderId: string): ClaimFacts {
    const orderAt = new Date(Date.now() - 3 * 3_600_000);
    return {
      kind: 'claim',
      at: new Date().toISOString(),
      orderId,
      buyer: { id: 'buyer-1', deviceId: 'dev-1' },
      ip: PARIS_IP,
      orderIp: LONDON_IP,
      orderAt: orderAt.toISOString(),
      lists: [],
    };
  }

  let minutes = 0;
  /** An assessment as the risk step records it (under the default policy) and its review, decided. */
  async function decidedReview(
    orderId: string,
    facts: Record<string, unknown>,
    decision: { status: 'approved' | 'rejected' | 'open'; via?: 'analyst' | 'deadline' },
  ) {
    const readable = RiskFactsSchema.safeParse(facts);
    const verdict = readable.success
      ? evaluate(readable.data, DEFAULT_RISK_POLICY)
      : { decision: 'review' as const, score: 0, reasons: [] };
    const assessment = await stack.db.riskAssessment.create({
      data: {
        subject: facts.kind === 'claim' ? 'claim' : 'order',
        orderId,
        decision: verdict.decision,
        score: verdict.score,
        facts: facts as object,
        verdict: verdict as object,
        policy: DEFAULT_RISK_POLICY as object,
      },
    });
    minutes += 1;
    const decided = decision.status !== 'open';
    const review = await stack.db.riskReview.create({
      data: {
        subject: assessment.subject,
        orderId,
        assessmentId: assessment.id,
        status: decision.status,
        score: verdict.score,
        topReasons: verdict.reasons.slice(0, 5),
        deadline: new Date(Date.now() + 3_600_000),
        onDeadline: 'rejected',
        ...(decided
          ? {
              decidedVia: decision.via ?? 'analyst',
              decidedBy: decision.via === 'deadline' ? 'deadline' : 'client:analyst',
              decidedAt: new Date(Date.UTC(2030, 0, 1, 0, minutes)),
            }
          : {}),
      },
    });
    cleanup.assessments.push(assessment.id);
    cleanup.reviews.push(review.id);
    return review;
  }

  test('replays the last decided reviews of the SKU under a stricter candidate and counts what changes', async () => {
    const shop = await shopWithStock(stack, { stock: 0, topUp: 1_000_000 });
    const { sku } = shop;
    const placeOrder = async (skuToOrder = sku) => {
      const res = await shop.api.post('/v1/orders', orderBody(skuToOrder));
      if (res.status !== 202) throw new Error(`order: ${res.status} ${res.text}`);
      return res.body.id as string;
    };
    const [hoarder, farm, lapsed, broken, waiting] = await Promise.all(Array.from({ length: 5 }, () => placeOrder()));
    // Hoarding (40) → review, approved by an analyst.
    const hoarderReview = await decidedReview(hoarder!, orderFacts(sku, { unclaimedUnits: 25 }), {
      status: 'approved',
    });
    // Hoarding on a device farm (40 + 30) → review, rejected by an analyst.
    const farmReview = await decidedReview(farm!, orderFacts(sku, { unclaimedUnits: 25, buyersOnDevice24h: 5 }), {
      status: 'rejected',
    });
    // A claim from another country (40) → review, approved.
    const claimReview = await decidedReview(hoarder!, claimFacts(hoarder!), { status: 'approved' });
    // The same as the farm, but nobody decided: the deadline rejected it.
    const lapsedReview = await decidedReview(lapsed!, orderFacts(sku, { unclaimedUnits: 25, buyersOnDevice24h: 5 }), {
      status: 'rejected',
      via: 'deadline',
    });
    // Facts no current schema reads.
    await decidedReview(broken!, { kind: 'order', legacy: true }, { status: 'approved' });
    // Not decided yet, and another SKU's: neither is replayed.
    await decidedReview(waiting!, orderFacts(sku, { unclaimedUnits: 25 }), { status: 'open' });
    const other = await createProduct();
    const otherOrder = await placeOrder(other.sku);
    await decidedReview(otherOrder, orderFacts(other.sku, { unclaimedUnits: 25 }), { status: 'approved' });

    // As the policy stands: every decided review would go to review again.
    const asIs = await analyst.post(`/v1/risk/policies/${sku}/simulate`, {});
    expect(asIs.status).toBe(200);
    expect(asIs.body.policy).toEqual((await admin.get(`/v1/risk/policies/${sku}`)).body.policy);
    expect(asIs.body.summary).toEqual({
      total: 4,
      unreadable: 1,
      unchanged: 4,
      wouldAllow: 0,
      wouldReview: 4,
      wouldBlock: 0,
      agreesWithAnalysts: 0,
    });

    // Stricter on hoarding farms (block at 60), laxer on country changes at claim time.
    const candidate = { thresholds: { block: 60 }, scores: { country_mismatch: 10 } };
    const rows = await rowCounts(stack.db);
    const res = await analyst.post(`/v1/risk/policies/${sku}/simulate`, { policy: candidate });
    expect(res.status).toBe(200);
    expect(await rowCounts(stack.db)).toEqual(rows); // a simulation writes nothing
    expect(res.body.policy).toEqual(mergePolicy(asIs.body.policy, candidate));
    expect(res.body.summary).toEqual({
      total: 4,
      unreadable: 1,
      unchanged: 1,
      wouldAllow: 1,
      wouldReview: 1,
      wouldBlock: 2,
      // The farm (rejected, would block) and the claim (approved, would allow); the lapsed
      // review would block too, but the deadline, not an analyst, rejected it.
      agreesWithAnalysts: 2,
    });
    // Newest decision first.
    const byReview = res.body.decisions.map((d: any) => [d.reviewId, d.subject, d.was.decision, d.wouldBe.decision]);
    expect(byReview).toEqual([
      [lapsedReview.id, 'order', 'review', 'block'],
      [claimReview.id, 'claim', 'review', 'allow'],
      [farmReview.id, 'order', 'review', 'block'],
      [hoarderReview.id, 'order', 'review', 'review'],
    ]);
    const farmDecision = res.body.decisions.find((d: any) => d.reviewId === farmReview.id);
    expect(farmDecision).toEqual({
      reviewId: farmReview.id,
      orderId: farm,
      subject: 'order',
      decidedAt: farmReview.decidedAt!.toISOString(),
      decidedVia: 'analyst',
      analystDecision: 'rejected',
      was: { decision: 'review', score: 70 },
      wouldBe: {
        decision: 'block',
        score: 70,
        reasons: [expect.stringMatching(/not yet claimed/), expect.stringMatching(/buyers on this device/)],
      },
    });
    expect(res.body.decisions.find((d: any) => d.reviewId === lapsedReview.id).decidedVia).toBe('deadline');

    // `last` takes the most recent decisions only.
    // `last` takes the most recent decisions only (the unreadable one, newest, among them).
    const lastThree = await analyst.post(`/v1/risk/policies/${sku}/simulate`, { policy: candidate, last: 3 });
    expect(lastThree.body.summary).toMatchObject({ total: 2, unreadable: 1 });
    expect(lastThree.body.decisions.map((d: any) => d.reviewId)).toEqual([lapsedReview.id, claimReview.id]);
  });

  test('a bad candidate or `last` is 422 naming the field', async () => {
    const { sku } = await createProduct();
    expectValidation(
      await analyst.post(`/v1/risk/policies/${sku}/simulate`, { policy: { thresholds: { review: 90, block: 80 } } }),
      'policy.thresholds.review',
    );
    expectValidation(
      await analyst.post(`/v1/risk/policies/${sku}/simulate`, { policy: { scores: { velocity: -5 } } }),
      'policy.scores.velocity',
    );
    expectValidation(await analyst.post(`/v1/risk/policies/${sku}/simulate`, { policy: 'strict' }), 'policy');
    expectValidation(await analyst.post(`/v1/risk/policies/${sku}/simulate`, { last: 0 }), 'last');
    expectValidation(await analyst.post(`/v1/risk/policies/${sku}/simulate`, { last: 1001 }), 'last');
    expectValidation(await analyst.post(`/v1/risk/policies/${sku}/simulate`, { extra: true }), '(body)');
  });
});
