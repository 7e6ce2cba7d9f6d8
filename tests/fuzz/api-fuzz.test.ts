// Issues 16 and 29: property-based fuzzing over real HTTP. Random and mutated bodies, headers,
// query strings and paths for every route — and bodies signed with the right secret, so
// they get past the signature to the code behind it: supplier callbacks signed under the
// test supplier's secret (for units really waiting at that supplier) and Stripe events
// signed with STRIPE_WEBHOOK_SECRET; and cursors and date ranges on every paginated and
// report route → never a 5xx; every 4xx is problem+json with a code; a rejected request
// writes nothing. The stack runs without a worker, so nothing writes in the background
// between the counts. Fixed seed; FUZZ_RUNS (runs per property) for long runs
// (`npm run fuzz`), FUZZ_SEED to replay one; FUZZ_ALL_5XX=1 prints every 5xx and fails each
// property at its end instead of at the first (to list them all in one run).
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import Stripe from 'stripe';
import { timeCursor } from '../../api/pagination';
import { ledgerKeys } from '../../domain/ledger-keys';
import { signRequest } from '../../infra/request-signature';
import { beginOrder } from '../../store/orders';
import { recordAttempt } from '../../store/suppliers/sourcing';
import { adminKey, createClientViaApi } from '../support/clients';
import { request } from '../support/http';
import { rowCounts } from '../support/row-counts';
import { startStack, type TestStack } from '../support/stack';

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
// The signed and paginated properties run a quarter of RUNS by default, so `npm test` stays
// quick; `npm run fuzz` runs every property FUZZ_RUNS times.
const DEEP_RUNS = process.env.FUZZ_RUNS ? RUNS : Math.ceil(RUNS / 4);
jest.setTimeout(Math.max(120_000, RUNS * 100));

const SUPPLIER = { name: 'fuzz-sup', secret: 'fuzz-secret-0123456789' };
const STRIPE_SECRET = process.env.STRIPE_WEBHOOK_SECRET ?? '';

