// Issue 19: rate limits per API key and, on the claim link, per client address — 429
// problem+json with Retry-After, counted in PostgreSQL so that several API processes share
// one limit. Small windows (2 s) keep the waits short; every test uses keys of its own.
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { createApp } from '../../api/app';
import { closeDb, createDb, type Db } from '../../infra/db';
import { createLogger } from '../../infra/logger';
import { ensureClientWithKey } from '../../store/clients';
import { sweepRateLimits } from '../../store/rate-limits';
import { clientFor, expectProblem, type HttpResponse, request } from '../support/http';
import { startStack, type TestStack } from '../support/stack';

const LIMIT = 5;
const WINDOW_MS = 2_000;
const CLAIM_LIMIT = 3;

let stack: TestStack;
const closers: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  stack = await startStack({
    worker: false,
    config: {
      RATE_LIMIT_CLIENT_REQUESTS: String(LIMIT),
      RATE_LIMIT_CLIENT_WINDOW_MS: String(WINDOW_MS),
      RATE_LIMIT_CLAIM_IP_REQUESTS: String(CLAIM_LIMIT),
      RATE_LIMIT_CLAIM_IP_WINDOW_MS: String(WINDOW_MS),
    },
  });
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await stack.close();
});

/** A client made in the database, not through the API: the bootstrap admin's own budget stays out of it. */
async function newKey(role: 'admin' | 'order-system' = 'admin'): Promise<{ id: string; apiKey: string }> {
  const apiKey = `rp_test_${randomBytes(24).toString('hex')}`;
  const { client } = await ensureClientWithKey(
    stack.db,
    stack.deps.keyring,
    { name: `rate limit ${role} ${randomUUID().slice(0, 8)}`, role },
    apiKey,
    'test',
  );
  return { id: client.id, apiKey };
}

