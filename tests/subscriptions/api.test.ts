// The subscription API's boundary: intake idempotent on the external id and Idempotency-Key
// (concurrent resubmissions make one subscription and one workflow), bad input answered with
// problem+json and nothing written, roles (an order system reaches its own only; support and
// admins read and cancel any, audited), keyset paging, and plan changes refused when they
// cannot apply.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { createClientViaApi, staffApi } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { orderBody, PRICE, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import {
  subscriptionBody,
  subscriptionConfig,
  subscriptionShop,
  waitForSubscription,
  type Receiver,
} from '../support/subscriptions';
import { startWebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(120_000);

let stack: TestStack;
let receiver: Receiver;
let shop: Awaited<ReturnType<typeof subscriptionShop>>;
beforeAll(async () => {
  // Long months: these tests are about the API, not about renewals happening meanwhile.
  [stack, receiver] = await Promise.all([
    // The fuzzed cancel-link requests would spend the run's per-address budget of buyer links
    // (shared in PostgreSQL with other suites' claims): this stack's link is not limited.
    startStack({
      config: subscriptionConfig({ SUBSCRIPTION_SECONDS_PER_MONTH: '3600', RATE_LIMIT_CLAIM_IP_REQUESTS: '0' }),
    }),
    startWebhookReceiver(),
  ]);
  shop = await subscriptionShop(stack, receiver, { stock: 20, topUp: 50 * PRICE });
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

const countOf = () => stack.db.subscription.count({ where: { clientId: shop.shop.id } });

test('intake is idempotent on the external id and the Idempotency-Key; concurrent resubmissions make one subscription', async () => {
  const body = subscriptionBody(shop.sku);
  const answers = await Promise.all(Array.from({ length: 8 }, () => shop.api.post('/v1/subscriptions', body)));
  expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 202]);
  expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
  const id = answers[0]!.body.id;
  expect(await stack.db.subscription.count({ where: { externalSubscriptionId: body.externalSubscriptionId } })).toBe(1);
  // The default is said or not: the same request.
  expect((await shop.api.post('/v1/subscriptions', { ...body, timeZone: 'Asia/Shanghai' })).body.id).toBe(id);
  expect((await shop.api.post('/v1/subscriptions', { ...body, payment: { method: 'balance' } })).body.id).toBe(id);
  expectProblem(await shop.api.post('/v1/subscriptions', { ...body, period: 'year' }), 409, 'idempotency_conflict');

  const key = randomUUID();
  const keyed = subscriptionBody(shop.sku);
  const first = await shop.api.post('/v1/subscriptions', keyed, { headers: { 'idempotency-key': key } });
  expect(first.status).toBe(202);
  const same = await shop.api.post('/v1/subscriptions', keyed, { headers: { 'idempotency-key': key } });
  expect({ status: same.status, id: same.body.id }).toEqual({ status: 200, id: first.body.id });
  expectProblem(
    await shop.api.post('/v1/subscriptions', subscriptionBody(shop.sku), { headers: { 'idempotency-key': key } }),
    409,
    'idempotency_conflict',
  );
  // One workflow, which charged period 1 once.
  const paid = await waitForSubscription(shop.api, id, (s) => s.currentPeriod === 1, 'period 1 paid');
  expect(paid.periods).toHaveLength(1);
  expect(await stack.db.order.count({ where: { externalOrderId: { startsWith: `subscription:${id}:` } } })).toBe(1);
});

test('bad input is a 4xx problem with a stable code, and nothing is written', async () => {
  const before = await countOf();
  const cases: [unknown, number, string, string?][] = [
    [{ ...subscriptionBody(shop.sku), timeZone: 'Mars/Olympus_Mons' }, 422, 'validation_failed', 'timeZone'],
    [{ ...subscriptionBody(shop.sku), timeZone: '+08:00' }, 422, 'validation_failed', 'timeZone'],
    [{ ...subscriptionBody(shop.sku), period: 'week' }, 422, 'validation_failed', 'period'],
    [{ ...subscriptionBody(shop.sku), externalSubscriptionId: 'a\u0000b' }, 422, 'validation_failed'],
    [{ ...subscriptionBody(shop.sku), externalSubscriptionId: ' padded' }, 422, 'validation_failed'],
    [{ ...subscriptionBody(shop.sku), buyer: { id: 'b', ip: '300.1.1.1' } }, 422, 'validation_failed'],
    [{ ...subscriptionBody(shop.sku), extra: true }, 422, 'validation_failed'],
    [{ ...subscriptionBody(shop.sku), account: '13800138000' }, 422, 'invalid_account'],
    [subscriptionBody('no-such-sku'), 422, 'unknown_sku'],
    [{ ...subscriptionBody(shop.sku), callbackUrl: 'http://10.0.0.1/hook' }, 422, 'url_not_allowed'],
    [
      { ...subscriptionBody(shop.sku), payment: { method: 'stripe', paymentMethodId: 'card_1' } },
      422,
      'validation_failed',
    ],
  ];
  for (const [body, status, code, path] of cases) {
    const res = await shop.api.post('/v1/subscriptions', body);
    expectProblem(res, status, code);
    if (path) expect(res.body.errors.map((e: any) => e.path)).toContain(path);
  }
  expectProblem(
    await shop.api.post('/v1/subscriptions', 'not json', { raw: '{', headers: { 'content-type': 'application/json' } }),
    400,
    'invalid_json',
  );
  expect(await countOf()).toBe(before);

  // The zone is kept in its canonical spelling.
  const zoned = await shop.api.post('/v1/subscriptions', { ...subscriptionBody(shop.sku), timeZone: 'europe/berlin' });
  expect(zoned.status).toBe(202);
  expect(zoned.body.timeZone).toBe('Europe/Berlin');
  await shop.api.post(`/v1/subscriptions/${zoned.body.id}/cancel`, {});
});

test('an order system reaches its own subscriptions only; support reads and cancels any, audited', async () => {
  const { id } = (await shop.api.post('/v1/subscriptions', subscriptionBody(shop.sku))).body;
  const other = await createClientViaApi(stack, 'order-system', { name: `other ${randomUUID().slice(0, 6)}` });
  const otherApi = clientFor(stack.url, other.apiKey);
  expectProblem(await otherApi.get(`/v1/subscriptions/${id}`), 404, 'not_found');
  expectProblem(await otherApi.post(`/v1/subscriptions/${id}/cancel`, {}), 404, 'not_found');
  expect((await otherApi.get('/v1/subscriptions')).body.subscriptions).toEqual([]);
  expectProblem(await clientFor(stack.url).get(`/v1/subscriptions/${id}`), 401, 'unauthenticated');
  expectProblem(await (await staffApi(stack, 'risk-analyst')).get(`/v1/subscriptions/${id}`), 403, 'forbidden');

  const support = await staffApi(stack, 'support');
  const seen = await support.get(`/v1/subscriptions/${id}`);
  expect(seen.status).toBe(200);
  expect(seen.body.clientId).toBe(shop.shop.id);
  expect(seen.body.cancelUrl).toBeUndefined(); // the buyer's link is the owner's to hand out
  expectProblem(await support.post(`/v1/subscriptions/${id}/pause`, {}), 403, 'forbidden');
  expectProblem(await support.post('/v1/subscriptions', subscriptionBody(shop.sku)), 403, 'forbidden');

  const cancelled = await support.post(`/v1/subscriptions/${id}/cancel`, { reason: 'chargeback filed' });
  expect(cancelled.status).toBe(200);
  expect(cancelled.body.status).toBe('cancelled');
  const audit = await stack.db.auditLog.findMany({ where: { subjectType: 'subscription', subjectId: id } });
  expect(audit).toEqual([
    expect.objectContaining({
      action: 'subscription.cancelled',
      reason: 'chargeback filed',
      actor: expect.stringMatching(/^client:support/),
    }),
  ]);
  // Twice is the same answer, and no second event or audit entry.
  expect((await support.post(`/v1/subscriptions/${id}/cancel`, {})).body.status).toBe('cancelled');
  expect(await stack.db.auditLog.count({ where: { subjectType: 'subscription', subjectId: id } })).toBe(1);
  const history = (await shop.api.get(`/v1/subscriptions/${id}`)).body.history;
  expect(history.filter((h: any) => h.type === 'cancelled')).toHaveLength(1);
  expect(history[0].actor).toBeUndefined(); // who acted is staff information
});

test('lists page by keyset and filter by buyer and status; a bad cursor is 422', async () => {
  const buyer = `buyer-${randomUUID().slice(0, 8)}`;
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const body = { ...subscriptionBody(shop.sku), buyer: { id: buyer, ip: '203.0.113.9' } };
    ids.push((await shop.api.post('/v1/subscriptions', body)).body.id);
  }
  await shop.api.post(`/v1/subscriptions/${ids[1]}/cancel`, {});
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await shop.api.get(`/v1/subscriptions?buyerId=${buyer}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    pages.push(page.body.subscriptions.map((s: any) => s.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  expect(pages).toEqual([[ids[0], ids[1]], [ids[2]]]);
  const cancelled = await shop.api.get(`/v1/subscriptions?buyerId=${buyer}&status=cancelled`);
  expect(cancelled.body.subscriptions.map((s: any) => s.id)).toEqual([ids[1]]);
  expectProblem(await shop.api.get('/v1/subscriptions?cursor=bm90LWEtY3Vyc29y'), 422, 'validation_failed');
  expectProblem(await shop.api.get('/v1/subscriptions?status=lapsed'), 422, 'validation_failed');
  for (const id of [ids[0], ids[2]]) await shop.api.post(`/v1/subscriptions/${id}/cancel`, {});
});

test('plan changes that cannot apply are refused; the schedule query shows what is due', async () => {
  const { id } = (await shop.api.post('/v1/subscriptions', subscriptionBody(shop.sku))).body;
  expectProblem(await shop.api.post(`/v1/subscriptions/${id}/change-plan`, {}), 422, 'validation_failed');
  expectProblem(await shop.api.post(`/v1/subscriptions/${id}/change-plan`, { sku: 'no-such-sku' }), 422, 'unknown_sku');
  const topupSku = `topup-${randomUUID().slice(0, 8)}`;
  await shop.admin.post('/v1/products', {
    sku: topupSku,
    name: 'Mobile credit',
    kind: 'direct_topup',
    price: { minor: PRICE, currency: 'CNY' },
    accountPattern: '1\\d{10}',
  });
  expectProblem(
    await shop.api.post(`/v1/subscriptions/${id}/change-plan`, { sku: topupSku }),
    422,
    'incompatible_plan',
  );
  expectProblem(await shop.api.post(`/v1/subscriptions/not-a-uuid/change-plan`, { period: 'year' }), 404, 'not_found');

  const schedule = await shop.api.get(`/v1/subscriptions/${id}/schedule`);
  expect(schedule.status).toBe(200);
  expect(schedule.body.schedule).toMatchObject({ status: 'active', plan: { sku: shop.sku, period: 'month' } });
  expect(schedule.body.schedule.upcoming).toHaveLength(3);

  await shop.api.post(`/v1/subscriptions/${id}/cancel`, {});
  // Nothing can be changed on a cancelled subscription.
  expectProblem(
    await shop.api.post(`/v1/subscriptions/${id}/change-plan`, { period: 'year' }),
    409,
    'subscription_state',
  );
  expectProblem(await shop.api.post(`/v1/subscriptions/${id}/resume`, {}), 409, 'subscription_state');
});

test('fuzzed intake bodies, queries and cancel tokens never answer 5xx, and a refused body writes nothing', async () => {
  const valid = () => subscriptionBody(shop.sku);
  const anything = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.string(), { maxKeys: 3 }),
    fc.string().map((s) => `${s}\u0000\u202E`),
  );
  const field = fc.constantFrom(
    'externalSubscriptionId',
    'buyer',
    'sku',
    'period',
    'timeZone',
    'account',
    'payment',
    'callbackUrl',
    'extra',
  );
  const before = await countOf();
  let refused = 0;
  const accepted = new Set<string>();
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(field, anything), { minLength: 1, maxLength: 3 }), async (changes) => {
      const body: Record<string, unknown> = valid();
      for (const [key, value] of changes) body[key] = value;
      const res = await shop.api.post('/v1/subscriptions', body);
      expect(res.status).toBeLessThan(500);
      if (res.status >= 400) {
        refused += 1;
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(typeof res.body.code).toBe('string');
      } else {
        accepted.add(res.body.id);
        await shop.api.post(`/v1/subscriptions/${res.body.id}/cancel`, {});
      }
    }),
    { numRuns: 60 },
  );
  expect(refused).toBeGreaterThan(0);
  // Only the accepted bodies made subscriptions: the refused ones wrote nothing.
  expect(await countOf()).toBe(before + accepted.size);

  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 80 }), fc.string({ maxLength: 40 }), async (token, query) => {
      const link = await clientFor(stack.url).post(`/v1/subscription-cancel/${encodeURIComponent(token)}`);
      expect(link.status).toBeLessThan(500);
      // An empty or dot-segment token is another path (the URL parser resolves it): not the link's.
      if (!['', '.', '..'].includes(token)) expect([400, 404]).toContain(link.status);
      const list = await shop.api.get(`/v1/subscriptions?${encodeURIComponent(query)}=${encodeURIComponent(token)}`);
      expect(list.status).toBeLessThan(500);
    }),
    { numRuns: 60 },
  );
});

test("a period's order names its subscription in the timeline, for the order system and for staff; an ordinary order names none", async () => {
  const body = subscriptionBody(shop.sku);
  const created = await shop.api.post('/v1/subscriptions', body);
  expect(created.status).toBe(202);
  const id: string = created.body.id;
  const paid = await waitForSubscription(shop.api, id, (s) => s.currentPeriod === 1, 'period 1 paid');
  const period1 = paid.periods[0];
  const support = await staffApi(stack, 'support');
  for (const api of [shop.api, support]) {
    const timeline = await api.get(`/v1/orders/${period1.orderId}/timeline`);
    expect(timeline.status).toBe(200);
    expect(timeline.body.subscription).toEqual({
      id,
      externalSubscriptionId: body.externalSubscriptionId,
      periodNumber: 1,
      status: 'active',
      sku: shop.sku,
      period: 'month',
    });
    // The period begins with the subscription, before the order placed for it.
    expect(timeline.body.entries[0]).toEqual({
      at: period1.startsAt,
      source: 'subscription',
      event: 'period',
      data: { subscriptionId: id, periodNumber: 1 },
    });
    expect(timeline.body.entries.filter((e: any) => e.source === 'subscription')).toHaveLength(1);
  }

  // An ordinary order, and one the shop named like a period's order: neither is a subscription's.
  for (const externalOrderId of [`ext-${randomUUID()}`, `subscription:${id}:1:9`]) {
    const placed = await shop.api.post('/v1/orders', orderBody(shop.sku, 1, externalOrderId));
    expect(placed.status).toBe(202);
    await waitForTerminal(shop.api, placed.body.id);
    const timeline = await support.get(`/v1/orders/${placed.body.id}/timeline`);
    expect(timeline.status).toBe(200);
    expect(timeline.body.subscription).toBeNull();
    expect(timeline.body.entries.some((e: any) => e.source === 'subscription')).toBe(false);
  }
  await shop.api.post(`/v1/subscriptions/${id}/cancel`, {});
});
