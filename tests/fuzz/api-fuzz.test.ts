// Issue 16: property-based fuzzing over real HTTP. Random and mutated bodies, headers,
// query strings and paths for every route → never a 5xx; every 4xx is problem+json with a
// code; a rejected request writes nothing. The stack runs without a worker, so nothing
// writes in the background between the counts. Fixed seed; FUZZ_RUNS for long runs
// (`npm run fuzz`), FUZZ_SEED to replay one.
import fc from 'fast-check';
import { adminKey, createClientViaApi } from '../support/clients';
import { request } from '../support/http';
import { rowCounts } from '../support/row-counts';
import { startStack, type TestStack } from '../support/stack';

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
jest.setTimeout(Math.max(120_000, RUNS * 100));

let stack: TestStack;
let keys: { admin: string; shop: string; shopId: string };
const sku = 'fuzz-sku';
beforeAll(async () => {
  // Thousands of claim-link GETs from one address: far over the 30 a minute per IP default.
  stack = await startStack({ worker: false, config: { RATE_LIMIT_CLAIM_IP_REQUESTS: '1000000' } });
  const admin = await adminKey(stack);
  const shop = await createClientViaApi(stack, 'order-system', { name: 'fuzz shop' });
  keys = { admin, shop: shop.apiKey, shopId: shop.id };
  await request(
    stack.url,
    'POST',
    '/v1/products',
    { sku, name: 'Fuzz', kind: 'card_key', price: { minor: 100, currency: 'CNY' } },
    { key: admin },
  );
  await request(
    stack.url,
    'POST',
    '/v1/suppliers',
    {
      name: 'fuzz-sup',
      protocol: 'reference',
      baseUrl: 'http://127.0.0.1:9/ref/fuzz-sup',
      credentials: { accountId: 'fuzz', secret: 'fuzz-secret-0123456789' },
    },
    { key: admin },
  );
});
afterAll(() => stack.close());

const validBodies: Record<string, () => Record<string, unknown>> = {
  '/v1/orders': () => ({
    externalOrderId: 'fuzz-1',
    buyer: { id: 'b1', ip: '203.0.113.7', deviceId: 'd1' },
    items: [{ sku, quantity: 1 }],
  }),
  '/v1/products': () => ({ sku: 'fuzz-new', name: 'New', kind: 'card_key', price: { minor: 100, currency: 'CNY' } }),
  '/v1/inventory/batches': () => ({ sku, keys: ['FUZZ-KEY-1'], supplier: 'acme', costMinor: 10 }),
  '/v1/clients': () => ({ name: 'fuzz client', role: 'order-system', webhookUrl: 'https://shop.example.com/hooks' }),
  topups: () => ({ amount: { minor: 100, currency: 'CNY' } }),
  '/v1/suppliers': () => ({
    name: 'fuzz-new-sup',
    protocol: 'reloadly',
    baseUrl: 'http://127.0.0.1:9/reloadly',
    credentials: { clientId: 'c', clientSecret: 's', authUrl: 'http://127.0.0.1:9/oauth/token' },
    timeoutMs: 1000,
    circuit: { failuresToOpen: 5, windowSeconds: 60, cooldownSeconds: 30 },
  }),
  route: () => ({ productCode: 'P-1', cost: { minor: 50 }, priority: 1, enabled: true }),
  callback: () => ({
    reference: '00000000-0000-4000-8000-000000000000',
    status: 'succeeded',
    transactionId: 'T-1',
    costMinor: 50,
    key: { code: 'K-1', pin: '1' },
  }),
};

const nasty = fc.oneof(
  fc.anything(),
  fc.string(),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\u202E',
    'A\u200B',
    '%ff',
    '../..',
    '1.0000000000000001',
    'http://169.254.169.254/',
    'QQQ',
  ),
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 0, 2 ** 53 + 1, 1e308, Number.MAX_SAFE_INTEGER),
  fc.constant(null),
  fc.array(fc.anything(), { maxLength: 3 }),
);

/** A valid body with one field replaced, removed, or an extra one added, at any depth. */
function mutate(body: Record<string, unknown>) {
  return fc.tuple(fc.nat(), nasty, fc.constantFrom('replace', 'delete', 'add')).map(([pick, value, how]) => {
    const copy = structuredClone(body) as Record<string, unknown>;
    const paths: (string | number)[][] = [];
    const walk = (node: unknown, at: (string | number)[]) => {
      if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          paths.push([...at, Array.isArray(node) ? Number(k) : k]);
          walk(v, [...at, Array.isArray(node) ? Number(k) : k]);
        }
      }
    };
    walk(copy, []);
    const path = paths[pick % paths.length]!;
    let parent: any = copy;
    for (const step of path.slice(0, -1)) parent = parent[step];
    const leaf = path.at(-1)!;
    if (how === 'replace') parent[leaf] = value;
    else if (how === 'delete') delete parent[leaf];
    else parent[`x${pick % 7}`] = value;
    return JSON.stringify(copy);
  });
}

