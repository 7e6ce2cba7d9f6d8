// Acceptance 4 (second half) of issue 31: an admin announces a product's new price. Every
// open subscription on it is told at once (`subscription.price_changing`, the amount and the
// first renewal at it, the cancel link), the change takes effect no sooner than the notice
// period allows, a renewal before it pays the old price, the first after it the new one (its
// renewal notice already says so), and a buyer who cancels before it is never charged it.
import { PRICE } from '../support/orders';
import { expectProblem } from '../support/http';
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
import { waitFor } from '../support/wait';
import { startWebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(120_000);

const MONTH_MS = SECONDS_PER_MONTH * 1000;
const NEW_PRICE = 2000;
let stack: TestStack;
let receiver: Receiver;
beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack({ config: subscriptionConfig() }), startWebhookReceiver()]);
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

test('a price change is told to every subscription in time, and charged only from the first renewal after it', async () => {
  const shop = await subscriptionShop(stack, receiver, { stock: 10, topUp: 20 * PRICE });
  const stays = (await shop.api.post('/v1/subscriptions', subscriptionBody(shop.sku))).body;
  const leaves = (await shop.api.post('/v1/subscriptions', subscriptionBody(shop.sku))).body;
  await waitForSubscription(shop.api, stays.id, (s) => s.currentPeriod >= 1, 'period 1 paid');
  await waitForSubscription(shop.api, leaves.id, (s) => s.currentPeriod >= 1, 'period 1 paid');

  // Too soon, the wrong currency, not an admin: refused, nothing announced.
  const path = `/v1/products/${shop.sku}/price-changes`;
  const soon = new Date(Date.now() + NOTICE_SECONDS * 1000 - 500).toISOString();
  expectProblem(
    await shop.admin.post(path, { price: { minor: NEW_PRICE, currency: 'CNY' }, effectiveAt: soon }),
    422,
    'price_change_too_soon',
  );
  expectProblem(
    await shop.admin.post(path, { price: { minor: NEW_PRICE, currency: 'USD' } }),
    422,
    'currency_mismatch',
  );
  expectProblem(await shop.api.post(path, { price: { minor: NEW_PRICE, currency: 'CNY' } }), 403, 'forbidden');
  expect(await stack.db.productPriceChange.count({ where: { product: { sku: shop.sku } } })).toBe(0);

  // Effective between period 2's charge and period 3's.
  const anchor = Date.parse(stays.anchorAt);
  const effectiveAt = new Date(anchor + 1.7 * MONTH_MS);
  const announced = await shop.admin.post(path, {
    price: { minor: NEW_PRICE, currency: 'CNY' },
    effectiveAt: effectiveAt.toISOString(),
  });
  expect(announced.status).toBe(202);
  expect(announced.body).toMatchObject({ sku: shop.sku, price: { minor: NEW_PRICE, currency: 'CNY' } });

  // Both subscriptions are told at once, with the first renewal at the new price.
  await waitFor(
    () => [stays.id, leaves.id].every((id) => subscriptionEvents(receiver.received, id, 'price_changing').length === 1),
    'both price_changing webhooks',
  );
  const [told] = subscriptionEvents(receiver.received, stays.id, 'price_changing');
  expect(told.data).toMatchObject({
    amount: { minor: NEW_PRICE, currency: 'CNY' },
    effectiveAt: effectiveAt.toISOString(),
    fromPeriod: 3,
    sku: shop.sku,
  });
  expect(told.data.cancelUrl).toMatch(/\/v1\/subscription-cancel\/[0-9a-f]{64}$/);

  // One buyer leaves after period 2, before the change takes effect.
  await waitForSubscription(shop.api, leaves.id, (s) => s.currentPeriod >= 2, 'period 2 paid');
  const cancelled = await shop.api.post(`/v1/subscriptions/${leaves.id}/cancel`, {});
  expect(cancelled.body.status).toBe('cancelled');
  expect(Date.now()).toBeLessThan(effectiveAt.getTime());

  const after = await waitForSubscription(shop.api, stays.id, (s) => s.currentPeriod >= 3, 'period 3 paid', 60_000);
  const amounts = after.periods.map((p: any) => [p.number, p.amount.minor]);
  expect(amounts).toEqual([
    [1, PRICE],
    [2, PRICE],
    [3, NEW_PRICE],
  ]);
  // The renewal notice of period 3 went out before the change took effect and already named the new price.
  const notice3 = subscriptionEvents(receiver.received, stays.id, 'renewal_upcoming').find((n) => n.data.period === 3);
  expect(notice3.data.amount).toEqual({ minor: NEW_PRICE, currency: 'CNY' });
  // Told at least the notice period before the first charge at the new price.
  const order3 = await stack.db.order.findUniqueOrThrow({ where: { id: after.periods[2].orderId } });
  expect(Number(order3.amountMinor)).toBe(NEW_PRICE);
  expect(order3.createdAt.getTime() - Date.parse(told.createdAt)).toBeGreaterThanOrEqual(NOTICE_SECONDS * 1000);
  expect(order3.createdAt.getTime()).toBeGreaterThanOrEqual(effectiveAt.getTime());

  // The buyer who left paid the old price only.
  const left = (await shop.api.get(`/v1/subscriptions/${leaves.id}`)).body;
  expect(left.periods.map((p: any) => p.amount.minor)).toEqual([PRICE, PRICE]);
  const leftOrders = await stack.db.order.findMany({
    where: { externalOrderId: { startsWith: `subscription:${leaves.id}:` } },
  });
  expect(leftOrders.map((o) => Number(o.amountMinor))).toEqual([PRICE, PRICE]);

  // The product's price changed at the effective time, audited.
  const changes = (await shop.admin.get(path)).body.priceChanges;
  expect(changes).toEqual([expect.objectContaining({ appliedAt: expect.any(String) })]);
  expect(Date.parse(changes[0].appliedAt)).toBeGreaterThanOrEqual(effectiveAt.getTime());
  const audit = await stack.db.auditLog.findMany({
    where: { subjectType: 'product', action: { startsWith: 'product.price_change' } },
    orderBy: { id: 'asc' },
  });
  expect(audit.filter((a) => (a.details as any).changeId === announced.body.id).map((a) => a.action)).toEqual([
    'product.price_change_announced',
    'product.price_changed',
  ]);
  await shop.api.post(`/v1/subscriptions/${stays.id}/cancel`, {});
});
