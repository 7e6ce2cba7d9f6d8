// The subscription figures (GET /v1/reports/subscriptions, admin, JSON and CSV) over real
// renewals of seconds: cohort retention by period number, dunning recovery (one recovered,
// one lost), the renewals due in the next 30 days with their expected revenue, and the
// day-of-month peak of next charges. Each product is a cohort of its own (`sku=`).
import { staffApi } from '../support/clients';
import { expectProblem } from '../support/http';
import { PRICE } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import {
  subscriptionBody,
  subscriptionConfig,
  subscriptionShop,
  waitForSubscription,
  type Receiver,
} from '../support/subscriptions';
import { startWebhookReceiver } from '../support/webhook-receiver';
import { wallClockAt } from '../../domain/subscriptions/periods';

jest.setTimeout(120_000);

let stack: TestStack;
let receiver: Receiver;
beforeAll(async () => {
  [stack, receiver] = await Promise.all([
    startStack({
      config: subscriptionConfig({
        SUBSCRIPTION_SECONDS_PER_MONTH: '6',
        SUBSCRIPTION_RETRY_OFFSETS_SECONDS: '1,3',
        SUBSCRIPTION_HOLD_SECONDS: '30',
      }),
    }),
    startWebhookReceiver(),
  ]);
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

const failures = (s: any) => s.history.filter((h: any) => h.type === 'renewal_failed').length;

test('retention by period, dunning recovery, renewals due and the day-of-month peak, as JSON and CSV', async () => {
  const renewing = await subscriptionShop(stack, receiver, { stock: 10, topUp: 20 * PRICE });
  const recovering = await subscriptionShop(stack, receiver, { stock: 10, topUp: PRICE });
  const losing = await subscriptionShop(stack, receiver, { stock: 10, topUp: PRICE });
  const create = async (shop: typeof renewing) =>
    (await shop.api.post('/v1/subscriptions', subscriptionBody(shop.sku))).body.id as string;
  const [stays, leaves, recovers, lapses] = await Promise.all([
    create(renewing),
    create(renewing),
    create(recovering),
    create(losing),
  ]);

  await waitForSubscription(renewing.api, leaves, (s) => s.currentPeriod >= 1, 'period 1 paid');
  await renewing.api.post(`/v1/subscriptions/${leaves}/cancel`, {});
  await waitForSubscription(recovering.api, recovers, (s) => failures(s) >= 1, 'a failed renewal');
  await recovering.admin.post(`/v1/clients/${recovering.shop.id}/topups`, {
    amount: { minor: 10 * PRICE, currency: 'CNY' },
  });
  await waitForSubscription(recovering.api, recovers, (s) => s.currentPeriod >= 2, 'recovered in dunning');
  await waitForSubscription(losing.api, lapses, (s) => s.status === 'suspended', 'suspended', 60_000);
  const kept = await waitForSubscription(renewing.api, stays, (s) => s.currentPeriod >= 3, 'period 3 paid', 60_000);

  const admin = renewing.admin;
  const report = async (sku: string) => {
    const res = await admin.get(`/v1/reports/subscriptions?sku=${sku}`);
    expect(res.status).toBe(200);
    return res.body;
  };

  const cohort = await report(renewing.sku);
  expect(cohort.retention.filter((r: any) => r.period <= 3)).toEqual([
    { sku: renewing.sku, period: 2, reached: 2, renewed: 1, rate: 0.5 },
    { sku: renewing.sku, period: 3, reached: 1, renewed: 1, rate: 1 },
  ]);
  // The one open subscription's next charge, in Shanghai's calendar, at the plan's price.
  const next = new Date(kept.nextRenewal.at);
  const day = wallClockAt('Asia/Shanghai', next.getTime());
  const date = `${day.year}-${String(day.month).padStart(2, '0')}-${String(day.day).padStart(2, '0')}`;
  expect(cohort.renewalsDue).toEqual([{ date, currency: 'CNY', subscriptions: 1, expectedRevenueMinor: PRICE }]);
  expect(cohort.dayOfMonth).toEqual([{ day: day.day, subscriptions: 1 }]);
  expect(cohort.peakDay).toEqual({ day: day.day, subscriptions: 1 });
  expect(cohort.dunning).toEqual([]);

  expect((await report(recovering.sku)).dunning).toEqual([
    { sku: recovering.sku, entered: 1, recovered: 1, lost: 0, retrying: 0, recoveryRate: 1 },
  ]);
  expect((await report(losing.sku)).dunning).toEqual([
    { sku: losing.sku, entered: 1, recovered: 0, lost: 1, retrying: 0, recoveryRate: 0 },
  ]);

  const csv = await admin.get(`/v1/reports/subscriptions?sku=${renewing.sku}`, { headers: { accept: 'text/csv' } });
  expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
  const lines = csv.text.trim().split('\n');
  expect(lines[0]).toBe(
    'figure,date,sku,period,day_of_month,currency,subscriptions,expected_revenue_minor,reached,renewed,rate,entered,recovered,lost,retrying',
  );
  expect(lines).toContain(`renewals_due,${date},,,,CNY,1,${PRICE},,,,,,,`);
  expect(lines).toContain(`retention,,${renewing.sku},2,,,,,2,1,0.5,,,,`);
  expect(lines).toContain(`day_of_month,,,,${day.day},,1,,,,,,,,`);

  expectProblem(await (await staffApi(stack, 'support')).get('/v1/reports/subscriptions'), 403, 'forbidden');
  expectProblem(await admin.get('/v1/reports/subscriptions?timeZone=Nowhere/Land'), 422, 'validation_failed');

  for (const [shop, id] of [
    [renewing, stays],
    [recovering, recovers],
    [losing, lapses],
  ] as const) {
    await shop.api.post(`/v1/subscriptions/${id}/cancel`, {});
  }
});
