// Acceptance 3 of issue 31: a renewal whose payment fails is retried on the dunning schedule
// (here 1 s and 3 s after the first attempt, months of 8 s) keeping the anchor; when the
// retries run out the subscription is suspended (on hold, 4 s here) and then expires; a
// resume from suspended with a payment that works renews at once. The prepaid balance
// declines by being short: the shop tops up exactly one period.
import { PRICE, uniqueCodes } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import {
  subscriptionBody,
  subscriptionConfig,
  subscriptionEvents,
  subscriptionShop,
  waitForSubscription,
  type Receiver,
} from '../support/subscriptions';
import { waitFor } from '../support/wait';
import { startWebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(120_000);

const MONTH_MS = 8_000;
let stack: TestStack;
let receiver: Receiver;
beforeAll(async () => {
  [stack, receiver] = await Promise.all([
    startStack({
      config: subscriptionConfig({
        SUBSCRIPTION_SECONDS_PER_MONTH: String(MONTH_MS / 1000),
        SUBSCRIPTION_RETRY_OFFSETS_SECONDS: '1,3',
        SUBSCRIPTION_HOLD_SECONDS: '4',
      }),
    }),
    startWebhookReceiver(),
  ]);
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

const failedAttempts = (s: any, period: number) =>
  s.history.filter((h: any) => h.type === 'renewal_failed' && h.period === period);

async function topUp(admin: any, clientId: string, minor: number) {
  const res = await admin.post(`/v1/clients/${clientId}/topups`, { amount: { minor, currency: 'CNY' } });
  expect(res.status).toBe(201);
}

test('payment fails twice, then succeeds in dunning: delivered once, and the next renewal keeps the anchor', async () => {
  const { sku, api, admin, shop } = await subscriptionShop(stack, receiver, { stock: 10, topUp: PRICE });
  const { id } = (await api.post('/v1/subscriptions', subscriptionBody(sku))).body;

  // Period 2 fails at its start and at the first retry (the balance is spent)...
  const pastDue = await waitForSubscription(api, id, (s) => failedAttempts(s, 2).length >= 2, 'two failed attempts');
  expect(pastDue.status).toBe('past_due');
  expect(failedAttempts(pastDue, 2).map((h: any) => [h.status, h.detail.outcome, h.detail.attempt])).toEqual([
    ['past_due', 'declined', 1],
    ['past_due', 'declined', 2],
  ]);
  // ...then the shop tops up, and the second retry (3 s after the first attempt) pays.
  await topUp(admin, shop.id, 3 * PRICE);
  const recovered = await waitForSubscription(api, id, (s) => s.currentPeriod >= 2, 'period 2 paid in dunning');
  expect(recovered.status).toBe('active');
  const period2 = recovered.periods.find((p: any) => p.number === 2);
  expect(period2).toMatchObject({ outcome: 'paid', orderStatus: 'delivered', attempts: 3 });

  // Three orders for period 2, one charged; the two refused ones took no money.
  const orders = await stack.db.order.findMany({
    where: { clientId: shop.id, externalOrderId: { startsWith: `subscription:${id}:2` } },
    orderBy: { createdAt: 'asc' },
  });
  expect(orders.map((o) => [o.externalOrderId, o.status])).toEqual([
    [`subscription:${id}:2`, 'failed'],
    [`subscription:${id}:2:2`, 'failed'],
    [`subscription:${id}:2:3`, 'delivered'],
  ]);
  const ledger = await stack.db.ledgerTransaction.findMany({ where: { orderId: { in: orders.map((o) => o.id) } } });
  expect(ledger.map((l) => [l.orderId, l.kind]).sort()).toEqual(
    [
      [orders[2]!.id, 'capture'],
      [orders[2]!.id, 'hold'],
    ].sort(),
  );
  // Every attempt's order names the subscription's period 2 in its timeline: the last through
  // the period's row, the earlier ones (the row moved on) through the events that name them.
  for (const o of orders) {
    const timeline = await api.get(`/v1/orders/${o.id}/timeline`);
    expect({ order: o.externalOrderId, subscription: timeline.body.subscription }).toEqual({
      order: o.externalOrderId,
      subscription: expect.objectContaining({ id, periodNumber: 2 }),
    });
  }

  // The retries ran at the configured offsets from the period's start.
  const anchor = Date.parse(recovered.anchorAt);
  const period2Start = anchor + MONTH_MS;
  expect(orders[0]!.createdAt.getTime()).toBeGreaterThanOrEqual(period2Start);
  expect(orders[1]!.createdAt.getTime()).toBeGreaterThanOrEqual(period2Start + 1_000);
  expect(orders[2]!.createdAt.getTime()).toBeGreaterThanOrEqual(period2Start + 3_000);

  // The late success does not move period 3: it starts two months after the anchor.
  const renewed = await waitForSubscription(api, id, (s) => s.currentPeriod >= 3, 'period 3 paid');
  const period3 = renewed.periods.find((p: any) => p.number === 3);
  expect(Date.parse(period2.endsAt)).toBe(anchor + 2 * MONTH_MS);
  expect(Date.parse(period3.startsAt)).toBe(anchor + 2 * MONTH_MS);
  expect(period3).toMatchObject({ outcome: 'paid', attempts: 1 });
  const order3 = await stack.db.order.findUniqueOrThrow({ where: { id: period3.orderId } });
  expect(order3.createdAt.getTime()).toBeGreaterThanOrEqual(anchor + 2 * MONTH_MS);
  expect(order3.createdAt.getTime()).toBeLessThan(anchor + 2 * MONTH_MS + 3_000);

  // The order system heard of each step.
  const types = subscriptionEvents(receiver.received, id).map((e) => e.type);
  expect(types.filter((t) => t === 'subscription.renewal_failed')).toHaveLength(2);
  expect(types).toContain('subscription.renewed');
  await api.post(`/v1/subscriptions/${id}/cancel`, {});
});

test('payment fails throughout: past due, then suspended, then expired; nothing charged after period 1', async () => {
  const { sku, api, shop } = await subscriptionShop(stack, receiver, { stock: 10, topUp: PRICE });
  const { id } = (await api.post('/v1/subscriptions', subscriptionBody(sku))).body;

  const suspended = await waitForSubscription(api, id, (s) => s.status === 'suspended', 'suspended', 60_000);
  expect(failedAttempts(suspended, 2)).toHaveLength(3);
  const expired = await waitForSubscription(api, id, (s) => s.status === 'expired', 'expired', 30_000);
  const transitions = expired.history.map((h: any) => h.type).filter((t: string) => t !== 'renewal_upcoming');
  expect(transitions).toEqual([
    'created',
    'renewed',
    'renewal_failed',
    'renewal_failed',
    'renewal_failed',
    'suspended',
    'expired',
  ]);
  expect(expired.history.map((h: any) => h.status).slice(-3)).toEqual(['past_due', 'suspended', 'expired']);
  // On hold for the hold period before it expired.
  const at = (type: string) => Date.parse(expired.history.find((h: any) => h.type === type).at);
  expect(at('expired') - at('suspended')).toBeGreaterThanOrEqual(4_000);
  expect(expired.nextRenewal).toBeUndefined();
  expect(expired.cancelUrl).toBeUndefined();

  const orders = await stack.db.order.findMany({
    where: { clientId: shop.id, externalOrderId: { startsWith: `subscription:${id}:` } },
  });
  expect(orders.map((o) => o.status).sort()).toEqual(['delivered', 'failed', 'failed', 'failed']);
  const charged = await stack.db.ledgerTransaction.findMany({
    where: { kind: { in: ['hold', 'capture'] }, orderId: { in: orders.map((o) => o.id) } },
  });
  expect(charged.map((l) => l.kind).sort()).toEqual(['capture', 'hold']);
  // The webhook follows the record.
  await waitFor(
    () => subscriptionEvents(receiver.received, id, 'expired').length === 1,
    'the subscription.expired webhook',
  );
  expect(subscriptionEvents(receiver.received, id, 'suspended')).toHaveLength(1);
  const { workflowId } = await stack.db.subscription.findUniqueOrThrow({ where: { id } });
  // The workflow ends with the subscription, answering its last schedule.
  const last = await stack.deps.temporal.workflow.getHandle(workflowId).result();
  expect(last).toMatchObject({ status: 'expired', paidPeriod: 1 });
  expect(last.nextCharge).toBeUndefined();
});

test('resume from suspended with a payment that works renews at once', async () => {
  const { sku, api, admin, shop } = await subscriptionShop(stack, receiver, { stock: 10, topUp: PRICE });
  const { id } = (await api.post('/v1/subscriptions', subscriptionBody(sku))).body;
  await waitForSubscription(api, id, (s) => s.status === 'suspended', 'suspended', 60_000);
  await topUp(admin, shop.id, 2 * PRICE);

  const asked = Date.now();
  const resumed = await api.post(`/v1/subscriptions/${id}/resume`, { reason: 'balance topped up' });
  expect(resumed.status).toBe(200);
  expect(resumed.body.status).toBe('active');
  const paid = await waitForSubscription(
    api,
    id,
    (s) => s.currentPeriod >= 2,
    'period 2 paid after the resume',
    10_000,
  );
  const period2 = paid.periods.find((p: any) => p.number === 2);
  const order = await stack.db.order.findUniqueOrThrow({ where: { id: period2.orderId } });
  // At once: not at the next retry or renewal time, and within period 2 (still running).
  expect(order.createdAt.getTime() - asked).toBeLessThan(2_000);
  expect(order.status).toBe('delivered');
  expect(paid.history.map((h: any) => h.type)).toEqual(expect.arrayContaining(['suspended', 'resumed', 'renewed']));
  // A resume of an active subscription is refused: nothing to resume.
  const again = await api.post(`/v1/subscriptions/${id}/resume`, {});
  expect(again.status).toBe(409);
  expect(again.body.code).toBe('subscription_state');
  await api.post(`/v1/subscriptions/${id}/cancel`, {});
});

test('a period paid but not fulfilled (out of stock, refunded by its order) is retried, never skipped', async () => {
  const { sku, api, admin } = await subscriptionShop(stack, receiver, { stock: 1, topUp: 10 * PRICE });
  const { id } = (await api.post('/v1/subscriptions', subscriptionBody(sku))).body;

  // Period 2 finds no stock: its order takes the money, then refunds it.
  const failed = await waitForSubscription(api, id, (s) => failedAttempts(s, 2).length >= 1, 'period 2 unfulfilled');
  expect(failedAttempts(failed, 2)[0]).toMatchObject({ status: 'active', detail: { outcome: 'unfulfilled' } });
  const refunded = await stack.db.order.findUniqueOrThrow({
    where: { id: failedAttempts(failed, 2)[0].detail.orderId },
  });
  expect(refunded.status).toBe('refunded');
  // Stock arrives; the retry delivers the period.
  expect((await admin.post('/v1/inventory/batches', { sku, keys: uniqueCodes(3, 'LATE') })).status).toBe(201);
  const paid = await waitForSubscription(api, id, (s) => s.currentPeriod >= 2, 'period 2 delivered by a retry');
  const period2 = paid.periods.find((p: any) => p.number === 2);
  expect(period2.outcome).toBe('paid');
  expect(period2.attempts).toBeGreaterThanOrEqual(2);
  const orders = await stack.db.order.findMany({ where: { externalOrderId: { startsWith: `subscription:${id}:2` } } });
  expect(orders.filter((o) => o.status === 'delivered')).toHaveLength(1);
  expect(orders.filter((o) => o.status !== 'delivered').every((o) => o.status === 'refunded')).toBe(true);
  // The refunded attempts' money went back: one capture for the period.
  const ledger = await stack.db.ledgerTransaction.findMany({
    where: { orderId: { in: orders.map((o) => o.id) }, kind: 'capture' },
  });
  expect(ledger).toHaveLength(1);
  await api.post(`/v1/subscriptions/${id}/cancel`, {});
});
