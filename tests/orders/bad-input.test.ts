// Acceptance 6: a matrix of bad input, each answered 4xx problem+json with a stable code,
// with every table's row count unchanged. Acceptance 7: wrong role, no key, another
// client's order → 403, 401, 404.
import { clientFor, expectProblem, type HttpResponse } from '../support/http';
import { orderBody, PRICE, shopWithStock } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { createClientViaApi } from '../support/clients';
import { rowCounts as countRows } from '../support/row-counts';

let stack: TestStack;
let ctx: Awaited<ReturnType<typeof shopWithStock>>;
let inactiveSku: string;
beforeAll(async () => {
  stack = await startStack();
  ctx = await shopWithStock(stack, { stock: 3, topUp: 10 * PRICE });
  inactiveSku = `${ctx.sku}-off`;
  await ctx.admin.post('/v1/products', {
    sku: inactiveSku,
    name: 'retired',
    kind: 'card_key',
    price: { minor: PRICE, currency: 'CNY' },
  });
  await stack.db.product.update({ where: { sku: inactiveSku }, data: { active: false } });
});
afterAll(() => stack.close());

const rowCounts = () => countRows(stack.db);

type Case = [name: string, status: number, code: string, send: () => Promise<HttpResponse>];

const good = () => orderBody(ctx.sku, 1);
const order = (body: unknown, headers: Record<string, string> = {}) => ctx.api.post('/v1/orders', body, { headers });
const raw = (text: string, type = 'application/json') =>
  ctx.api.post('/v1/orders', undefined, { raw: text, headers: { 'content-type': type } });
const items = (list: unknown) => order({ ...good(), items: list });
const buyer = (value: unknown) => order({ ...good(), buyer: value });

const cases: Case[] = [
  ['invalid JSON', 400, 'invalid_json', () => raw('{"externalOrderId":')],
  ['JSON array body', 422, 'validation_failed', () => raw('[]')],
  ['form-encoded body', 415, 'unsupported_media_type', () => raw('a=1', 'application/x-www-form-urlencoded')],
  ['text/plain body', 415, 'unsupported_media_type', () => raw('{}', 'text/plain')],
  ['body over 1 MB', 413, 'payload_too_large', () => order({ ...good(), pad: 'x'.repeat(1_100_000) })],
  ['empty object', 422, 'validation_failed', () => order({})],
  ['unknown field', 422, 'validation_failed', () => order({ ...good(), coupon: 'FREE' })],
  ['externalOrderId empty', 422, 'validation_failed', () => order({ ...good(), externalOrderId: '' })],
  ['externalOrderId 129 chars', 422, 'validation_failed', () => order({ ...good(), externalOrderId: 'x'.repeat(129) })],
  ['externalOrderId with a newline', 422, 'validation_failed', () => order({ ...good(), externalOrderId: 'a\nb' })],
  ['externalOrderId a number', 422, 'validation_failed', () => order({ ...good(), externalOrderId: 42 })],
  ['buyer missing', 422, 'validation_failed', () => order({ externalOrderId: 'x', items: good().items })],
  ['buyer ip not an address', 422, 'validation_failed', () => buyer({ id: 'b', ip: 'localhost' })],
  ['buyer ip out of range', 422, 'validation_failed', () => buyer({ id: 'b', ip: '256.1.1.1' })],
  ['buyer ip malformed IPv6', 422, 'validation_failed', () => buyer({ id: 'b', ip: '2001:db8::g' })],
  ['buyer id empty', 422, 'validation_failed', () => buyer({ id: '', ip: '203.0.113.1' })],
  ['items empty', 422, 'validation_failed', () => items([])],
  [
    '21 items',
    422,
    'validation_failed',
    () => items(Array.from({ length: 21 }, () => ({ sku: ctx.sku, quantity: 1 }))),
  ],
  ['quantity 0', 422, 'validation_failed', () => items([{ sku: ctx.sku, quantity: 0 }])],
  ['quantity 101', 422, 'validation_failed', () => items([{ sku: ctx.sku, quantity: 101 }])],
  ['quantity negative', 422, 'validation_failed', () => items([{ sku: ctx.sku, quantity: -1 }])],
  ['quantity fractional', 422, 'validation_failed', () => items([{ sku: ctx.sku, quantity: 1.5 }])],
  ['quantity a string', 422, 'validation_failed', () => items([{ sku: ctx.sku, quantity: '1' }])],
  ['sku malformed', 422, 'validation_failed', () => items([{ sku: '../etc', quantity: 1 }])],
  ['sku unknown', 422, 'unknown_sku', () => items([{ sku: 'no-such-sku', quantity: 1 }])],
  ['sku inactive', 422, 'unknown_sku', () => items([{ sku: inactiveSku, quantity: 1 }])],
  ['callbackUrl not a URL', 422, 'validation_failed', () => order({ ...good(), callbackUrl: 'not a url' })],
  ['callbackUrl ftp', 422, 'validation_failed', () => order({ ...good(), callbackUrl: 'ftp://x.example/h' })],
  ['Idempotency-Key with spaces', 400, 'invalid_idempotency_key', () => order(good(), { 'idempotency-key': 'a b' })],
  [
    'top-up with float amount',
    422,
    'validation_failed',
    () => ctx.admin.post(`/v1/clients/${ctx.shop.id}/topups`, { amount: { minor: 1.5, currency: 'CNY' } }),
  ],
  [
    'top-up with lowercase currency',
    422,
    'validation_failed',
    () => ctx.admin.post(`/v1/clients/${ctx.shop.id}/topups`, { amount: { minor: 100, currency: 'cny' } }),
  ],
  [
    'top-up for an unknown client',
    404,
    'not_found',
    () =>
      ctx.admin.post('/v1/clients/00000000-0000-4000-8000-000000000000/topups', {
        amount: { minor: 100, currency: 'CNY' },
      }),
  ],
  [
    'import into an unknown sku',
    422,
    'unknown_sku',
    () => ctx.admin.post('/v1/inventory/batches', { sku: 'nope', keys: ['A'] }),
  ],
  [
    'import with an empty key',
    422,
    'validation_failed',
    () => ctx.admin.post('/v1/inventory/batches', { sku: ctx.sku, keys: ['  '] }),
  ],
  [
    'product with a float price',
    422,
    'validation_failed',
    () =>
      ctx.admin.post('/v1/products', {
        sku: 'p-float',
        name: 'x',
        kind: 'card_key',
        price: { minor: 9.99, currency: 'CNY' },
      }),
  ],
  [
    'product with a duplicate sku',
    409,
    'sku_exists',
    () =>
      ctx.admin.post('/v1/products', {
        sku: ctx.sku,
        name: 'x',
        kind: 'card_key',
        price: { minor: 100, currency: 'CNY' },
      }),
  ],
];

