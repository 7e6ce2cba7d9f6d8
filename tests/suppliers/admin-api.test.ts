// The admin API for upstream suppliers and product routes: admin writes, admin or support
// reads, credentials sealed and never returned, every change audited, bad input refused
// with problem+json and nothing written.
import { randomUUID } from 'node:crypto';
import { adminKey, createClientViaApi } from '../support/clients';
import { clientFor, expectProblem, type HttpResponse, request } from '../support/http';
import { rowCounts } from '../support/row-counts';
import { startStack, type TestStack } from '../support/stack';

let stack: TestStack;
let admin: ReturnType<typeof clientFor>;
let adminApiKey: string;
beforeAll(async () => {
  stack = await startStack({ worker: false });
  adminApiKey = await adminKey(stack);
  admin = clientFor(stack.url, adminApiKey);
});
afterAll(() => stack.close());

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const REFERENCE_SECRET = 'ref-secret-0123456789-abcdef';
const RELOADLY_SECRET = 'reloadly-client-secret-xyz-987';

const referenceBody = (name = unique('ref')) => ({
  name,
  protocol: 'reference',
  baseUrl: 'https://supplier.example/api',
  credentials: { accountId: 'acct-1', secret: REFERENCE_SECRET },
});

const reloadlyBody = (name = unique('reloadly')) => ({
  name,
  protocol: 'reloadly',
  baseUrl: 'https://topups.reloadly.com',
  credentials: { clientId: 'client-1', clientSecret: RELOADLY_SECRET },
  timeoutMs: 8000,
  callbackDeadlineMs: 60_000,
  enabled: false,
  circuit: { failuresToOpen: 3, windowSeconds: 120, cooldownSeconds: 45 },
});

const patch = (path: string, body: unknown, key = adminApiKey) => request(stack.url, 'PATCH', path, body, { key });
const put = (path: string, body: unknown, key = adminApiKey) => request(stack.url, 'PUT', path, body, { key });

async function supplierCount(): Promise<number> {
  return stack.db.supplier.count();
}

async function storedCipher(id: string): Promise<string> {
  const rows = await stack.db.$queryRaw<
    { credentials_cipher: string }[]
  >`SELECT credentials_cipher FROM suppliers WHERE id = ${id}::uuid`;
  expect(rows).toHaveLength(1);
  return rows[0]!.credentials_cipher;
}

async function createProduct(): Promise<string> {
  const sku = unique('gift');
  const res = await admin.post('/v1/products', {
    sku,
    name: 'Gift card 100',
    kind: 'card_key',
    price: { minor: 10_000, currency: 'CNY' },
  });
  if (res.status !== 201) throw new Error(`product: ${res.status} ${res.text}`);
  return sku;
}

async function createSupplier(body: Record<string, unknown>) {
  const res = await admin.post('/v1/suppliers', body);
  if (res.status !== 201) throw new Error(`supplier: ${res.status} ${res.text}`);
  return res.body as { id: string; name: string };
}

