// Issue 16, "bad input found by probing the running stack": each case a real request over
// HTTP, answered 4xx problem+json with a stable code, nothing written, nothing logged at
// error level, no secret in the logs.
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { clientFor, expectProblem, request } from '../support/http';
import { orderBody, PRICE, shopWithStock } from '../support/orders';
import { rowCounts } from '../support/row-counts';
import { startStack, type TestStack } from '../support/stack';

const logLines: string[] = [];
let stack: TestStack;
let ctx: Awaited<ReturnType<typeof shopWithStock>>;
beforeAll(async () => {
  stack = await startStack({ logDestination: { write: (line) => logLines.push(line) } });
  ctx = await shopWithStock(stack, { stock: 2, topUp: 10 * PRICE });
});
afterAll(() => stack.close());

const errorLogs = () => logLines.filter((l) => JSON.parse(l).level >= 50);

test('claim tokens are masked in logs whatever the case or extra slashes', async () => {
  const token = 'a'.repeat(40) + 'b'.repeat(24);
  for (const path of [`/V1/claims/${token}`, `/v1/CLAIMS/${token}`, `//v1//claims/${token}`, `/v1/claims//${token}`]) {
    await request(stack.url, 'GET', path);
  }
  await new Promise((r) => setTimeout(r, 100));
  const logs = logLines.join('\n');
  expect(logs).toContain('/v1/claims/:token');
  expect(logs).not.toContain(token);
});

test('undecodable percent-escapes in a path are 400 invalid_path, not 500', async () => {
  expectProblem(await request(stack.url, 'GET', '/v1/claims/%ff'), 400, 'invalid_path');
  expectProblem(await ctx.api.get('/v1/orders/%ff'), 400, 'invalid_path');
  expect(errorLogs()).toEqual([]);
});

test('a corrupt compressed body is 400, not 500', async () => {
  const corrupt = Buffer.concat([gzipSync(JSON.stringify(orderBody(ctx.sku))).subarray(0, 20), Buffer.from('garbage')]);
  for (const encoding of ['gzip', 'br', 'deflate']) {
    const res = await ctx.api.post('/v1/orders', undefined, {
      raw: corrupt,
      headers: { 'content-type': 'application/json', 'content-encoding': encoding },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  }
  expect(errorLogs()).toEqual([]);
});

test('a client that aborts mid-body leaves no error behind', async () => {
  const before = await rowCounts(stack.db);
  await new Promise<void>((resolve) => {
    const url = new URL('/v1/orders', stack.url);
    const req = httpRequest(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': '5000',
        authorization: `Bearer ${ctx.shop.apiKey}`,
      },
    });
    req.on('error', () => resolve());
    req.write('{"externalOrderId": "abc",');
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 200);
  });
  await new Promise((r) => setTimeout(r, 300));
  expect(errorLogs()).toEqual([]);
  expect(await rowCounts(stack.db)).toEqual(before);
});

test.each([
  ['NUL in a client name', '/v1/clients', { name: 'shop\u0000', role: 'order-system' }],
  ['a control character in a client name', '/v1/clients', { name: 'shop\u0007', role: 'order-system' }],
  ['a bidi override in a client name', '/v1/clients', { name: 'shop\u202Egnp.exe', role: 'order-system' }],
  [
    'NUL in a product name',
    '/v1/products',
    { sku: 'nul-1', name: 'VIP\u0000', kind: 'card_key', price: { minor: 1, currency: 'CNY' } },
  ],
  [
    'a zero-width joiner in a product name',
    '/v1/products',
    { sku: 'zw-1', name: 'V\u200DIP', kind: 'card_key', price: { minor: 1, currency: 'CNY' } },
  ],
])('%s is 422, nothing written', async (_what, route, body) => {
  const before = await rowCounts(stack.db);
  expectProblem(await ctx.admin.post(route, body), 422, 'validation_failed');
  expect(await rowCounts(stack.db)).toEqual(before);
});

test('a control character in a batch supplier is 422', async () => {
  const before = await rowCounts(stack.db);
  const res = await ctx.admin.post('/v1/inventory/batches', { sku: ctx.sku, keys: ['K-1'], supplier: 'acme\u0000' });
  expectProblem(res, 422, 'validation_failed');
  expect(await rowCounts(stack.db)).toEqual(before);
});

