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
//
// Every route of api/app.ts and api/routes/*, and the property that reaches it:
//   POSTs     POST /v1/orders, /v1/products, /v1/inventory/batches, /v1/clients,
//             /v1/clients/:id/topups, /v1/suppliers; PUT /v1/products/:sku/routes/:supplier
//   GETs      /healthz, /readyz, /v1/orders[/:id], /v1/balance, /v1/products, /v1/inventory,
//             /v1/claims/:token, /v1/suppliers, /v1/products/:sku/routes, random paths
//   signed    POST /v1/supplier-callbacks/:supplier[/redemptions|/invalidations]; POST /v1/payment-webhooks/stripe
//   paged     /v1/risk/reviews, /v1/compensations, /v1/inventory/batches, /v1/risk/lists,
//             /v1/balance/statement, /v1/reports/reconciliation|redemptions|supplier-reconciliation,
//             /v1/orders?buyerId=|stuckFor=
//   later writes  POST /v1/subscriptions, /v1/subscriptions/:id/cancel|pause|resume|change-plan,
//             /v1/subscription-cancel/:token, /v1/products/:sku/price-changes,
//             /v1/orders/search-by-code, /v1/orders/:id/units/:unitId/reveal|compensations,
//             /v1/orders/:id/refunds, /v1/orders/:id/resume, /v1/risk/reviews/:id/claim (and
//             DELETE), /v1/risk/reviews/:id/decision, /v1/risk/lists (and DELETE /:id),
//             PUT|PATCH|DELETE /v1/risk/policies/:sku, POST /v1/risk/policies/:sku/simulate,
//             /v1/inventory/batches/:id/release|void, /v1/redemptions, PATCH /v1/suppliers/:id,
//             /v1/claims/:token/report
//   later GETs  /v1/subscriptions[?buyerId=&status=&cursor=&limit=], /v1/subscriptions/:id[/schedule],
//             /v1/subscription-cancel/:token, /v1/orders?buyerId=|account=&externalOrderId=&clientId=,
//             /v1/orders/:id/timeline, /v1/me, /v1/risk/policies[/:sku], /v1/suppliers/:id (its
//             health), /v1/products/:sku/price-changes, /v1/risk/reviews/:id,
//             /v1/reports/sales?from=&to=&groupBy=, /v1/reports/subscriptions?timeZone=&sku=, /metrics
//             (now and then Accept: text/csv)
//   stream    GET /v1/risk/reviews/stream (each cut off after its first bytes)
// Deliberately not: /console/** (static files, served before the body parser;
// tests/console/console-static.test.ts), POST /v1/probes (no input but the key; it waits up to
// 30 s for a worker to run its workflow, tests/platform/probe-workflow.test.ts). And no request
// here reaches a running workflow: an Update or query to one (a subscription that is active or
// paused, a parked order, a renewal schedule) waits for a worker this stack does not have —
// until its deadline, then 503 workflow_unavailable (tests/platform/updates-without-worker.test.ts)
// — and a delivered unit's refund or compensation would start one. So the subscription actions
// aim at subscriptions already ended or another client's, the unit actions at the fulfilling
// order's undelivered units, a resume at an order whose workflow never started, and the review
// actions at reviews that do not exist (the setup makes none); what happens past those checks
// is tests/subscriptions/api.test.ts's,
// tests/compensation/*'s and tests/console/review-claims.test.ts's.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import Stripe from 'stripe';
import { timeCursor } from '../../api/pagination';
import { ledgerKeys } from '../../domain/ledger-keys';
import { CreateSubscriptionBody } from '../../domain/subscriptions/request';
import { signRequest } from '../../infra/request-signature';
import { CreateOrderBody } from '../../api/routes/orders';
import { beginOrder, createOrder } from '../../store/orders';
import { cancelTokenFor } from '../../store/subscriptions/cancel-links';
import { createSubscription } from '../../store/subscriptions/intake';
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
    // An empty body ({} of the bodyless actions) can only grow a field.
    if (paths.length === 0) return JSON.stringify({ [`x${pick % 7}`]: value });
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

// ---------------------------------------------------------------------------------------
// The areas that landed after the properties above: subscriptions and their cancel link,
// price changes, the console's routes (order search and timeline, review claims, /v1/me),
// the unit and order actions, the risk routes, batches, redemptions and supplier settings.
// Their targets are rows the setup below made without a workflow (the stack has no worker):
// subscriptions already ended, another client's, the fulfilling order and its units.
// ---------------------------------------------------------------------------------------