describe('creating suppliers', () => {
  test('a reference supplier: 201, defaults, no credentials in the answer or in the clear at rest, audited', async () => {
    const body = referenceBody();
    const res = await admin.post('/v1/suppliers', body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: body.name,
      protocol: 'reference',
      baseUrl: body.baseUrl,
      timeoutMs: 5000,
      callbackDeadlineMs: 30_000,
      enabled: true,
      circuit: { state: 'closed', failuresToOpen: 5, windowSeconds: 60, cooldownSeconds: 30 },
      catalog: { status: 'never_synced', syncedAt: null },
    });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body).not.toHaveProperty('credentials');
    expect(res.text).not.toContain(REFERENCE_SECRET);
    expect(res.text).not.toContain('acct-1');

    const cipher = await storedCipher(res.body.id);
    expect(cipher).not.toContain(REFERENCE_SECRET);
    expect(cipher).not.toContain('acct-1');

    const audit = await stack.db.auditLog.findFirst({ where: { subjectType: 'supplier', subjectId: res.body.id } });
    expect(audit).toMatchObject({ action: 'supplier.created', actor: 'client:bootstrap admin' });
    expect(JSON.stringify(audit?.details)).not.toContain(REFERENCE_SECRET);
  });

  test('a reloadly supplier with every setting: 201 with the settings mapped', async () => {
    const body = reloadlyBody();
    const res = await admin.post('/v1/suppliers', body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: body.name,
      protocol: 'reloadly',
      timeoutMs: 8000,
      callbackDeadlineMs: 60_000,
      enabled: false,
      circuit: { failuresToOpen: 3, windowSeconds: 120, cooldownSeconds: 45 },
    });
    expect(res.text).not.toContain(RELOADLY_SECRET);
    expect(await storedCipher(res.body.id)).not.toContain(RELOADLY_SECRET);
    const row = await stack.db.supplier.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row).toMatchObject({ circuitFailures: 3, circuitWindowSeconds: 120, circuitCooldownSeconds: 45 });
  });

  test('a duplicate name is 409 supplier_exists and writes nothing', async () => {
    const body = referenceBody();
    await createSupplier(body);
    const before = await rowCounts(stack.db);
    const suppliersBefore = await supplierCount();
    expectProblem(
      await admin.post('/v1/suppliers', { ...body, baseUrl: 'https://other.example' }),
      409,
      'supplier_exists',
    );
    expect(await supplierCount()).toBe(suppliersBefore);
    expect(await rowCounts(stack.db)).toEqual(before);
  });

  // The field the error names, when the case is about one field; every row has five entries
  // (a missing fifth would make jest pass its `done` callback instead).
  type BadCase = [name: string, status: number, code: string, body: () => unknown, path: RegExp | null];
  const bad: BadCase[] = [
    ['unknown protocol', 422, 'validation_failed', () => ({ ...referenceBody(), protocol: 'soap' }), /^protocol$/],
    [
      'reference credentials without the secret',
      422,
      'validation_failed',
      () => ({ ...referenceBody(), credentials: { accountId: 'acct-1' } }),
      /^credentials\.secret$/,
    ],
    [
      'a secret too short',
      422,
      'validation_failed',
      () => ({ ...referenceBody(), credentials: { accountId: 'acct-1', secret: 'short' } }),
      /^credentials\.secret$/,
    ],
    [
      'reloadly credentials for a reference supplier',
      422,
      'validation_failed',
      () => ({ ...referenceBody(), credentials: { clientId: 'c', clientSecret: RELOADLY_SECRET } }),
      /^credentials\./,
    ],
    [
      'reference credentials for a reloadly supplier',
      422,
      'validation_failed',
      () => ({ ...reloadlyBody(), credentials: { accountId: 'acct-1', secret: REFERENCE_SECRET } }),
      /^credentials\./,
    ],
    [
      'credentials not an object',
      422,
      'validation_failed',
      () => ({ ...referenceBody(), credentials: 'x' }),
      /^credentials$/,
    ],
    [
      'credentials missing',
      422,
      'validation_failed',
      () => ({ ...referenceBody(), credentials: undefined }),
      /^credentials$/,
    ],
    ['an unknown field', 422, 'validation_failed', () => ({ ...referenceBody(), region: 'eu' }), null],
    [
      'an unknown circuit field',
      422,
      'validation_failed',
      () => ({ ...reloadlyBody(), circuit: { ...reloadlyBody().circuit, halfOpenCalls: 2 } }),
      /^circuit$/,
    ],
    ['baseUrl not a URL', 422, 'validation_failed', () => ({ ...referenceBody(), baseUrl: 'not a url' }), /^baseUrl$/],
    [
      'baseUrl ftp',
      422,
      'validation_failed',
      () => ({ ...referenceBody(), baseUrl: 'ftp://supplier.example/' }),
      /^baseUrl$/,
    ],
    [
      'baseUrl over 2048 characters',
      422,
      'validation_failed',
      () => ({ ...referenceBody(), baseUrl: `https://supplier.example/${'a'.repeat(2048)}` }),
      /^baseUrl$/,
    ],
    [
      'baseUrl on a private network',
      422,
      'url_not_allowed',
      () => ({ ...referenceBody(), baseUrl: 'http://10.0.0.1' }),
      /^baseUrl$/,
    ],
    [
      'baseUrl on link-local (cloud metadata)',
      422,
      'url_not_allowed',
      () => ({ ...referenceBody(), baseUrl: 'http://169.254.169.254/latest' }),
      /^baseUrl$/,
    ],
    [
      'a reloadly auth URL on a private network',
      422,
      'url_not_allowed',
      () => ({
        ...reloadlyBody(),
        credentials: { clientId: 'c', clientSecret: RELOADLY_SECRET, authUrl: 'http://192.168.1.5/token' },
      }),
      /^credentials\.authUrl$/,
    ],
    ['name with capitals', 422, 'validation_failed', () => ({ ...referenceBody(), name: 'Acme' }), /^name$/],
    ['name of one character', 422, 'validation_failed', () => ({ ...referenceBody(), name: 'a' }), /^name$/],
    ['timeoutMs below 100', 422, 'validation_failed', () => ({ ...referenceBody(), timeoutMs: 99 }), /^timeoutMs$/],
    [
      'timeoutMs above 60000',
      422,
      'validation_failed',
      () => ({ ...referenceBody(), timeoutMs: 60_001 }),
      /^timeoutMs$/,
    ],
    [
      'callbackDeadlineMs below 1000',
      422,
      'validation_failed',
      () => ({ ...referenceBody(), callbackDeadlineMs: 999 }),
      /^callbackDeadlineMs$/,
    ],
    [
      'circuit failuresToOpen 0',
      422,
      'validation_failed',
      () => ({ ...referenceBody(), circuit: { failuresToOpen: 0, windowSeconds: 60, cooldownSeconds: 30 } }),
      /^circuit\.failuresToOpen$/,
    ],
    ['empty object', 422, 'validation_failed', () => ({}), /^name$/],
  ];

  test.each(bad)('%s → %i %s, nothing written', async (_name, status, code, body, path) => {
    const before = await rowCounts(stack.db);
    const suppliersBefore = await supplierCount();
    const res = await admin.post('/v1/suppliers', body());
    expectProblem(res, status, code);
    if (path)
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(
        expect.arrayContaining([expect.stringMatching(path)]),
      );
    expect(res.text).not.toContain(REFERENCE_SECRET);
    expect(res.text).not.toContain(RELOADLY_SECRET);
    expect(await supplierCount()).toBe(suppliersBefore);
    expect(await rowCounts(stack.db)).toEqual(before);
  });

  test('invalid JSON is 400 invalid_json', async () => {
    const res = await request(stack.url, 'POST', '/v1/suppliers', undefined, {
      key: adminApiKey,
      raw: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(res, 400, 'invalid_json');
  });
});