test('a top-up Idempotency-Key reused with another amount or currency is 409 idempotency_conflict', async () => {
  const route = `/v1/clients/${ctx.shop.id}/topups`;
  const headers = { 'idempotency-key': `topup-${Date.now()}` };
  expect((await ctx.admin.post(route, { amount: { minor: 100, currency: 'CNY' } }, { headers })).status).toBe(201);
  expect((await ctx.admin.post(route, { amount: { minor: 100, currency: 'CNY' } }, { headers })).status).toBe(200);
  const before = await rowCounts(stack.db);
  expectProblem(
    await ctx.admin.post(route, { amount: { minor: 999, currency: 'CNY' } }, { headers }),
    409,
    'idempotency_conflict',
  );
  expectProblem(
    await ctx.admin.post(route, { amount: { minor: 100, currency: 'USD' } }, { headers }),
    409,
    'idempotency_conflict',
  );
  expect(await rowCounts(stack.db)).toEqual(before);
});

test('one physical key in several Unicode spellings is stocked once', async () => {
  const res = await ctx.admin.post('/v1/inventory/batches', {
    sku: ctx.sku,
    keys: ['ABC-123-é', 'A\u200BBC-123-é', 'ＡＢＣ-１２３-é', 'ABC-123-e\u0301', '\u2060ABC-123-é\uFEFF'],
  });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ imported: 1, duplicates: 4 });
  expectProblem(
    await ctx.admin.post('/v1/inventory/batches', { sku: ctx.sku, keys: ['AB\uD800C'] }),
    422,
    'validation_failed',
  );
});

test('currencies are ISO 4217 codes of money only', async () => {
  for (const currency of ['QQQ', 'ZZZ', 'XXX', 'XTS', 'cny']) {
    expectProblem(
      await ctx.admin.post(`/v1/clients/${ctx.shop.id}/topups`, { amount: { minor: 1, currency } }),
      422,
      'validation_failed',
    );
  }
  expect(
    (await ctx.admin.post(`/v1/clients/${ctx.shop.id}/topups`, { amount: { minor: 500, currency: 'JPY' } })).status,
  ).toBe(201);
  // Without ?currency= the balance lists every currency held.
  const balance = await ctx.api.get('/v1/balance');
  expect(balance.body.balances.map((b: { currency: string }) => b.currency)).toEqual(['CNY', 'JPY']);
  expect(balance.body.balances).toContainEqual({ minor: 500, currency: 'JPY' });
  expect((await ctx.api.get('/v1/balance?currency=JPY')).body.available).toEqual({ minor: 500, currency: 'JPY' });
});

test.each([
  ['a fraction below float precision', '{"amount":{"minor":1.0000000000000001,"currency":"CNY"}}'],
  ['an integer written with an exponent', '{"amount":{"minor":1e3,"currency":"CNY"}}'],
  ['an integer beyond 2^53', '{"amount":{"minor":9007199254740993,"currency":"CNY"}}'],
])('%s is refused, not rounded', async (_what, raw) => {
  const before = await rowCounts(stack.db);
  const res = await ctx.admin.post(`/v1/clients/${ctx.shop.id}/topups`, undefined, {
    raw,
    headers: { 'content-type': 'application/json' },
  });
  expectProblem(res, 422, 'inexact_number');
  expect(await rowCounts(stack.db)).toEqual(before);
});

test('identifiers with leading or trailing whitespace are refused, not made into new orders', async () => {
  const before = await rowCounts(stack.db);
  for (const externalOrderId of ['A ', ' A', 'A\t']) {
    expectProblem(await ctx.api.post('/v1/orders', orderBody(ctx.sku, 1, externalOrderId)), 422, 'validation_failed');
  }
  expectProblem(
    await ctx.api.post('/v1/orders', { ...orderBody(ctx.sku), buyer: { id: ' buyer', ip: '203.0.113.7' } }),
    422,
    'validation_failed',
  );
  expect(await rowCounts(stack.db)).toEqual(before);
});

test('X-Request-Id is taken only in a safe format', async () => {
  const ok = await request(stack.url, 'GET', '/healthz', undefined, { headers: { 'x-request-id': 'shop-123.abc:9' } });
  expect(ok.headers.get('x-request-id')).toBe('shop-123.abc:9');
  for (const bad of ['x'.repeat(129), 'a b', '<script>', 'id"}']) {
    const res = await request(stack.url, 'GET', '/healthz', undefined, { headers: { 'x-request-id': bad } });
    expect(res.headers.get('x-request-id')).not.toBe(bad);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  }
});

test('the shop can still use its key after all of the above', async () => {
  expect((await clientFor(stack.url, ctx.shop.apiKey).get('/v1/balance')).status).toBe(200);
});