/** Another API process: its own Express app and its own pool; only the database is shared. */
async function secondApi(db: Db, logger = stack.logger): Promise<string> {
  const server: Server = createApp({ ...stack.deps, db, logger }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function ownDb(url = stack.config.DATABASE_URL): Db {
  const db = createDb(url, 2);
  closers.push(() => closeDb(db));
  return db;
}

/** Starts just after a window boundary, so a burst of a few requests stays inside one window. */
async function atWindowStart(): Promise<void> {
  const into = Date.now() % WINDOW_MS;
  if (into > 100) await new Promise((r) => setTimeout(r, WINDOW_MS - into + 20));
}

function expectRateLimited(res: HttpResponse): number {
  expectProblem(res, 429, 'rate_limited');
  expect(res.body.type).toBe('urn:rights-platform:problem:rate_limited');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual((2 * WINDOW_MS) / 1000);
  expect(res.headers.get('ratelimit-limit')).toBe(String(LIMIT));
  expect(res.headers.get('ratelimit-remaining')).toBe('0');
  return retryAfter;
}

const product = (sku: string) => ({ sku, name: sku, kind: 'card_key', price: { minor: 100, currency: 'CNY' } });

test('a key over its limit gets 429 with Retry-After, and the refused request writes nothing', async () => {
  const admin = clientFor(stack.url, (await newKey()).apiKey);
  const prefix = `rl-${randomUUID().slice(0, 8)}`;
  await atWindowStart();
  for (let i = 0; i < LIMIT; i++) {
    const res = await admin.post('/v1/products', product(`${prefix}-${i}`));
    expect(res.status).toBe(201);
    expect(res.headers.get('ratelimit-limit')).toBe(String(LIMIT));
    expect(res.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1 - i));
  }
  const refused = await admin.post('/v1/products', product(`${prefix}-over`));
  expectRateLimited(refused);
  expect(await stack.db.product.count({ where: { sku: { startsWith: prefix } } })).toBe(LIMIT);
  expect(await stack.db.product.findUnique({ where: { sku: `${prefix}-over` } })).toBeNull();
});

test('another key is unaffected by one that is limited', async () => {
  const hammering = clientFor(stack.url, (await newKey()).apiKey);
  const quiet = clientFor(stack.url, (await newKey('order-system')).apiKey);
  await atWindowStart();
  for (let i = 0; i < LIMIT; i++) expect((await hammering.get('/v1/products')).status).toBe(200);
  expectRateLimited(await hammering.get('/v1/products'));
  const res = await quiet.get('/v1/balance');
  expect(res.status).toBe(200);
  expect(res.headers.get('ratelimit-remaining')).toBe(String(LIMIT - 1));
});

test('two API processes share one limit: requests split across both are counted together', async () => {
  const other = await secondApi(ownDb());
  const { apiKey } = await newKey();
  const here = clientFor(stack.url, apiKey);
  const there = clientFor(other, apiKey);
  await atWindowStart();
  // 3 + 2 admitted: neither process alone saw more than the limit, together they saw all of it.
  const statuses = [];
  for (let i = 0; i < LIMIT; i++) statuses.push((await (i % 2 === 0 ? here : there).get('/v1/products')).status);
  expect(statuses).toEqual(Array(LIMIT).fill(200));
  expectRateLimited(await there.get('/v1/products'));
  expectRateLimited(await here.get('/v1/products'));
});

test('after the announced Retry-After requests are admitted again', async () => {
  const shop = clientFor(stack.url, (await newKey('order-system')).apiKey);
  await atWindowStart();
  for (let i = 0; i < LIMIT; i++) expect((await shop.get('/v1/balance')).status).toBe(200);
  const retryAfter = expectRateLimited(await shop.get('/v1/balance'));
  await new Promise((r) => setTimeout(r, retryAfter * 1000));
  const res = await shop.get('/v1/balance');
  expect(res.status).toBe(200);
  expect(Number(res.headers.get('ratelimit-remaining'))).toBeGreaterThanOrEqual(0);
});

test('the claim link is limited per client address, and a bad token counts', async () => {
  // The API trusts X-Forwarded-For from loopback, as from a reverse proxy in front of it.
  const [first, second] = ['198.51.100.10', '198.51.100.11'];
  const from = (ip: string, token = 'f'.repeat(64)) =>
    request(stack.url, 'GET', `/v1/claims/${token}`, undefined, { headers: { 'x-forwarded-for': ip } });
  await atWindowStart();
  for (let i = 0; i < CLAIM_LIMIT; i++) {
    // Well-formed but unknown, then malformed: both 404, both counted.
    const res = await from(first, i === 0 ? 'not-a-token' : randomBytes(32).toString('hex'));
    expectProblem(res, 404, 'not_found');
    expect(res.headers.get('ratelimit-limit')).toBe(String(CLAIM_LIMIT));
  }
  const refused = await from(first);
  expectProblem(refused, 429, 'rate_limited');
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(refused.headers.get('cache-control')).toBeNull(); // refused before the route
  // Another buyer's address has its own budget.
  expectProblem(await from(second), 404, 'not_found');
});

test('with its counters unreachable the limiter lets requests through and warns', async () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', name: 'test' }, { write: (line) => void lines.push(line) });
  const api = await secondApi(ownDb('postgresql://postgres@127.0.0.1:1/nowhere'), logger);
  // The claim route refuses a malformed token before it needs the database: only the limiter does.
  for (let i = 0; i < CLAIM_LIMIT + 2; i++) {
    const res = await request(api, 'GET', '/v1/claims/not-a-token');
    expectProblem(res, 404, 'not_found');
    expect(res.headers.get('ratelimit-limit')).toBeNull();
  }
  const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.limiter === 'claim-ip');
  expect(warnings).toHaveLength(1); // one warning, not one per request
  expect(warnings[0].msg).toMatch(/not checked/);
});

test('the sweep deletes windows that no longer count, only under its own prefix', async () => {
  const now = new Date(Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS + 500);
  const prefix = `sweep-${randomUUID().slice(0, 8)}:`;
  const at = (windowsAgo: number) => new Date(now.getTime() - (now.getTime() % WINDOW_MS) - windowsAgo * WINDOW_MS);
  await stack.db.rateLimitBucket.createMany({
    data: [
      { key: `${prefix}a`, windowStart: at(0), count: 1 },
      { key: `${prefix}a`, windowStart: at(1), count: 1 },
      { key: `${prefix}a`, windowStart: at(2), count: 1 },
      { key: `${prefix}gone`, windowStart: at(5), count: 1 },
      { key: `other-${prefix}b`, windowStart: at(5), count: 1 },
    ],
  });
  expect(await sweepRateLimits(stack.db, { prefix, windowMs: WINDOW_MS, now })).toBe(2);
  const left = await stack.db.rateLimitBucket.findMany({ where: { key: { contains: prefix } } });
  expect(left.map((r) => `${r.key} ${r.windowStart.toISOString()}`).sort()).toEqual(
    [
      `${prefix}a ${at(0).toISOString()}`,
      `${prefix}a ${at(1).toISOString()}`,
      `other-${prefix}b ${at(5).toISOString()}`,
    ].sort(),
  );
});