/** What the later areas' setup made: ids and tokens their requests aim at. */
const later = {
  orderId: '',
  unstartedOrderId: '',
  supplierId: '',
  subscriptions: { cancelled: '', expired: '', foreign: '' },
  cancelTokens: { cancelled: '', expired: '' },
  support: '',
  analyst: '',
  policy: {} as Record<string, unknown>,
};

beforeAll(async () => {
  const order = await stack.db.order.findFirstOrThrow({ where: { externalOrderId: 'fuzz-pending' } });
  later.orderId = order.id;
  // An order whose workflow never started: a resume reaches Temporal and is told there is none
  // (the fulfilling order's workflow runs, and an Update to it waits for a worker until its deadline).
  const unstarted = await createOrder(
    stack.db,
    keys.shopId,
    CreateOrderBody.parse({
      externalOrderId: 'fuzz-unstarted',
      buyer: { id: 'fuzz-buyer', ip: '203.0.113.7' },
      items: [{ sku, quantity: 1 }],
    }),
    { buyerGeo: null },
  );
  later.unstartedOrderId = unstarted.order.id;
  const supplier = await stack.db.supplier.findFirstOrThrow({ where: { name: SUPPLIER.name } });
  later.supplierId = supplier.id;
  later.support = (await createClientViaApi(stack, 'support', { name: 'fuzz support' })).apiKey;
  later.analyst = (await createClientViaApi(stack, 'risk-analyst', { name: 'fuzz analyst' })).apiKey;
  const other = await createClientViaApi(stack, 'order-system', { name: 'fuzz other shop' });
  // Through intake's own store function, with no workflow started: an Update to a running
  // renewal workflow would wait for a worker this stack does not have.
  const subscribe = async (clientId: string, externalSubscriptionId: string, status: 'cancelled' | 'expired') => {
    const { subscription } = await createSubscription(
      stack.db,
      clientId,
      CreateSubscriptionBody.parse({
        externalSubscriptionId,
        buyer: { id: 'fuzz-buyer', ip: '203.0.113.7' },
        sku,
        period: 'month',
      }),
      { buyerGeo: null, claimTokenSecret: stack.config.CLAIM_TOKEN_SECRET },
    );
    const row = await stack.db.subscription.update({
      where: { id: subscription.id },
      data: { status },
      select: { id: true, cancelNonce: true },
    });
    return { id: row.id, token: cancelTokenFor(stack.config.CLAIM_TOKEN_SECRET, row.id, row.cancelNonce) };
  };
  const cancelled = await subscribe(keys.shopId, 'fuzz-sub-cancelled', 'cancelled');
  const expired = await subscribe(keys.shopId, 'fuzz-sub-expired', 'expired');
  const foreign = await subscribe(other.id, 'fuzz-sub-foreign', 'cancelled');
  later.subscriptions = { cancelled: cancelled.id, expired: expired.id, foreign: foreign.id };
  later.cancelTokens = { cancelled: cancelled.token, expired: expired.token };
  const policy = await request(stack.url, 'GET', '/v1/risk/policies/default', undefined, { key: keys.admin });
  if (policy.status !== 200) throw new Error(`GET /v1/risk/policies/default: ${policy.status} ${policy.text}`);
  later.policy = policy.body.policy ?? policy.body;
});

const LATER_ROLES = ['admin', 'shop', 'support', 'analyst', 'none', 'garbage'] as const;
const laterKeyFor = (role: (typeof LATER_ROLES)[number]) =>
  role === 'support' ? later.support : role === 'analyst' ? later.analyst : keyFor(role);

/** An id of the kind the path takes: a real one (read when generated, after the setup), or not. */
const subscriptionId = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('cancelled', 'expired', 'foreign').map((k) => later.subscriptions[k]) },
  { weight: 2, arbitrary: fc.uuid() },
  {
    weight: 1,
    arbitrary: fc.constantFrom('not-a-uuid', '%00', 'x'.repeat(300), '00000000-0000-0000-0000-000000000000'),
  },
);
const orderId = fc.oneof(
  { weight: 6, arbitrary: fc.constant(null).map(() => later.orderId) },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.constantFrom('not-a-uuid', '%ff', 'x'.repeat(300)) },
);
const unitId = fc.oneof(
  { weight: 6, arbitrary: fc.nat().map((i) => pendingUnits[i % pendingUnits.length]!) },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.constantFrom('not-a-uuid', '') },
);
/** Cancel tokens: the real ones, and ones forged from them (a digit changed, cut, longer, upper case) or from nothing. */
const cancelToken = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('cancelled', 'expired').map((k) => later.cancelTokens[k]) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom('cancelled', 'expired'), fc.nat(63), fc.constantFrom('flip', 'cut', 'longer', 'upper'))
      .map(([k, at, how]) => {
        const token = later.cancelTokens[k];
        if (how === 'cut') return token.slice(0, at);
        if (how === 'longer') return `${token}0`;
        if (how === 'upper') return token.toUpperCase();
        return token.slice(0, at) + (token[at] === '0' ? '1' : '0') + token.slice(at + 1);
      }),
  },
  { weight: 2, arbitrary: fc.stringMatching(/^[0-9a-f]{64}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }).map((s) => encodeURIComponent(s) || 'x') },
);
const reviewId = fc.oneof(fc.uuid(), fc.constantFrom('not-a-uuid', '%00', ''));
const batchId = fc.oneof(fc.uuid(), fc.constantFrom('not-a-uuid', '%ff'));