let stack: TestStack;
let keys: { admin: string; shop: string; shopId: string };
/** Units of a fulfilling order, each waiting for the test supplier's answer: callbacks about them reach the binding. */
let pendingUnits: string[];
const sku = 'fuzz-sku';
beforeAll(async () => {
  // Thousands of claim-link GETs from one address, thousands of requests a minute per key.
  stack = await startStack({
    worker: false,
    config: { RATE_LIMIT_CLAIM_IP_REQUESTS: '1000000', RATE_LIMIT_CLIENT_REQUESTS: '0' },
  });
  const admin = await adminKey(stack);
  const shop = await createClientViaApi(stack, 'order-system', { name: 'fuzz shop' });
  keys = { admin, shop: shop.apiKey, shopId: shop.id };
  const setup = async (method: string, path: string, body: unknown, key: string) => {
    const res = await request(stack.url, method, path, body, { key });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  };
  await setup(
    'POST',
    '/v1/products',
    { sku, name: 'Fuzz', kind: 'card_key', price: { minor: 100, currency: 'CNY' } },
    admin,
  );
  const supplier = await setup(
    'POST',
    '/v1/suppliers',
    {
      name: SUPPLIER.name,
      protocol: 'reference',
      baseUrl: 'http://127.0.0.1:9/ref/fuzz-sup',
      credentials: { accountId: 'fuzz', secret: SUPPLIER.secret },
    },
    admin,
  );
  await setup('POST', `/v1/clients/${shop.id}/topups`, { amount: { minor: 100_000, currency: 'CNY' } }, admin);
  const order = await setup(
    'POST',
    '/v1/orders',
    {
      externalOrderId: 'fuzz-pending',
      buyer: { id: 'fuzz-buyer', ip: '203.0.113.7', deviceId: 'fuzz-device' },
      items: [{ sku, quantity: 20 }],
    },
    shop.apiKey,
  );
  // What the workflow's first step and a purchase sent to the supplier would leave: the order
  // fulfilling, each unit with an order pending at the test supplier.
  await beginOrder(stack.db, order.id, ledgerKeys.orderDebit(order.id));
  const units = await stack.db.orderUnit.findMany({ where: { orderId: order.id }, select: { id: true } });
  pendingUnits = units.map((u) => u.id);
  for (const unitId of pendingUnits) {
    await recordAttempt(stack.db, { unitId, supplierId: supplier.id, source: SUPPLIER.name, outcome: 'pending' });
  }
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

/** Values that have broken a boundary somewhere: numbers no column holds, text that is not text. */
const NASTY_NUMBERS = [
  -1,
  0,
  1.5,
  -0.5,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53 - 1,
  2 ** 53 + 1,
  2 ** 63,
  1e308,
];
const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u202E',
  'x\u202Ey',
  '\u2066',
  'A\u200B',
  '\uFEFF',
  '\uD800',
  '%ff',
  '../..',
  '1.0000000000000001',
  'http://169.254.169.254/',
  'QQQ',
  'x'.repeat(10_000),
];
const nasty = fc.oneof(
  fc.anything(),
  fc.string(),
  fc.constantFrom(...NASTY_STRINGS),
  fc.integer(),
  fc.double(),
  fc.constantFrom(...NASTY_NUMBERS, Number.MAX_SAFE_INTEGER),
  fc.constant(null),
  fc.array(fc.anything(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.anything(), { maxKeys: 3 }),
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

/** Mostly valid bodies with one thing wrong, some valid ones, and now and then anything at all. */
const mutatedOr = (bodies: fc.Arbitrary<Record<string, unknown>>) =>
  fc.oneof(
    { weight: 4, arbitrary: bodies.chain(mutate) },
    { weight: 4, arbitrary: bodies.map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: fc.json() },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  );

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

type Answer = { status: number; headers: Headers; body: any };

const ALL_5XX = process.env.FUZZ_ALL_5XX === '1';
/** 5xx answers of the running property, when FUZZ_ALL_5XX collects them instead of stopping at the first. */
const serverErrors: string[] = [];
afterEach(() => {
  const found = serverErrors.splice(0);
  expect(found).toEqual([]);
});

async function expectSane(res: Answer, what: string) {
  if (res.status >= 500) {
    const error = `${what} → ${res.status} ${JSON.stringify(res.body)}`;
    if (!ALL_5XX) throw new Error(error);
    serverErrors.push(error);
    process.stderr.write(`fuzz 5xx: ${error}\n`);
    return;
  }
  if (res.status >= 400) {
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(typeof res.body?.code).toBe('string');
  }
}

/** Sends one request; a refused one must have written nothing. */
async function sendAndCheck(
  method: string,
  path: string,
  options: Parameters<typeof request>[4],
  what: string,
): Promise<Answer> {
  const before = await rowCounts(stack.db);
  const res = await request(stack.url, method, path, undefined, options);
  await expectSane(res, what);
  if (res.status >= 400) expect(await rowCounts(stack.db)).toEqual(before);
  return res;
}

// The claim GETs come from an address of their own (the API trusts X-Forwarded-For from
// loopback), so their count does not use up 127.0.0.1's claim budget in the test files after this one.
const FROM_FUZZ_ADDRESS = { 'x-forwarded-for': '192.0.2.16' };

const keyFor = (role: string) =>
  role === 'admin' ? keys.admin : role === 'shop' ? keys.shop : role === 'garbage' ? 'rp_not_a_real_key' : undefined;

/** Tallies answers by status, printed at the end of each property: a run that only ever saw 401s proved little. */
function tally() {
  const seen = new Map<number, number>();
  return {
    add: (status: number) => seen.set(status, (seen.get(status) ?? 0) + 1),
    report: (what: string) =>
      process.stderr.write(
        `fuzz: ${[...seen.values()].reduce((a, b) => a + b, 0)} ${what}, seed ${SEED}: ${[...seen]
          .sort(([a], [b]) => a - b)
          .map(([status, n]) => `${status}×${n}`)
          .join(' ')}\n`,
      ),
    count: (pred: (status: number) => boolean) => [...seen].filter(([s]) => pred(s)).reduce((a, [, n]) => a + n, 0),
  };
}

test('POSTs and PUTs with random and mutated bodies and headers: no 5xx, problem+json, nothing written on reject', async () => {
  const answers = tally();
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
        const key = keyFor(shape.role);
        const res = await sendAndCheck(
          method,
          route,
          { raw: body, headers, ...(key ? { key } : {}) },
          `${method} ${route} ${body.slice(0, 200)}`,
        );
        answers.add(res.status);
      },
    ),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  answers.report('POSTs');
});

test('GETs with random paths and query strings: no 5xx, problem+json, nothing written', async () => {
  const answers = tally();
  await fc.assert(
    fc.asyncProperty(getPath, fc.constantFrom('admin', 'shop', 'none'), async (path, role) => {
      const before = await rowCounts(stack.db);
      const key = keyFor(role);
      const res = await request(stack.url, 'GET', path, undefined, {
        headers: FROM_FUZZ_ADDRESS,
        ...(key ? { key } : {}),
      });
      answers.add(res.status);
      await expectSane(res, `GET ${path}`);
      expect(await rowCounts(stack.db)).toEqual(before);
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  answers.report('GETs');
});

// ---------------------------------------------------------------------------------------
// Signed supplier callbacks: the signature is right, the content is anything.
// ---------------------------------------------------------------------------------------

/** Mostly a unit waiting at the supplier (read when generated, after the setup made them). */
const callbackReference = fc.oneof(
  { weight: 8, arbitrary: fc.nat().map((i) => pendingUnits[i % pendingUnits.length]!) },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.constantFrom('00000000-0000-0000-0000-000000000000', 'not-a-uuid', '') },
);

/** Mostly a valid value, else one of the values that break boundaries. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, bad: fc.Arbitrary<U>): fc.Arbitrary<T | U> =>
  fc.oneof(
    { weight: 9, arbitrary: valid as fc.Arbitrary<T | U> },
    { weight: 1, arbitrary: bad as fc.Arbitrary<T | U> },
  );
/** Now and then a value, mostly none. */
const rarely = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 9, arbitrary: fc.constant(undefined) as fc.Arbitrary<T | undefined> },
    { weight: 1, arbitrary: arb as fc.Arbitrary<T | undefined> },
  );
const cost = mostly(fc.integer({ min: 0, max: 200 }), fc.constantFrom(...NASTY_NUMBERS));
const text = mostly(
  fc.stringMatching(/^[A-Za-z0-9 -]{1,40}$/),
  fc.oneof(fc.string(), fc.constantFrom(...NASTY_STRINGS)),
);
const CALLBACKS = `/v1/supplier-callbacks/${SUPPLIER.name}`;
/** A callback of each kind to its own path (now and then to another path, or with a query). */
const callbacks = callbackReference.chain((ref) =>
  fc.oneof(
    fc.record({
      path: fc.constant(CALLBACKS),
      body: fc.oneof(
        fc.record({
          reference: fc.constant(ref),
          status: fc.constant('succeeded'),
          transactionId: text,
          costMinor: cost,
          currency: fc.constantFrom('CNY', 'USD', ''),
          key: fc.record({ code: mostly(fc.uuid(), text), pin: text }, { requiredKeys: ['code'] }),
        }),
        fc.record({
          reference: fc.constant(ref),
          status: mostly(
            fc.constantFrom('failed', 'cancelled', 'disputed', 'pending'),
            fc.constantFrom('SUCCEEDED', ''),
          ),
          failureReason: text,
          transactionId: text,
        }),
      ),
    }),
    fc.record({
      path: fc.constant(`${CALLBACKS}/redemptions`),
      body: fc.record({
        reference: fc.constant(ref),
        redeemedAt: mostly(
          fc
            .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
            .map((d) => d.toISOString()),
          fc.oneof(text, fc.date().map(String)),
        ),
      }),
    }),
    fc.record({
      path: fc.constant(`${CALLBACKS}/invalidations`),
      body: fc.record({ reference: fc.constant(ref), reason: text }),
    }),
  ),
);
const callbackRequests = fc
  .tuple(callbacks, rarely(fc.constantFrom(CALLBACKS, `${CALLBACKS}/redemptions`, `${CALLBACKS}?x=%00`)))
  .chain(([{ path, body }, elsewhere]) =>
    mutatedOr(fc.constant(body as Record<string, unknown>)).map((raw) => ({ path: elsewhere ?? path, body: raw })),
  );
/** How the request is signed: mostly right; sometimes stale, under another secret, or tampered. */
const signing = fc.oneof(
  { weight: 8, arbitrary: fc.constant('right' as const) },
  { weight: 1, arbitrary: fc.constantFrom('stale', 'other secret', 'two v1', 'uppercase hex') },
  { weight: 1, arbitrary: headerValue },
);

function supplierSignature(how: string, path: string, body: string): string {
  const now = Math.floor(Date.now() / 1000);
  const sign = (secret: string, t = now) => signRequest(secret, { method: 'POST', path, body }, t);
  switch (how) {
    case 'right':
      return sign(SUPPLIER.secret);
    case 'stale':
      return sign(SUPPLIER.secret, now - 301);
    case 'other secret':
      return sign('not-the-suppliers-secret');
    case 'two v1':
      return `${sign('not-the-suppliers-secret')},${sign(SUPPLIER.secret).split(',')[1]}`;
    case 'uppercase hex':
      return sign(SUPPLIER.secret).replace(/v1=(\w+)/, (_, mac: string) => `v1=${mac.toUpperCase()}`);
    default:
      return how;
  }
}

test('supplier callbacks signed with the supplier’s secret, fuzzed fields: no 5xx, problem+json, nothing written on reject', async () => {
  const answers = tally();
  await fc.assert(
    fc.asyncProperty(callbackRequests, signing, async ({ path, body }, how) => {
      const res = await sendAndCheck(
        'POST',
        path,
        {
          raw: body,
          headers: { 'content-type': 'application/json', 'x-rights-signature': supplierSignature(how, path, body) },
        },
        `POST ${path} (${how}) ${body.slice(0, 300)}`,
      );
      answers.add(res.status);
    }),
    { seed: SEED, numRuns: DEEP_RUNS, endOnFailure: true },
  );
  answers.report('signed supplier callbacks');
  // Most of them got past the signature to the code behind it.
  expect(answers.count((s) => s !== 401)).toBeGreaterThan(DEEP_RUNS / 2);
});

// ---------------------------------------------------------------------------------------
// Signed Stripe events: signed by the SDK's own test signer with the endpoint's secret.
// ---------------------------------------------------------------------------------------

const stripeObject = fc.oneof(
  fc.record({
    object: fc.constant('payment_intent'),
    id: fc.constantFrom('pi_fuzz_1', `pi_${randomUUID().replace(/-/g, '')}`),
    amount: cost,
    amount_received: cost,
    amount_capturable: cost,
    status: fc.constantFrom('succeeded', 'requires_capture', 'canceled', 'processing', ''),
    currency: fc.constantFrom('cny', 'usd', 'CNY', ''),
    metadata: fc.dictionary(fc.constantFrom('orderId', 'x'), fc.oneof(fc.uuid(), text), { maxKeys: 2 }),
  }),
  fc.record({
    object: fc.constant('charge'),
    id: mostly(fc.constant('ch_fuzz_1'), fc.constantFrom('ch_', 'ch_\u0000')),
    payment_intent: fc.oneof(fc.constant('pi_fuzz_1'), fc.constant(null), fc.record({ id: fc.constant('pi_fuzz_1') })),
    amount: cost,
    amount_captured: cost,
    amount_refunded: cost,
  }),
  fc.record({
    object: fc.constant('refund'),
    id: fc.constant('re_fuzz_1'),
    payment_intent: fc.constant('pi_fuzz_1'),
    amount: cost,
    status: fc.constantFrom('succeeded', 'failed', 'pending'),
  }),
  fc.record({ object: fc.constantFrom('customer', 'invoice', ''), id: text }),
);
const stripeEvents = fc.record({
  id: mostly(
    fc.oneof(
      fc.constant('evt_fuzz_1'),
      fc.uuid().map((u) => `evt_${u.replace(/-/g, '')}`),
    ),
    text,
  ),
  object: fc.constant('event'),
  type: mostly(
    fc.constantFrom(
      'payment_intent.succeeded',
      'payment_intent.amount_capturable_updated',
      'payment_intent.canceled',
      'payment_intent.payment_failed',
      'charge.refunded',
      'charge.captured',
      'refund.updated',
      'customer.created',
    ),
    fc.constantFrom('a\u0000b.c', '', 'payment_intent.\u202Esucceeded'),
  ),
  created: mostly(fc.constant(Math.floor(Date.now() / 1000)), cost),
  livemode: fc.boolean(),
  data: fc.record({ object: stripeObject }),
});
const stripeSigning = fc.oneof(
  { weight: 8, arbitrary: fc.constant('right') },
  { weight: 1, arbitrary: fc.constantFrom('stale', 'other secret') },
  { weight: 1, arbitrary: headerValue },
);

function stripeSignature(how: string, payload: string): string {
  const timestamp = Math.floor(Date.now() / 1000);
  if (how === 'right') return Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET, timestamp });
  if (how === 'stale') {
    return Stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET, timestamp: timestamp - 3600 });
  }
  if (how === 'other secret') {
    return Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_not_the_secret', timestamp });
  }
  return how;
}