describe('reading suppliers', () => {
  test('list is ordered by name; get by id; unknown or malformed id is 404', async () => {
    const b = await createSupplier(referenceBody(unique('zz-b')));
    const a = await createSupplier(referenceBody(unique('aa-a')));
    const list = await admin.get('/v1/suppliers');
    expect(list.status).toBe(200);
    const names: string[] = list.body.suppliers.map((s: { name: string }) => s.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining([a.name, b.name]));
    expect(list.text).not.toContain(REFERENCE_SECRET);
    expect(list.body.suppliers.every((s: object) => !('credentials' in s))).toBe(true);

    const one = await admin.get(`/v1/suppliers/${a.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: a.id, name: a.name, protocol: 'reference' });
    expect(one.body).not.toHaveProperty('credentials');

    expectProblem(await admin.get(`/v1/suppliers/${randomUUID()}`), 404, 'not_found');
    expectProblem(await admin.get('/v1/suppliers/not-a-uuid'), 404, 'not_found');
  });

  test('support may read; an order system may neither create nor read (403)', async () => {
    const support = clientFor(stack.url, (await createClientViaApi(stack, 'support')).apiKey);
    expect((await support.get('/v1/suppliers')).status).toBe(200);
    expectProblem(await support.post('/v1/suppliers', referenceBody()), 403, 'forbidden');

    const shop = clientFor(stack.url, (await createClientViaApi(stack, 'order-system')).apiKey);
    const before = await supplierCount();
    expectProblem(await shop.post('/v1/suppliers', referenceBody()), 403, 'forbidden');
    expect(await supplierCount()).toBe(before);
    expectProblem(await shop.get('/v1/suppliers'), 403, 'forbidden');
    const existing = await createSupplier(referenceBody());
    expectProblem(await shop.get(`/v1/suppliers/${existing.id}`), 403, 'forbidden');

    expectProblem(await clientFor(stack.url).get('/v1/suppliers'), 401, 'unauthenticated');
  });
});

describe('changing suppliers', () => {
  test('PATCH changes the timeout and part of the circuit, replaces credentials, and is audited', async () => {
    const created = await createSupplier(referenceBody());
    const cipherBefore = await storedCipher(created.id);
    const newSecret = 'rotated-secret-abcdefghijklmnop';
    const res = await patch(`/v1/suppliers/${created.id}`, {
      timeoutMs: 2500,
      circuit: { cooldownSeconds: 90 },
      credentials: { accountId: 'acct-2', secret: newSecret },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: created.id,
      timeoutMs: 2500,
      circuit: { failuresToOpen: 5, windowSeconds: 60, cooldownSeconds: 90 },
    });
    expect(res.body).not.toHaveProperty('credentials');
    expect(res.text).not.toContain(newSecret);
    const cipherAfter = await storedCipher(created.id);
    expect(cipherAfter).not.toBe(cipherBefore);
    expect(cipherAfter).not.toContain(newSecret);

    const audit = await stack.db.auditLog.findFirst({
      where: { subjectType: 'supplier', subjectId: created.id, action: 'supplier.updated' },
    });
    expect(audit?.details).toMatchObject({ timeoutMs: 2500, circuitCooldownSeconds: 90, credentialsReplaced: true });
    expect(JSON.stringify(audit?.details)).not.toContain(newSecret);

    const again = await patch(`/v1/suppliers/${created.id}`, { enabled: false, baseUrl: 'https://new.example/v2' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ enabled: false, baseUrl: 'https://new.example/v2', timeoutMs: 2500 });
    expect(await storedCipher(created.id)).toBe(cipherAfter);
  });

  test('PATCH refuses bad bodies (nothing changes), unknown ids and other roles', async () => {
    const created = await createSupplier(referenceBody());
    const row = () => stack.db.supplier.findUniqueOrThrow({ where: { id: created.id } });
    const before = await row();
    const auditBefore = await stack.db.auditLog.count();
    const path = `/v1/suppliers/${created.id}`;

    expectProblem(await patch(path, {}), 422, 'validation_failed');
    expectProblem(await patch(path, { circuit: {} }), 422, 'validation_failed');
    expectProblem(await patch(path, { name: 'renamed' }), 422, 'validation_failed');
    expectProblem(await patch(path, { protocol: 'reloadly' }), 422, 'validation_failed');
    expectProblem(await patch(path, { timeoutMs: 0 }), 422, 'validation_failed');
    const wrongProtocol = await patch(path, { credentials: { clientId: 'c', clientSecret: RELOADLY_SECRET } });
    expectProblem(wrongProtocol, 422, 'validation_failed');
    expect(wrongProtocol.body.errors[0].path).toMatch(/^credentials\./);
    expectProblem(await patch(path, { baseUrl: 'http://10.0.0.1' }), 422, 'url_not_allowed');

    expect(await row()).toEqual(before);
    expect(await stack.db.auditLog.count()).toBe(auditBefore);

    expectProblem(await patch(`/v1/suppliers/${randomUUID()}`, { timeoutMs: 1000 }), 404, 'not_found');
    expectProblem(await patch('/v1/suppliers/nope', { timeoutMs: 1000 }), 404, 'not_found');
    const support = (await createClientViaApi(stack, 'support')).apiKey;
    expectProblem(await patch(path, { timeoutMs: 1000 }, support), 403, 'forbidden');
  });
});

describe('product routes', () => {
  const routeBody = (priority: number, minor: number, productCode = 'GC-100@100@CN') => ({
    productCode,
    cost: { minor },
    priority,
  });

  test('PUT creates routes, GET lists them by priority then cost, PUT again replaces', async () => {
    const sku = await createProduct();
    const [s1, s2, s3] = [
      await createSupplier(referenceBody()),
      await createSupplier(referenceBody()),
      await createSupplier(reloadlyBody()),
    ];

    const first = await put(`/v1/products/${sku}/routes/${s1!.name}`, routeBody(100, 9000));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      supplier: { id: s1!.id, name: s1!.name },
      productCode: 'GC-100@100@CN',
      costMinor: 9000,
      priority: 100,
      enabled: true,
      stock: null,
      syncedAt: null,
    });
    expect((await put(`/v1/products/${sku}/routes/${s2!.name}`, routeBody(50, 9900))).status).toBe(200);
    // Defaults: priority 100, enabled.
    const third = await put(`/v1/products/${sku}/routes/${s3!.name}`, { productCode: '12345', cost: { minor: 8000 } });
    expect(third.status).toBe(200);
    expect(third.body).toMatchObject({ priority: 100, enabled: true });

    const listed = await admin.get(`/v1/products/${sku}/routes`);
    expect(listed.status).toBe(200);
    expect(listed.body.sku).toBe(sku);
    expect(listed.body.routes.map((r: { supplier: { name: string } }) => r.supplier.name)).toEqual([
      s2!.name,
      s3!.name,
      s1!.name,
    ]);

    const replaced = await put(`/v1/products/${sku}/routes/${s1!.name}`, {
      ...routeBody(10, 9500, 'GC-100-v2'),
      enabled: false,
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      id: first.body.id,
      productCode: 'GC-100-v2',
      costMinor: 9500,
      enabled: false,
    });
    const after = await admin.get(`/v1/products/${sku}/routes`);
    expect(after.body.routes).toHaveLength(3);
    expect(after.body.routes[0]).toMatchObject({ supplier: { name: s1!.name }, priority: 10, enabled: false });

    const product = await stack.db.product.findUniqueOrThrow({ where: { sku } });
    expect(await stack.db.supplierRoute.count({ where: { productId: product.id } })).toBe(3);
    expect(
      await stack.db.auditLog.count({ where: { subjectType: 'product', subjectId: product.id, action: 'route.put' } }),
    ).toBe(4);

    // Support may read the routes; an order system may not.
    const support = clientFor(stack.url, (await createClientViaApi(stack, 'support')).apiKey);
    expect((await support.get(`/v1/products/${sku}/routes`)).status).toBe(200);
    const shopKey = (await createClientViaApi(stack, 'order-system')).apiKey;
    expectProblem(await clientFor(stack.url, shopKey).get(`/v1/products/${sku}/routes`), 403, 'forbidden');
    expectProblem(await put(`/v1/products/${sku}/routes/${s1!.name}`, routeBody(1, 1), shopKey), 403, 'forbidden');
  });

  test('unknown sku or supplier is 404; bad bodies are 422; nothing is written', async () => {
    const sku = await createProduct();
    const supplier = await createSupplier(referenceBody());
    const before = await stack.db.supplierRoute.count();
    const auditBefore = await stack.db.auditLog.count();

    expectProblem(await admin.get('/v1/products/no-such-sku/routes'), 404, 'not_found');
    expectProblem(await put(`/v1/products/no-such-sku/routes/${supplier.name}`, routeBody(1, 1)), 404, 'not_found');
    expectProblem(await put(`/v1/products/${sku}/routes/no-such-supplier`, routeBody(1, 1)), 404, 'not_found');
    expectProblem(await put(`/v1/products/${sku}/routes/${supplier.id}`, routeBody(1, 1)), 404, 'not_found');

    const path = `/v1/products/${sku}/routes/${supplier.name}`;
    const badBodies: unknown[] = [
      {},
      { ...routeBody(1, 1), productCode: '' },
      { ...routeBody(1, 1), productCode: 'a\u0000b' },
      { ...routeBody(1, 1), productCode: 'x'.repeat(201) },
      { ...routeBody(1, 1), cost: { minor: -1 } },
      { ...routeBody(1, 1), cost: { minor: 1.5 } },
      { ...routeBody(1, 1), cost: { minor: 100_000_001 } },
      { ...routeBody(1, 1), cost: 100 },
      { ...routeBody(1, 1), cost: { minor: 1, currency: 'CNY', extra: true } },
      { ...routeBody(1, 1), priority: -1 },
      { ...routeBody(1, 1), priority: 10_001 },
      { ...routeBody(1, 1), enabled: 'yes' },
      { ...routeBody(1, 1), supplierId: supplier.id },
    ];
    const results: HttpResponse[] = [];
    for (const body of badBodies) results.push(await put(path, body));
    for (const res of results) expectProblem(res, 422, 'validation_failed');

    expect(await stack.db.supplierRoute.count()).toBe(before);
    expect(await stack.db.auditLog.count()).toBe(auditBefore);
  });
});
