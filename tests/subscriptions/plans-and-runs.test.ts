// Acceptance 4 (first half) and 6 of issue 31, on a stack whose renewal runs continue as new
// after every two charges: a plan change mid-period applies from the next period (its notice
// already names the new price), a subscription keeps its id, state and history across runs,
// and a pause stops renewals until a resume, which charges at once when the renewal fell due.
import { randomUUID } from 'node:crypto';
import { PRICE, uniqueCodes } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import {
  SECONDS_PER_MONTH,
  subscriptionBody,
  subscriptionConfig,
  subscriptionEvents,
  subscriptionShop,
  waitForSubscription,
  type Receiver,
} from '../support/subscriptions';
import { startWebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(120_000);

const MONTH_MS = SECONDS_PER_MONTH * 1000;
let stack: TestStack;
let receiver: Receiver;
beforeAll(async () => {
  [stack, receiver] = await Promise.all([
    startStack({ config: subscriptionConfig({ SUBSCRIPTION_PERIODS_PER_RUN: '2' }) }),
    startWebhookReceiver(),
  ]);
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

test('a plan change mid-period applies from the next period: its notice, its order and its length', async () => {
  const shop = await subscriptionShop(stack, receiver, { stock: 5, topUp: 20 * PRICE });
  const premium = `premium-${randomUUID().slice(0, 8)}`;
  const PREMIUM_PRICE = 2500;
  expect(
    (
      await shop.admin.post('/v1/products', {
        sku: premium,
        name: 'Video VIP premium',
        kind: 'card_key',
        price: { minor: PREMIUM_PRICE, currency: 'CNY' },
      })
    ).status,
  ).toBe(201);
  await shop.admin.post('/v1/inventory/batches', { sku: premium, keys: uniqueCodes(5, 'PRM') });
  await shop.admin.patch(`/v1/risk/policies/${premium}`, { scores: { unknown_ip: 0 } });

  const { id } = (await shop.api.post('/v1/subscriptions', subscriptionBody(shop.sku))).body;
  await waitForSubscription(shop.api, id, (s) => s.currentPeriod >= 1, 'period 1 paid');
  const changed = await shop.api.post(`/v1/subscriptions/${id}/change-plan`, { sku: premium, period: 'quarter' });
  expect(changed.status).toBe(200);
  expect(changed.body).toMatchObject({
    sku: shop.sku,
    period: 'month',
    pendingPlan: { sku: premium, period: 'quarter', fromPeriod: 2 },
    nextRenewal: { period: 2, sku: premium, amount: { minor: PREMIUM_PRICE, currency: 'CNY' } },
  });

  const renewed = await waitForSubscription(shop.api, id, (s) => s.currentPeriod >= 2, 'period 2 paid');
  expect(renewed).toMatchObject({ sku: premium, period: 'quarter' });
  expect(renewed.pendingPlan).toBeUndefined();
  const [p1, p2] = renewed.periods;
  expect(p1).toMatchObject({ number: 1, sku: shop.sku, amount: { minor: PRICE, currency: 'CNY' } });
  expect(p2).toMatchObject({ number: 2, sku: premium, amount: { minor: PREMIUM_PRICE, currency: 'CNY' } });
  // Period 2 is a quarter long, starting where the month would have ended.
  const anchor = Date.parse(renewed.anchorAt);
  expect(Date.parse(p2.startsAt)).toBe(anchor + MONTH_MS);
  expect(Date.parse(p2.endsAt)).toBe(anchor + 4 * MONTH_MS);
  // The buyer was told the new price for period 2, and charged exactly that.
  const [notice] = subscriptionEvents(receiver.received, id, 'renewal_upcoming');
  expect(notice.data).toMatchObject({ period: 2, sku: premium, amount: { minor: PREMIUM_PRICE, currency: 'CNY' } });
  const order2 = await stack.db.order.findUniqueOrThrow({ where: { id: p2.orderId }, include: { items: true } });
  expect(order2.items.map((i) => i.sku)).toEqual([premium]);
  expect(Number(order2.amountMinor)).toBe(PREMIUM_PRICE);
  expect(renewed.history.map((h: any) => h.type)).toEqual(
    expect.arrayContaining(['plan_changed', 'plan_applied', 'renewal_upcoming', 'renewed']),
  );
  await shop.api.post(`/v1/subscriptions/${id}/cancel`, {});
});

test('continue-as-new: the subscription keeps its id, state and history across runs', async () => {
  const shop = await subscriptionShop(stack, receiver, { stock: 10, topUp: 20 * PRICE });
  const { id } = (await shop.api.post('/v1/subscriptions', subscriptionBody(shop.sku))).body;
  const { workflowId } = await stack.db.subscription.findUniqueOrThrow({ where: { id } });
  const handle = stack.deps.temporal.workflow.getHandle(workflowId);
  const firstRun = (await handle.describe()).runId;

  // Two charges per run: periods 1–2 in the first run, 3–4 in the second, 5 in the third.
  const after = await waitForSubscription(shop.api, id, (s) => s.currentPeriod >= 5, 'five periods paid', 90_000);
  const schedule = await handle.query('schedule');
  expect(schedule).toMatchObject({ status: 'active', paidPeriod: 5, plan: { sku: shop.sku } });
  expect((schedule as any).run).toBeGreaterThanOrEqual(2);
  const current = await handle.describe();
  expect(current.workflowId).toBe(workflowId);
  expect(current.runId).not.toBe(firstRun);
  expect((await stack.deps.temporal.workflow.getHandle(workflowId, firstRun).describe()).status.name).toBe(
    'CONTINUED_AS_NEW',
  );

  // The periods and the history run on without a gap or a repeat.
  expect(after.periods.map((p: any) => [p.number, p.attempts, p.outcome])).toEqual(
    [1, 2, 3, 4, 5].map((n) => [n, 1, 'paid']),
  );
  const anchor = Date.parse(after.anchorAt);
  for (const p of after.periods) expect(Date.parse(p.startsAt)).toBe(anchor + (p.number - 1) * MONTH_MS);
  const seqs = after.history.map((h: any) => h.seq);
  expect(seqs).toEqual(seqs.map((_: number, i: number) => i));
  expect(after.history.filter((h: any) => h.type === 'renewed').map((h: any) => h.period)).toEqual([1, 2, 3, 4, 5]);
  expect(after.history.filter((h: any) => h.type === 'renewal_upcoming').map((h: any) => h.period)).toEqual(
    expect.arrayContaining([2, 3, 4, 5]),
  );
  // One order per period across the runs (no period ordered twice).
  const orders = await stack.db.order.findMany({ where: { externalOrderId: { startsWith: `subscription:${id}:` } } });
  const numbers = orders
    .map((o) => o.externalOrderId.split(':'))
    .map((parts) => (parts.length === 3 ? parts[2] : 'retry'));
  expect(new Set(numbers).size).toBe(orders.length);
  expect(numbers).toEqual(expect.arrayContaining(['1', '2', '3', '4', '5']));
  expect(numbers).not.toContain('retry');

  // The new run answers Updates: a cancel ends it.
  const cancelled = await shop.api.post(`/v1/subscriptions/${id}/cancel`, {});
  expect(cancelled.body.status).toBe('cancelled');
  expect(await handle.result()).toMatchObject({ status: 'cancelled' });
});

test('pause stops renewals; resume after the renewal fell due charges at once', async () => {
  const shop = await subscriptionShop(stack, receiver, { stock: 10, topUp: 20 * PRICE });
  const { id } = (await shop.api.post('/v1/subscriptions', subscriptionBody(shop.sku))).body;
  await waitForSubscription(shop.api, id, (s) => s.currentPeriod >= 1, 'period 1 paid');
  const paused = await shop.api.post(`/v1/subscriptions/${id}/pause`, { reason: 'travelling' });
  expect(paused.status).toBe(200);
  expect(paused.body.status).toBe('paused');
  // A second pause is refused: a paused subscription is not active.
  const again = await shop.api.post(`/v1/subscriptions/${id}/pause`, {});
  expect({ status: again.status, code: again.body.code }).toEqual({ status: 409, code: 'subscription_state' });

  // Past period 2's start: nothing charged while paused.
  const anchor = Date.parse(paused.body.anchorAt);
  await new Promise((r) => setTimeout(r, Math.max(0, anchor + MONTH_MS + 1_000 - Date.now())));
  expect(await stack.db.order.count({ where: { externalOrderId: { startsWith: `subscription:${id}:` } } })).toBe(1);

  const asked = Date.now();
  const resumed = await shop.api.post(`/v1/subscriptions/${id}/resume`, {});
  expect(resumed.body.status).toBe('active');
  const paid = await waitForSubscription(shop.api, id, (s) => s.currentPeriod >= 2, 'period 2 paid', 10_000);
  const period2 = paid.periods.find((p: any) => p.number === 2);
  const order = await stack.db.order.findUniqueOrThrow({ where: { id: period2.orderId } });
  expect(order.createdAt.getTime() - asked).toBeLessThan(2_000);
  // The anchor stands: period 2 keeps its bounds.
  expect(Date.parse(period2.startsAt)).toBe(anchor + MONTH_MS);
  await shop.api.post(`/v1/subscriptions/${id}/cancel`, {});
});