test('Stripe events signed with the webhook secret, fuzzed fields: no 5xx, problem+json, nothing written on reject', async () => {
  expect(STRIPE_SECRET).not.toBe('');
  const answers = tally();
  await fc.assert(
    fc.asyncProperty(mutatedOr(stripeEvents), stripeSigning, async (body, how) => {
      const res = await sendAndCheck(
        'POST',
        '/v1/payment-webhooks/stripe',
        { raw: body, headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignature(how, body) } },
        `POST /v1/payment-webhooks/stripe (${how}) ${body.slice(0, 300)}`,
      );
      answers.add(res.status);
    }),
    { seed: SEED, numRuns: DEEP_RUNS, endOnFailure: true },
  );
  answers.report('signed Stripe events');
  expect(answers.count((s) => s !== 400 && s !== 401)).toBeGreaterThan(DEEP_RUNS / 2);
});

// ---------------------------------------------------------------------------------------
// Cursors and date ranges on every paginated and report route.
// ---------------------------------------------------------------------------------------

const paged = [
  {
    path: '/v1/risk/reviews',
    role: 'admin',
    params: { status: ['open', 'approved', 'rejected'], kind: ['order', 'claim'] },
  },
  { path: '/v1/compensations', role: 'admin', params: { status: ['open', 'awaiting_confirmation', 'completed'] } },
  { path: '/v1/inventory/batches', role: 'admin', params: { quarantined: ['true', 'false'] } },
  { path: '/v1/risk/lists', role: 'admin', params: { list: ['allow', 'deny'], kind: ['buyer', 'device', 'ip'] } },
  { path: '/v1/balance/statement', role: 'shop', params: { currency: ['CNY', 'USD'] }, serial: true, dated: true },
  { path: '/v1/reports/reconciliation', role: 'admin', params: {}, dated: true, required: true },
  { path: '/v1/reports/redemptions', role: 'admin', params: {}, dated: true, required: true },
  { path: '/v1/reports/supplier-reconciliation', role: 'admin', params: {}, dated: true, required: true },
  { path: '/v1/orders', role: 'shop', params: { buyerId: ['fuzz-buyer', 'nobody'] } },
  { path: '/v1/orders', role: 'admin', params: { stuckFor: ['10m', '1s', '99999d'] } },
] as const;

