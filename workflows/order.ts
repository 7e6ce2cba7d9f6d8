// One order, from received to a terminal status. The workflow carries ids only: card-key
// plaintext never enters its history. It decides; PostgreSQL records: every step below is
// one transaction that acts only from the status it expects, so the database, not the
// workflow's memory, is the truth when a step, a cancellation or a crash interleave.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { OrderActivities } from '../activities/orders';
import type { WebhookActivities } from '../activities/webhooks';
import { FailureType } from '../domain/failures';
import { ledgerKeys, orderEventId } from '../domain/ledger-keys';
import type { OrderStatus } from '../domain/order-status';
import { type OrderInput, type OrderProgress, type OrderStep, statusQuery } from './order-messages';

// Database steps run as local activities: a short transaction in the worker, recorded as a
// marker in the same workflow task, with no server round trip of its own (which is what an
// order costs: see bench/RESULTS.md). One attempt per call: `durably` below retries, so the
// status query can show the attempt count and the last error while a step keeps failing.
const steps = proxyLocalActivities<OrderActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 1 },
});

// Webhooks: the receiver may be down for a while; ten attempts over about eight minutes,
// then the order stays as it is and the client can still poll.
const webhooks = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '15s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [FailureType.WebhookUrlRefused],
  },
});

// A database step that fails is retried until it succeeds (an outage must lose nothing),
// backing off to one attempt every 30 s.
const RETRY_FIRST_MS = 200;
const RETRY_MAX_MS = 30_000;

/** The application failure behind an activity's failure (local activities fail with it unwrapped). */
function applicationFailureOf(err: unknown): ApplicationFailure | undefined {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause;
  return undefined;
}

function permanentFailure(err: unknown): ApplicationFailure | undefined {
  const failure = applicationFailureOf(err);
  return failure?.nonRetryable ? failure : undefined;
}

function messageOf(err: unknown): string {
  const cause = applicationFailureOf(err) ?? (err instanceof ActivityFailure && err.cause ? err.cause : err);
  return cause instanceof Error ? cause.message : String(cause);
}

export async function orderWorkflow({ orderId }: OrderInput): Promise<OrderProgress> {
  const progress: OrderProgress = { status: 'received', step: 'recording', unitsTotal: 0, unitsReserved: 0 };
  setHandler(statusQuery, () => progress);
  const keys = { debitKey: ledgerKeys.orderDebit(orderId), refundKey: ledgerKeys.orderRefund(orderId) };
  // Until the first step says whether anyone listens, assume someone does.
  let notify = true;

  /** Runs a step until it succeeds. A compensation retries even permanent failures: giving up would leave money taken. */
  async function durably<T>(
    step: OrderStep,
    run: () => Promise<T>,
    options: { compensation?: boolean } = {},
  ): Promise<T> {
    progress.step = step;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await run();
        delete progress.attempt;
        delete progress.lastError;
        return result;
      } catch (err) {
        if (isCancellation(err) || (permanentFailure(err) && !options.compensation)) throw err;
        progress.attempt = attempt;
        progress.lastError = messageOf(err);
        log.warn('order step failed; retrying', { orderId, step, attempt, error: progress.lastError });
        await sleep(Math.min(RETRY_FIRST_MS * 2 ** (attempt - 1), RETRY_MAX_MS));
      }
    }
  }

  /** Announces the outcome; a cancellation cannot stop it. */
  async function finish(status: OrderStatus, reason?: string): Promise<OrderProgress> {
    Object.assign(progress, { status, ...(reason ? { reason } : {}) });
    if (notify) {
      progress.step = 'notifying';
      await CancellationScope.nonCancellable(async () => {
        try {
          await webhooks.notifyOrderStatus({ orderId, status, eventId: orderEventId(orderId, status) });
        } catch (err) {
          log.warn('webhook not delivered', { orderId, error: messageOf(err) });
        }
      });
    }
    progress.step = 'done';
    return progress;
  }

  /** Undoes what was done (release, refund) and ends the order; runs to the end even when cancelled. */
  function closeUnfulfilled(reason: string): Promise<OrderStatus> {
    return CancellationScope.nonCancellable(async () => {
      const status = await durably('compensating', () => steps.closeUnfulfilled(orderId, { ...keys, reason }), {
        compensation: true,
      });
      if (status !== 'delivered') progress.unitsReserved = 0;
      return status;
    });
  }

  try {
    const begun = await durably('charging', () => steps.beginOrder(orderId, keys.debitKey));
    progress.unitsTotal = begun.units;
    notify = begun.notify;
    if (begun.status !== 'fulfilling') return await finish(begun.status, begun.reason);
    progress.status = 'fulfilling';

    const { reserved, missing } = await durably('reserving', () => steps.reserveKeys(orderId));
    progress.unitsReserved = reserved;
    if (missing > 0) {
      const reason = `out of stock: ${missing} of ${progress.unitsTotal} units unavailable`;
      return await finish(await closeUnfulfilled(reason), reason);
    }

    await durably('delivering', () => steps.deliverOrder(orderId));
    return await finish('delivered');
  } catch (err) {
    if (permanentFailure(err)?.type === FailureType.OrderNotFound) throw err;
    const reason = isCancellation(err) ? 'cancelled' : `fulfilment error: ${messageOf(err)}`;
    if (!isCancellation(err)) log.error('order step failed for good; compensating', { orderId, error: reason });
    const status = await closeUnfulfilled(reason);
    // A step that committed before the cancellation reached it may have delivered: the
    // database's status is the outcome, and a delivered order is not cancelled.
    const progressed = await finish(status, status === 'delivered' ? undefined : reason);
    if (isCancellation(err) && status !== 'delivered') throw err;
    return progressed;
  }
}