const routes = [
  '/v1/orders',
  '/v1/products',
  '/v1/inventory/batches',
  '/v1/clients',
  'topups',
  '/v1/suppliers',
  'route',
  'callback',
] as const;
/** Where each body goes (topups, routes and callbacks name a client, product or supplier in the path). */
const targetOf = (route: (typeof routes)[number]) => {
  if (route === 'topups') return { method: 'POST', path: `/v1/clients/${keys.shopId}/topups` };
  if (route === 'route') return { method: 'PUT', path: `/v1/products/${sku}/routes/fuzz-sup` };
  if (route === 'callback') return { method: 'POST', path: '/v1/supplier-callbacks/fuzz-sup' };
  return { method: 'POST', path: route };
};

const bodyFor = (route: (typeof routes)[number]) =>
  fc.oneof(
    { weight: 5, arbitrary: mutate(validBodies[route]!()) },
    { weight: 1, arbitrary: fc.json() },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')) },
  );

const headerValue = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 80 }).filter((v) => /^[\x20-\x7e]*$/.test(v)),
  fc.constantFrom(
    '',
    ' k',
    'k ',
    'x'.repeat(300),
    'gzip',
    'br',
    'deflate',
    'identity',
    'application/json; charset=latin1',
  ),
);

const post = fc.record({
  route: fc.constantFrom(...routes),
  role: fc.constantFrom('admin', 'shop', 'none', 'garbage'),
  contentType: fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    '',
  ),
  encoding: fc.option(fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'compress'), { nil: undefined }),
  idempotencyKey: fc.option(headerValue, { nil: undefined }),
  requestId: fc.option(headerValue, { nil: undefined }),
});

const getPath = fc.oneof(
  fc.constantFrom(
    '/v1/orders',
    '/v1/balance',
    '/v1/products',
    '/v1/inventory',
    '/v1/claims',
    '/v1/suppliers',
    `/v1/products/${sku}/routes`,
    '/healthz',
    '/readyz',
  ),
  fc
    .tuple(
      fc.constantFrom(
        '/v1/orders/',
        '/v1/claims/',
        '/V1/ORDERS/',
        '//v1//claims/',
        '/v1/clients/',
        '/v1/suppliers/',
        '/v1/products/',
      ),
      fc.string({ maxLength: 60 }),
    )
    .map(([base, tail]) => base + encodeURIComponent(tail).replace(/%2[fF]/g, '/')),
  fc
    .tuple(
      fc.constantFrom('/v1/orders/', '/v1/claims/'),
      fc.constantFrom('%ff', '%', '%zz', '%e0%80', '..%2f..', '%00'),
    )
    .map(([a, b]) => a + b),
  fc
    .tuple(fc.constantFrom('/v1/orders?', '/v1/balance?', '/v1/orders?stuckFor='), fc.string({ maxLength: 60 }))
    .map(([base, q]) => base + q.replace(/[#\s]/g, '')),
);

async function expectSane(res: { status: number; headers: Headers; body: any }, what: string) {
  if (res.status >= 500) throw new Error(`${what} → ${res.status} ${JSON.stringify(res.body)}`);
  if (res.status >= 400) {
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(typeof res.body?.code).toBe('string');
  }
}

// The claim GETs come from an address of their own (the API trusts X-Forwarded-For from
// loopback), so their count does not use up 127.0.0.1's claim budget in the test files after this one.
const FROM_FUZZ_ADDRESS = { 'x-forwarded-for': '192.0.2.16' };

const keyFor = (role: string) =>
  role === 'admin' ? keys.admin : role === 'shop' ? keys.shop : role === 'garbage' ? 'rp_not_a_real_key' : undefined;

test('POSTs and PUTs with random and mutated bodies and headers: no 5xx, problem+json, nothing written on reject', async () => {
  let requests = 0;
  await fc.assert(
    fc.asyncProperty(
      post.chain((shape) => bodyFor(shape.route).map((body) => ({ ...shape, body }))),
      async ({ body, ...shape }) => {
        const { method, path: route } = targetOf(shape.route);
        const headers: Record<string, string> = {};
        if (shape.contentType) headers['content-type'] = shape.contentType;
        if (shape.encoding) headers['content-encoding'] = shape.encoding;
        if (shape.idempotencyKey !== undefined) headers['idempotency-key'] = shape.idempotencyKey;
        if (shape.requestId !== undefined) headers['x-request-id'] = shape.requestId;
        const before = await rowCounts(stack.db);
        const key = keyFor(shape.role);
        const res = await request(stack.url, method, route, undefined, { raw: body, headers, ...(key ? { key } : {}) });
        requests += 1;
        await expectSane(res, `${method} ${route} ${body.slice(0, 200)}`);
        if (res.status >= 400) expect(await rowCounts(stack.db)).toEqual(before);
      },
    ),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  process.stderr.write(`fuzz: ${requests} POSTs, seed ${SEED}\n`);
});

test('GETs with random paths and query strings: no 5xx, problem+json, nothing written', async () => {
  let requests = 0;
  await fc.assert(
    fc.asyncProperty(getPath, fc.constantFrom('admin', 'shop', 'none'), async (path, role) => {
      const before = await rowCounts(stack.db);
      const key = keyFor(role);
      const res = await request(stack.url, 'GET', path, undefined, {
        headers: FROM_FUZZ_ADDRESS,
        ...(key ? { key } : {}),
      });
      requests += 1;
      await expectSane(res, `GET ${path}`);
      expect(await rowCounts(stack.db)).toEqual(before);
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  process.stderr.write(`fuzz: ${requests} GETs, seed ${SEED}\n`);
});