/** A time the records could hold, or one near and past their edges (1970, 9999, the year 0000, ±275760). */
const time = mostly(
  fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
  fc.oneof(
    fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }),
    fc.constantFrom(
      new Date('1970-01-01T00:00:00.000Z'),
      new Date('1969-12-31T23:59:59.999Z'),
      new Date('9999-12-31T23:59:59.999Z'),
      new Date('0000-01-01T00:00:00.000Z'),
    ),
  ),
);
const dateText = mostly(
  time.map((d) => d.toISOString()),
  fc.oneof(
    fc.constantFrom(
      '0000-01-01T00:00:00Z',
      '0000-01-01',
      '2026-02-30T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '9999-12-31T23:59:59-14:00',
      '0001-01-01T00:00:00+14:00',
      '+275760-09-13T00:00:00.000Z',
      '-000001-01-01T00:00:00Z',
      '2026-12-03T10:00:00',
      '2026-12-03T10:00:00.123456789Z',
      '1764489600',
      'NaN',
    ),
    text,
  ),
);
/** Cursors as the platform writes them (for times and ids at and past every edge), and anything else. */
const timeCursorText = mostly(
  fc.tuple(time, mostly(fc.uuid(), fc.constantFrom('-'.repeat(36), 'x', ''))).map(([at, id]) => {
    try {
      return timeCursor.encode({ at, id: String(id) });
    } catch {
      return Buffer.from(`${String(at)}|${String(id)}`).toString('base64url');
    }
  }),
  fc.oneof(
    fc
      .tuple(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }))
      .map(([a, b]) => Buffer.from(`${a}|${b}`).toString('base64url')),
    fc.base64String({ maxLength: 80 }),
    text,
  ),
);
const serialCursorText = mostly(
  fc.bigInt({ min: 0n, max: 1_000_000n }).map(String),
  fc.oneof(
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
    fc.constantFrom('9223372036854775807', '9223372036854775808', '99999999999999999999', '-1', '1e3', '01', '1.0'),
    text,
  ),
);
const limitText = mostly(
  fc.integer({ min: 1, max: 100 }).map(String),
  fc.oneof(
    fc.integer({ min: -5, max: 20_000 }).map(String),
    fc.constantFrom('0', '1.5', '1e3', '', 'abc', '99999999999999999999', '-0', ' 1'),
  ),
);
// fc.option's `freq`: one in freq values is the nil.
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });

const pagedQuery = fc
  .constantFrom(...paged)
  .chain((route) => {
    const named = Object.entries(route.params).map(([name, values]) =>
      maybe(mostly(fc.constantFrom(...(values as readonly string[])), text)).map((v) => [name, v] as const),
    );
    const dated = 'dated' in route;
    const required = 'required' in route;
    return fc.record({
      route: fc.constant(route),
      params: fc.tuple(...named),
      cursor: required ? rarely(text) : maybe('serial' in route ? serialCursorText : timeCursorText),
      limit: required ? rarely(limitText) : maybe(limitText),
      from: dated ? (required ? mostly(dateText, fc.constant(undefined)) : maybe(dateText)) : fc.constant(undefined),
      to: dated ? (required ? mostly(dateText, fc.constant(undefined)) : maybe(dateText)) : fc.constant(undefined),
      // A parameter given twice (an array to the parser), a nested one, or one no route takes.
      extra: rarely(fc.constantFrom('cursor=a&cursor=b', 'cursor[x]=1', 'from[$gt]=1', 'zzz=1', 'limit=1&limit=2')),
      csv: fc.boolean(),
    });
  })
  .map(({ route, params, cursor, limit, from, to, extra, csv }) => {
    const query = new URLSearchParams();
    for (const [name, value] of params) if (value !== undefined) query.set(name, String(value));
    for (const [name, value] of Object.entries({ cursor, limit, from, to })) {
      if (value !== undefined) query.set(name, String(value));
    }
    const search = [query.toString(), extra].filter(Boolean).join('&');
    return { path: `${route.path}${search ? `?${search}` : ''}`, role: route.role, csv };
  });

test('cursors, limits and date ranges on paginated and report routes: no 5xx, problem+json, nothing written', async () => {
  const answers = tally();
  await fc.assert(
    fc.asyncProperty(pagedQuery, async ({ path, role, csv }) => {
      const before = await rowCounts(stack.db);
      const res = await request(stack.url, 'GET', path, undefined, {
        key: keyFor(role)!,
        headers: csv ? { accept: 'text/csv' } : {},
      });
      answers.add(res.status);
      await expectSane(res, `GET ${path} as ${role}${csv ? ' (csv)' : ''}`);
      expect(await rowCounts(stack.db)).toEqual(before);
    }),
    { seed: SEED, numRuns: DEEP_RUNS, endOnFailure: true },
  );
  answers.report('paginated and report GETs');
  expect(answers.count((s) => s === 200)).toBeGreaterThan(0);
  expect(answers.count((s) => s === 422)).toBeGreaterThan(0);
});