test.each(cases)('%s → %i %s, nothing written', async (_name, status, code, send) => {
  const before = await rowCounts();
  expectProblem(await send(), status, code);
  expect(await rowCounts()).toEqual(before);
});

test('roles: an order system may not import keys, create products or top up (403)', async () => {
  expectProblem(await ctx.api.post('/v1/inventory/batches', { sku: ctx.sku, keys: ['X'] }), 403, 'forbidden');
  expectProblem(
    await ctx.api.post('/v1/products', {
      sku: 'p-x',
      name: 'x',
      kind: 'card_key',
      price: { minor: 1, currency: 'CNY' },
    }),
    403,
    'forbidden',
  );
  expectProblem(
    await ctx.api.post(`/v1/clients/${ctx.shop.id}/topups`, { amount: { minor: 100, currency: 'CNY' } }),
    403,
    'forbidden',
  );
});

test('roles: support may read any order but not submit one; no key is 401', async () => {
  const placed = await ctx.api.post('/v1/orders', good());
  const support = clientFor(stack.url, (await createClientViaApi(stack, 'support')).apiKey);
  expectProblem(await support.post('/v1/orders', good()), 403, 'forbidden');
  const seen = await support.get(`/v1/orders/${placed.body.id}`);
  expect(seen.status).toBe(200);
  expect(seen.body.claimUrl).toBeUndefined(); // the link is the buyer's, shown to the owning client only
  expectProblem(await clientFor(stack.url).post('/v1/orders', good()), 401, 'unauthenticated');
  expectProblem(await clientFor(stack.url).get(`/v1/orders/${placed.body.id}`), 401, 'unauthenticated');
});

test("another client's order is 404, by id and by externalOrderId", async () => {
  const body = good();
  const placed = await ctx.api.post('/v1/orders', body);
  const other = clientFor(stack.url, (await createClientViaApi(stack, 'order-system')).apiKey);
  expectProblem(await other.get(`/v1/orders/${placed.body.id}`), 404, 'not_found');
  expectProblem(await other.get(`/v1/orders?externalOrderId=${body.externalOrderId}`), 404, 'not_found');
  expectProblem(await other.get('/v1/orders/not-a-uuid'), 404, 'not_found');
});

test('claims: an unknown or malformed token is 404', async () => {
  expectProblem(await clientFor(stack.url).get(`/v1/claims/${'0'.repeat(64)}`), 404, 'not_found');
  expectProblem(await clientFor(stack.url).get('/v1/claims/short'), 404, 'not_found');
});