type LaterTarget = { method: string; path: string; body: () => Record<string, unknown> };
/** Each later route with a valid body; the path's ids drawn from the arbitraries above. */
const laterTargets: fc.Arbitrary<LaterTarget> = fc.oneof(
  fc.constant({
    method: 'POST',
    path: '/v1/subscriptions',
    body: () => ({
      externalSubscriptionId: 'fuzz-sub-1',
      buyer: { id: 'b1', ip: '203.0.113.7', deviceId: 'd1' },
      sku,
      period: 'month',
      timeZone: 'Asia/Shanghai',
      payment: { method: 'balance' },
      callbackUrl: 'https://shop.example.com/hooks',
    }),
  }),
  fc.tuple(subscriptionId, fc.constantFrom('cancel', 'pause', 'resume', 'change-plan')).map(([id, action]) => ({
    method: 'POST',
    path: `/v1/subscriptions/${id}/${action}`,
    body: () =>
      action === 'change-plan'
        ? { sku, period: 'quarter' }
        : action === 'resume'
          ? { reason: 'card replaced', payment: { method: 'stripe', paymentMethodId: 'pm_card_visa' } }
          : { reason: 'the buyer asked' },
  })),
  cancelToken.map((token) => ({ method: 'POST', path: `/v1/subscription-cancel/${token}`, body: () => ({}) })),
  fc.constantFrom(sku, 'no-such-sku', 'default').map((s) => ({
    method: 'POST',
    path: `/v1/products/${s}/price-changes`,
    body: () => ({ price: { minor: 120, currency: 'CNY' }, effectiveAt: '2099-01-01T00:00:00Z' }),
  })),
  fc.constant({ method: 'POST', path: '/v1/orders/search-by-code', body: () => ({ sku, code: 'FUZZ-KEY-1' }) }),
  fc.tuple(orderId, unitId, fc.constantFrom('reveal', 'compensations')).map(([o, u, action]) => ({
    method: 'POST',
    path: `/v1/orders/${o}/units/${u}/${action}`,
    body: () => (action === 'reveal' ? { reason: 'phone support' } : { action: 'reissue', reason: 'bad key' }),
  })),
  fc.tuple(orderId, unitId).map(([o, u]) => ({
    method: 'POST',
    path: `/v1/orders/${o}/refunds`,
    body: () => ({ unitIds: [u], reason: 'the buyer asked' }),
  })),
  fc
    .oneof(
      { weight: 6, arbitrary: fc.constant(null).map(() => later.unstartedOrderId) },
      { weight: 3, arbitrary: orderId.filter((o) => o !== later.orderId) },
    )
    .map((o) => ({ method: 'POST', path: `/v1/orders/${o}/resume`, body: () => ({ reason: 'supplier fixed' }) })),
  fc.tuple(reviewId, fc.constantFrom('POST', 'DELETE')).map(([id, method]) => ({
    method,
    path: `/v1/risk/reviews/${id}/claim`,
    body: () => ({}),
  })),
  reviewId.map((id) => ({
    method: 'POST',
    path: `/v1/risk/reviews/${id}/decision`,
    body: () => ({ decision: 'approve', note: 'looks fine' }),
  })),
  fc.constant({
    method: 'POST',
    path: '/v1/risk/lists',
    body: () => ({ list: 'deny', kind: 'ip', value: '198.51.100.0/24', note: 'n' }),
  }),
  fc
    .oneof(fc.uuid(), fc.constant('not-a-uuid'))
    .map((id) => ({ method: 'DELETE', path: `/v1/risk/lists/${id}`, body: () => ({}) })),
  fc.tuple(fc.constantFrom(sku, 'default', 'no-such-sku'), fc.constantFrom('PUT', 'PATCH')).map(([s, method]) => ({
    method,
    path: `/v1/risk/policies/${s}`,
    body: () => structuredClone(later.policy),
  })),
  fc.constantFrom(sku, 'default', 'no-such-sku').map((s) => ({
    method: 'POST',
    path: `/v1/risk/policies/${s}/simulate`,
    body: () => ({ policy: structuredClone(later.policy), last: 10 }),
  })),
  fc
    .constantFrom(sku, 'no-such-sku')
    .map((s) => ({ method: 'DELETE', path: `/v1/risk/policies/${s}`, body: () => ({}) })),
  fc.tuple(batchId, fc.constantFrom('release', 'void')).map(([id, action]) => ({
    method: 'POST',
    path: `/v1/inventory/batches/${id}/${action}`,
    body: () => ({ reason: 'checked' }),
  })),
  fc.constant({ method: 'POST', path: '/v1/redemptions', body: () => ({ sku, codes: ['FUZZ-KEY-1', 'FUZZ-KEY-2'] }) }),
  fc.constant(null).map(() => ({
    method: 'PATCH',
    path: `/v1/suppliers/${later.supplierId}`,
    body: () => ({ timeoutMs: 2000, circuit: { failuresToOpen: 3 } }),
  })),
  cancelToken.map((token) => ({
    method: 'POST',
    path: `/v1/claims/${token}/report`,
    body: () => ({ code: 'FUZZ-KEY-1', reason: 'does not work' }),
  })),
);

