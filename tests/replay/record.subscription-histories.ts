// Records histories of real renewal workflows for the replay test:
// `npx jest --runInBand --testMatch '**/tests/replay/record.subscription-histories.ts'`. Run it
// when a change to workflows/subscription.ts is deliberate and patched
// (docs/workflow-changes.md), and commit the new files beside the old ones.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
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

jest.setTimeout(300_000);

const DIR = path.join(__dirname, 'histories', 'subscriptions');
const History = temporal.api.history.v1.History;
let stack: TestStack;
let receiver: Receiver;
beforeAll(async () => {
  [stack, receiver] = await Promise.all([
    startStack({ config: subscriptionConfig({ SUBSCRIPTION_PERIODS_PER_RUN: '3' }) }),
    startWebhookReceiver(),
  ]);
  mkdirSync(DIR, { recursive: true });
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

type Shop = Awaited<ReturnType<typeof subscriptionShop>>;

/** Runs a scenario on a subscription of its own until its workflow ends, and writes every run's history. */
async function record(name: string, topUp: number, during: (shop: Shop, id: string) => Promise<void>) {
  // RECORD=name,name records only those (the others' files stay as they were).
  if (process.env.RECORD && !process.env.RECORD.split(',').includes(name)) return;
  const shop = await subscriptionShop(stack, receiver, { stock: 20, topUp });
  const { id } = (await shop.api.post('/v1/subscriptions', subscriptionBody(shop.sku))).body;
  await during(shop, id);
  const { workflowId } = await stack.db.subscription.findUniqueOrThrow({ where: { id } });
  const handle = stack.deps.temporal.workflow.getHandle(workflowId);
  await handle.result();
  // A run continued as new is preceded by the runs it continued: each is a file.
  const runs = [History.fromObject(await handle.fetchHistory())];
  for (;;) {
    const previous = runs[0]!.events[0]!.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) break;
    runs.unshift(History.fromObject(await stack.deps.temporal.workflow.getHandle(workflowId, previous).fetchHistory()));
  }
  for (const [i, history] of runs.entries()) {
    const suffix = i === 0 ? '' : i === 1 ? '-continued' : `-continued-${i}`;
    const file = path.join(DIR, `${new Date().toISOString().slice(0, 10)}-${name}${suffix}.json`);
    const json = History.toObject(history, { enums: String, longs: String, bytes: String });
    writeFileSync(file, `${JSON.stringify(json, null, 1)}\n`);
  }
}

const cancel = (shop: Shop, id: string) => shop.api.post(`/v1/subscriptions/${id}/cancel`, { reason: 'recorded' });

test('record renewal histories', async () => {
  // Four periods (three notices and renewals) across two runs, then the order system's cancel.
  await record('renewed-continued-cancelled', 20 * PRICE, async (shop, id) => {
    await waitForSubscription(shop.api, id, (s) => s.currentPeriod >= 4, 'four periods', 90_000);
    await cancel(shop, id);
  });
  // Declined twice, recovered by the second retry, then a plan change and a pause and resume.
  await record('dunning-recovered-plan-paused', PRICE, async (shop, id) => {
    await waitForSubscription(
      shop.api,
      id,
      (s) => s.history.filter((h: any) => h.type === 'renewal_failed').length >= 2,
      'two failed attempts',
    );
    await shop.admin.post(`/v1/clients/${shop.shop.id}/topups`, { amount: { minor: 10 * PRICE, currency: 'CNY' } });
    await waitForSubscription(shop.api, id, (s) => s.currentPeriod >= 2, 'period 2 paid in dunning');
    await shop.api.post(`/v1/subscriptions/${id}/change-plan`, { period: 'quarter' });
    await shop.api.post(`/v1/subscriptions/${id}/pause`, {});
    await shop.api.post(`/v1/subscriptions/${id}/resume`, {});
    await waitForSubscription(shop.api, id, (s) => s.currentPeriod >= 3, 'period 3 paid', 60_000);
    await cancel(shop, id);
  });
  // Declined throughout: past due, suspended, resumed with a working balance, then expired
  // after a second suspension.
  await record('suspended-resumed-expired', PRICE, async (shop, id) => {
    await waitForSubscription(shop.api, id, (s) => s.status === 'suspended', 'suspended', 60_000);
    await shop.admin.post(`/v1/clients/${shop.shop.id}/topups`, { amount: { minor: PRICE, currency: 'CNY' } });
    await shop.api.post(`/v1/subscriptions/${id}/resume`, {});
    await waitForSubscription(shop.api, id, (s) => s.currentPeriod >= 2, 'period 2 paid after the resume');
    await waitForSubscription(shop.api, id, (s) => s.status === 'expired', 'expired', 90_000);
  });
  // An announced price change (a signal), told before the renewals that pay it.
  await record('price-changed-cancelled', 20 * PRICE, async (shop, id) => {
    await waitForSubscription(shop.api, id, (s) => s.currentPeriod >= 1, 'period 1 paid');
    await shop.admin.post(`/v1/products/${shop.sku}/price-changes`, { price: { minor: 2 * PRICE, currency: 'CNY' } });
    await waitForSubscription(shop.api, id, (s) => s.currentPeriod >= 2, 'period 2 paid at the new price', 60_000);
    await cancel(shop, id);
  });
  // The buyer's link cancels mid-period.
  await record('cancelled-by-buyer-link', 20 * PRICE, async (shop, id) => {
    const s = await waitForSubscription(shop.api, id, (x) => x.currentPeriod >= 1, 'period 1 paid');
    await fetch(s.cancelUrl, { method: 'POST' });
  });
});
