// One announced price change: every open subscription on the product is told (a signal; the
// subscription records `price_changing` and the order system gets the webhook with the first
// renewal at the new price), a page at a time, each page a run of its own (continue-as-new
// keeps the history bounded however many subscriptions there are); then, at the effective
// time, the product's price is set. Orders placed before that pay the old price.
import { continueAsNew, getExternalWorkflowHandle, log, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { SubscriptionActivities } from '../activities/subscriptions';
import { eachLimited } from './each-limited';
import { messageOf } from './failures';
import { type PriceChangeInput, priceChangingSignal } from './subscription-messages';

const steps = proxyLocalActivities<SubscriptionActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** Subscriptions told per run. */
const PAGE = 200;
/** Signals in flight at once. */
const TELLING_CONCURRENCY = 20;

export async function priceChangeWorkflow({ change, after }: PriceChangeInput): Promise<void> {
  const page = await steps.subscriptionsToTell(change.productId, after ?? null, PAGE);
  await eachLimited(page, TELLING_CONCURRENCY, async (subscription) => {
    try {
      await getExternalWorkflowHandle(subscription.workflowId).signal(priceChangingSignal, change);
    } catch (err) {
      // Ended since it was listed: it renews no more, so there is nobody to tell.
      log.info('subscription not told of a price change', { subscriptionId: subscription.id, error: messageOf(err) });
    }
  });
  if (page.length === PAGE) await continueAsNew<typeof priceChangeWorkflow>({ change, after: page.at(-1)!.id });
  const waitMs = Date.parse(change.effectiveAt) - Date.now();
  if (waitMs > 0) await sleep(waitMs);
  await steps.applyPriceChange(change.changeId);
}
