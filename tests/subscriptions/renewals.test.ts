// Acceptance 1 and 2 of issue 31, on the real renewal workflow (months of seconds): periods
// renew on schedule, each noticed at least the notice period before its charge and charged
// and delivered exactly once; a cancel stops the charges at once, the buyer's link cancels
// without an API key, twice harmlessly, and a forged token is refused.
import { clientFor, expectProblem } from '../support/http';
import { startStack, type TestStack } from '../support/stack';
import {
  NOTICE_SECONDS,
  SECONDS_PER_MONTH,
  subscriptionBody,
  subscriptionConfig,
  subscriptionEvents,
  subscriptionShop,
  waitForSubscription,
  type Receiver,
} from '../support/subscriptions';
import { startWebhookReceiver } from '../support/webhook-receiver';
import { PRICE } from '../support/orders';

jest.setTimeout(120_000);

let stack: TestStack;
let receiver: Receiver;
beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack({ config: subscriptionConfig() }), startWebhookReceiver()]);
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

test('periods renew on schedule: each noticed the notice period ahead, charged once and delivered once', async () => {
  const { sku, api, shop } = await subscriptionShop(stack, receiver, { stock: 10, topUp: 20 * PRICE });
  const created = await api.post('/v1/subscriptions', subscriptionBody(sku));
  expect(created.status).toBe(202);
  const id = created.body.id;
  expect(created.body).toMatchObject({ status: 'active', sku, period: 'month', timeZone: 'Asia/Shanghai' });

  // Period 1 at once, then three renewals: periods 2, 3 and 4.
  const renewed = await waitForSubscription(api, id, (s) => s.currentPeriod >= 4, 'four periods paid', 90_000);
  // Let whatever would come next (a duplicate, a late notice) arrive before counting.
  await new Promise((r) => setTimeout(r, 500));
  const periods = renewed.periods.filter((p: any) => p.number <= 4);
  expect(periods.map((p: any) => [p.number, p.outcome, p.orderStatus, p.attempts])).toEqual([
    [1, 'paid', 'delivered', 1],
    [2, 'paid', 'delivered', 1],
    [3, 'paid', 'delivered', 1],
    [4, 'paid', 'delivered', 1],
  ]);
  // Contiguous periods of a month each, counted from the anchor.
  const anchor = Date.parse(renewed.anchorAt);
  for (const p of periods) {
    expect(Date.parse(p.startsAt)).toBe(anchor + (p.number - 1) * SECONDS_PER_MONTH * 1000);
    expect(Date.parse(p.endsAt)).toBe(anchor + p.number * SECONDS_PER_MONTH * 1000);
  }

  // One order per period, named after (subscription, period); each charged once, delivered once.
  const orders = await stack.db.order.findMany({
    where: { clientId: shop.id },
    include: { units: true },
    orderBy: { createdAt: 'asc' },
  });
  const forPeriods = orders.filter((o) => periods.some((p: any) => p.orderId === o.id));
  expect(forPeriods).toHaveLength(4);
  expect(forPeriods.map((o) => o.externalOrderId)).toEqual([1, 2, 3, 4].map((n) => `subscription:${id}:${n}`));
  for (const order of forPeriods) {
    expect(order.status).toBe('delivered');
    expect(order.units.filter((u) => u.status === 'delivered' && u.cardKeyId)).toHaveLength(1);
  }
  const keys = forPeriods.map((o) => o.units[0]!.cardKeyId);
  expect(new Set(keys).size).toBe(4);
  const ledger = await stack.db.ledgerTransaction.groupBy({
    by: ['orderId', 'kind'],
    where: { orderId: { in: forPeriods.map((o) => o.id) } },
    _count: { _all: true },
    _sum: { amountMinor: true },
  });
  for (const order of forPeriods) {
    const mine = ledger.filter((l) => l.orderId === order.id);
    expect(mine.map((l) => [l.kind, l._count._all, Number(l._sum.amountMinor)]).sort()).toEqual([
      ['capture', 1, PRICE],
      ['hold', 1, PRICE],
    ]);
  }

  // The notices: one per renewal (periods 2–4, none for the first), each sent at least the
  // notice period before its period's order was placed, with the time, amount and cancel link.
  const notices = subscriptionEvents(receiver.received, id, 'renewal_upcoming');
  const noticed = notices.filter((n) => n.data.period <= 4);
  expect(noticed.map((n) => n.data.period).sort()).toEqual([2, 3, 4]);
  expect(new Set(notices.map((n) => n.id)).size).toBe(notices.length);
  for (const notice of noticed) {
    const period = periods.find((p: any) => p.number === notice.data.period);
    const order = forPeriods.find((o) => o.id === period.orderId)!;
    expect(notice.data.amount).toEqual({ minor: PRICE, currency: 'CNY' });
    expect(notice.data.cancelUrl).toMatch(new RegExp(`^${stack.url}/v1/subscription-cancel/[0-9a-f]{64}$`));
    expect(Date.parse(notice.data.chargeAt)).toBeLessThanOrEqual(order.createdAt.getTime());
    expect(order.createdAt.getTime() - Date.parse(notice.createdAt)).toBeGreaterThanOrEqual(NOTICE_SECONDS * 1000);
    expect(Date.parse(period.noticeSentAt)).toBeLessThanOrEqual(Date.parse(notice.createdAt));
  }
  // Every renewal announced once; the history has each event once, numbered in order.
  const renewedEvents = subscriptionEvents(receiver.received, id, 'renewed').filter((e) => e.data.period <= 4);
  expect(renewedEvents.map((e) => e.data.period).sort()).toEqual([1, 2, 3, 4]);
  const seqs = renewed.history.map((h: any) => h.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(renewed.history[0]).toMatchObject({ seq: 0, type: 'created' });

  // The cancel link's token is a credential: it reaches the order system in the notice, never
  // the renewal's Temporal history.
  const token = noticed[0].data.cancelUrl.split('/').at(-1);
  const { workflowId } = await stack.db.subscription.findUniqueOrThrow({ where: { id } });
  // Payloads are base64: decoded, every input and result of the run is searched.
  const history = JSON.stringify(await stack.deps.temporal.workflow.getHandle(workflowId).fetchHistory(), (k, v) =>
    k === 'data' && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : v,
  );
  expect(history.includes(`\\"subscriptionId\\":\\"${id}\\"`)).toBe(true);
  expect(history.includes(token)).toBe(false);

  await api.post(`/v1/subscriptions/${id}/cancel`, {});
});

test('a cancel stops renewals at once; the buyer’s link cancels without a key, twice harmlessly; a forged one is 404', async () => {
  const { sku, api } = await subscriptionShop(stack, receiver, { stock: 10, topUp: 20 * PRICE });
  const first = (await api.post('/v1/subscriptions', subscriptionBody(sku))).body;
  const second = (await api.post('/v1/subscriptions', subscriptionBody(sku))).body;
  await waitForSubscription(api, first.id, (s) => s.currentPeriod >= 1, 'period 1 paid');
  await waitForSubscription(api, second.id, (s) => s.currentPeriod >= 1, 'period 1 paid');

  // The order system cancels the first mid-period: no further order, its rights stay.
  const cancelled = await api.post(`/v1/subscriptions/${first.id}/cancel`, { reason: 'buyer asked' });
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({ status: 'cancelled', currentPeriod: 1 });
  expect(cancelled.body.nextRenewal).toBeUndefined();

  // The buyer cancels the second through the link in its notice, with no API key.
  const owned = (await api.get(`/v1/subscriptions/${second.id}`)).body;
  const link = owned.cancelUrl as string;
  expect(link).toMatch(/\/v1\/subscription-cancel\/[0-9a-f]{64}$/);
  const anonymous = clientFor(stack.url);
  const shown = await anonymous.get(new URL(link).pathname);
  expect(shown.status).toBe(200);
  expect(shown.body).toMatchObject({ subscription: { status: 'active', sku }, cancel: { method: 'POST' } });
  const viaLink = await anonymous.post(new URL(link).pathname);
  expect(viaLink.status).toBe(200);
  expect(viaLink.body).toEqual({ status: 'cancelled' });
  const again = await anonymous.post(new URL(link).pathname);
  expect(again.status).toBe(200);
  expect(again.body).toEqual({ status: 'cancelled' });

  // Forged: a well-formed token the platform never issued, and garbage.
  const forged = link.replace(/[0-9a-f]{64}$/, 'ab'.repeat(32));
  expectProblem(await anonymous.post(new URL(forged).pathname), 404, 'not_found');
  expectProblem(await anonymous.get(new URL(forged).pathname), 404, 'not_found');
  expectProblem(await anonymous.post('/v1/subscription-cancel/not-a-token'), 404, 'not_found');

  // Two more months pass: neither subscription places another order.
  await new Promise((r) => setTimeout(r, 2 * SECONDS_PER_MONTH * 1000));
  for (const s of [first, second]) {
    const after = (await api.get(`/v1/subscriptions/${s.id}`)).body;
    expect(after.status).toBe('cancelled');
    expect(after.periods.map((p: any) => p.number)).toEqual([1]);
    expect(await stack.db.order.count({ where: { externalOrderId: { startsWith: `subscription:${s.id}:` } } })).toBe(1);
    const history = after.history.map((h: any) => h.type);
    expect(history.filter((t: string) => t === 'cancelled')).toHaveLength(1);
  }
  const byBuyer = (await api.get(`/v1/subscriptions/${second.id}`)).body.history.find(
    (h: any) => h.type === 'cancelled',
  );
  expect(byBuyer.detail).toMatchObject({ reason: 'cancelled by the buyer' });
  // The renewal workflows ended with their subscriptions.
  for (const s of [first, second]) {
    const { workflowId } = await stack.db.subscription.findUniqueOrThrow({ where: { id: s.id } });
    expect(await stack.deps.temporal.workflow.getHandle(workflowId).result()).toMatchObject({ status: 'cancelled' });
  }
});