test('later areas’ POSTs, PUTs, PATCHes and DELETEs with mutated bodies: no 5xx, problem+json, nothing written on reject', async () => {
  const answers = tally();
  await fc.assert(
    fc.asyncProperty(
      laterTargets.chain((target) =>
        fc.record({
          target: fc.constant(target),
          body: mutatedOr(fc.constant(null).map(() => target.body())),
          role: fc.constantFrom(...LATER_ROLES),
          idempotencyKey: rarely(headerValue),
        }),
      ),
      async ({ target, body, role, idempotencyKey }) => {
        const key = laterKeyFor(role);
        const res = await sendAndCheck(
          target.method,
          target.path,
          {
            raw: body,
            headers: {
              'content-type': 'application/json',
              ...FROM_FUZZ_ADDRESS,
              ...(idempotencyKey !== undefined ? { 'idempotency-key': idempotencyKey } : {}),
            },
            ...(key ? { key } : {}),
          },
          `${target.method} ${target.path} as ${role} ${body.slice(0, 200)}`,
        );
        answers.add(res.status);
      },
    ),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  answers.report('later areas’ writes');
  // Most got past the key and the body to the code behind them.
  expect(answers.count((s) => s < 400 || s === 404 || s === 409)).toBeGreaterThan(RUNS / 10);
});

const laterQuery = (names: Record<string, fc.Arbitrary<string>>) =>
  fc
    .tuple(
      ...Object.entries(names).map(([name, value]) => maybe(value).map((v) => [name, v] as const)),
      rarely(fc.constantFrom('zzz=1', 'cursor=a&cursor=b', 'buyerId[x]=1', 'status=active&status=paused')),
    )
    .map((parts) => {
      const extra = parts.pop() as string | undefined;
      const query = new URLSearchParams();
      for (const [name, value] of parts as (readonly [string, string | undefined])[]) {
        if (value !== undefined) query.set(name, value);
      }
      const search = [query.toString(), extra].filter(Boolean).join('&');
      return search ? `?${search}` : '';
    });
const someText = fc.oneof(text, fc.constantFrom(...NASTY_STRINGS.slice(0, -1)), fc.string({ maxLength: 40 }));

/** The later areas' GETs: their ids real or not, their query strings random. */
const laterGets = fc.oneof(
  fc.tuple(subscriptionId, fc.constantFrom('', '/schedule')).map(([id, tail]) => `/v1/subscriptions/${id}${tail}`),
  fc
    .tuple(
      fc.constant('/v1/subscriptions'),
      laterQuery({
        buyerId: mostly(fc.constantFrom('fuzz-buyer', 'nobody'), someText),
        status: mostly(fc.constantFrom('active', 'cancelled', 'expired', 'paused'), someText),
        cursor: timeCursorText,
        limit: limitText,
      }),
    )
    .map(([p, q]) => p + q),
  cancelToken.map((token) => `/v1/subscription-cancel/${token}`),
  fc
    .tuple(
      fc.constant('/v1/orders'),
      laterQuery({
        buyerId: mostly(fc.constantFrom('fuzz-buyer', 'b1'), someText),
        account: mostly(fc.constantFrom('13800000000', 'acct-1'), someText),
        externalOrderId: mostly(fc.constant('fuzz-pending'), someText),
        clientId: mostly(
          fc.constant(null).map(() => keys.shopId),
          fc.oneof(fc.uuid(), someText),
        ),
        cursor: timeCursorText,
        limit: limitText,
      }),
    )
    .map(([p, q]) => p + q),
  orderId.map((id) => `/v1/orders/${id}/timeline`),
  fc.constantFrom(
    '/v1/me',
    '/v1/me?x=1',
    '/v1/risk/policies',
    '/v1/risk/policies/default',
    '/metrics',
    '/metrics?x=%00',
  ),
  fc.constantFrom(sku, 'no-such-sku').map((s) => `/v1/risk/policies/${s}`),
  fc
    .oneof(
      fc.constant(null).map(() => later.supplierId),
      fc.uuid(),
      fc.constant('nope'),
    )
    .map((id) => `/v1/suppliers/${id}`),
  fc.constantFrom(sku, 'no-such-sku', '%00').map((s) => `/v1/products/${s}/price-changes`),
  reviewId.map((id) => `/v1/risk/reviews/${id}`),
  fc
    .tuple(
      fc.constant('/v1/reports/sales'),
      laterQuery({
        from: dateText,
        to: dateText,
        groupBy: mostly(fc.constantFrom('product', 'channel'), someText),
      }),
    )
    .map(([p, q]) => p + q),
  fc
    .tuple(
      fc.constant('/v1/reports/subscriptions'),
      laterQuery({
        timeZone: mostly(
          fc.constantFrom('Asia/Shanghai', 'UTC', 'America/New_York', 'Pacific/Kiritimati', 'Etc/GMT+12'),
          fc.oneof(fc.constantFrom('asia/shanghai', 'Local', '+08:00', 'EST5EDT', 'Asia/../UTC'), someText),
        ),
        sku: mostly(fc.constantFrom(sku, 'no-such-sku'), someText),
      }),
    )
    .map(([p, q]) => p + q),
);

test('later areas’ GETs with real and random ids and query strings: no 5xx, problem+json, nothing written', async () => {
  const answers = tally();
  await fc.assert(
    fc.asyncProperty(laterGets, fc.constantFrom(...LATER_ROLES), fc.boolean(), async (path, role, csv) => {
      const before = await rowCounts(stack.db);
      const key = laterKeyFor(role);
      const res = await request(stack.url, 'GET', path, undefined, {
        headers: { ...FROM_FUZZ_ADDRESS, ...(csv ? { accept: 'text/csv' } : {}) },
        ...(key ? { key } : {}),
      });
      answers.add(res.status);
      await expectSane(res, `GET ${path} as ${role}${csv ? ' (csv)' : ''}`);
      expect(await rowCounts(stack.db)).toEqual(before);
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  answers.report('later areas’ GETs');
  expect(answers.count((s) => s === 200)).toBeGreaterThan(RUNS / 10);
});

// The queue stream never ends by itself: each request is cut off after its first bytes.
test('the review queue stream with any key and query: an event stream to analysts, else problem+json; nothing written', async () => {
  const answers = tally();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...LATER_ROLES),
      rarely(fc.string({ maxLength: 30 }).map((q) => `?${encodeURIComponent(q)}`)),
      async (role, query) => {
        const before = await rowCounts(stack.db);
        const key = laterKeyFor(role);
        const abort = new AbortController();
        const res = await fetch(`${stack.url}/v1/risk/reviews/stream${query ?? ''}`, {
          headers: key ? { authorization: `Bearer ${key}` } : {},
          signal: abort.signal,
        });
        answers.add(res.status);
        if (res.status === 200) {
          expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
          const reader = res.body!.getReader();
          const first = await reader.read();
          expect(new TextDecoder().decode(first.value)).toMatch(/^retry: \d+/);
          abort.abort();
          await reader.cancel().catch(() => undefined);
        } else {
          const text = await res.text();
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // kept as text: expectSane says what it was
          }
          await expectSane({ status: res.status, headers: res.headers, body }, `GET stream${query ?? ''} as ${role}`);
        }
        expect(await rowCounts(stack.db)).toEqual(before);
      },
    ),
    { seed: SEED, numRuns: Math.min(DEEP_RUNS, 200), endOnFailure: true },
  );
  answers.report('review queue streams');
  expect(answers.count((s) => s === 200)).toBeGreaterThan(0);
});
