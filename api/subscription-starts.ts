// Starting a subscription's renewal workflow. The input carries everything the workflow needs
// to count periods (anchor, zone, plan) and the timing configured now (notice, dunning, hold;
// in tests, seconds-long months), so a deploy that changes the configuration does not change
// a running subscription's history. The start is idempotent on the workflow id: intake calls
// it after the subscription commits, and again on every resubmission; what an outage lost
// (the API killed between commit and start, Temporal away, a 503 nobody resubmitted) the
// sweep starts, without any request.
import type { Client } from '@temporalio/client';
import type { SubscriptionPeriodUnit } from '@prisma/client';
import { firstSegment } from '../domain/subscriptions/periods';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import type { Logger } from '../infra/logger';
import { startOnce } from '../infra/temporal';
import { findUnstartedSubscriptions } from '../store/subscriptions/intake';
import { ORDER_WORKFLOW_VERSION } from '../workflows/order-messages';
import type { SubscriptionInput } from '../workflows/subscription-messages';
import { createStartSweep, type StartSweep } from './start-sweep';

export interface StartableSubscription {
  id: string;
  workflowId: string;
  anchorAt: Date;
  timeZone: string;
  period: SubscriptionPeriodUnit;
  productId: string;
  product: { sku: string };
}

/** The first run's input: period 1 is due at the anchor (now) and needs no notice (the buyer just subscribed). */
export function subscriptionInput(config: Config, subscription: StartableSubscription): SubscriptionInput {
  const anchorMs = subscription.anchorAt.getTime();
  return {
    subscriptionId: subscription.id,
    clock: {
      anchor: subscription.anchorAt.toISOString(),
      timeZone: subscription.timeZone,
      ...(config.SUBSCRIPTION_SECONDS_PER_MONTH !== undefined
        ? { secondsPerMonth: config.SUBSCRIPTION_SECONDS_PER_MONTH }
        : {}),
    },
    timing: {
      noticeSeconds: config.SUBSCRIPTION_NOTICE_SECONDS,
      retryOffsetsSeconds: config.SUBSCRIPTION_RETRY_OFFSETS_SECONDS,
      holdSeconds: config.SUBSCRIPTION_HOLD_SECONDS,
    },
    orderVersion: ORDER_WORKFLOW_VERSION,
    periodsPerRun: config.SUBSCRIPTION_PERIODS_PER_RUN,
    state: {
      status: 'active',
      plan: { productId: subscription.productId, sku: subscription.product.sku, period: subscription.period },
      segment: firstSegment(subscription.period),
      paidPeriod: 0,
      due: { period: 1, attempt: 1, retries: 0, firstAt: anchorMs, at: anchorMs },
      noticed: 1,
      seq: 0,
      runs: 0,
    },
  };
}

export function startSubscription(temporal: Client, config: Config, subscription: StartableSubscription) {
  return startOnce(temporal, 'subscriptionWorkflow', {
    workflowId: subscription.workflowId,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [subscriptionInput(config, subscription)],
  });
}

/**
 * Every ORDER_START_SWEEP_EVERY_MS (the order sweep's settings: the same outage loses both),
 * starts the workflow of each subscription that shows no sign of one
 * ORDER_START_SWEEP_IDLE_MS after it was committed (`findUnstartedSubscriptions`).
 */
export function createSubscriptionStarts(deps: {
  db: Db;
  temporal: Client;
  config: Config;
  logger: Logger;
}): StartSweep {
  const { db, temporal, config, logger } = deps;
  return createStartSweep({
    what: 'subscription',
    find: (limit, only) =>
      findUnstartedSubscriptions(db, new Date(Date.now() - config.ORDER_START_SWEEP_IDLE_MS), limit, only),
    start: (subscription) => startSubscription(temporal, config, subscription),
    everyMs: config.ORDER_START_SWEEP_EVERY_MS,
    logger,
  });
}
