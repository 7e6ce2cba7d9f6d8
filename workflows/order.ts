// One order, from received to a terminal status. The workflow carries ids only: card-key
// plaintext never enters its history.
import { ActivityFailure, ApplicationFailure, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FailureType, NON_RETRYABLE_FAILURES } from '../domain/failures';
import type { OrderStatus } from '../domain/order-status';
import { type OrderInput, type OrderProgress, statusQuery } from './order-messages';

// Database steps: retried until the database answers again (a restart must lose nothing);
// business refusals (no balance, no stock) are final. Each step takes milliseconds, so 15 s
// is only how long a step lost with a killed worker waits before another worker retries it.
const steps = proxyActivities<Activities>({
  startToCloseTimeout: '15s',
  retry: {
    initialInterval: '200ms',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
  },
});

// Webhooks: the receiver may be down for a while; ten attempts over about eight minutes,
// then the order stays as it is and the client can still poll.
const webhooks = proxyActivities<Activities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 10 },
});

function isFailure(err: unknown, type: FailureType): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === type;
}

export async function orderWorkflow({ orderId }: OrderInput): Promise<OrderProgress> {
  const progress: OrderProgress = { status: 'received', step: 'recording', unitsTotal: 0, unitsReserved: 0 };
  setHandler(statusQuery, () => progress);

  const finish = async (status: OrderStatus, reason?: string): Promise<OrderProgress> => {
    Object.assign(progress, { status, step: 'notifying', ...(reason ? { reason } : {}) });
    try {
      await webhooks.notifyOrderStatus(orderId);
    } catch (err) {
      log.warn('webhook not delivered', { orderId, error: String(err) });
    }
    progress.step = 'done';
    return progress;
  };

  const begun = await steps.beginFulfillment(orderId);
  progress.unitsTotal = begun.units;
  if (begun.status !== 'fulfilling') return finish(begun.status); // already settled by an earlier run

  progress.status = 'fulfilling';
  progress.step = 'charging';
  try {
    await steps.chargeOrder(orderId);
  } catch (err) {
    if (!isFailure(err, FailureType.InsufficientBalance)) throw err;
    await steps.failOrder(orderId, 'insufficient balance');
    return finish('failed', 'insufficient balance');
  }

  // From here on money has moved: any failure releases what was reserved and refunds.
  let failure: string | undefined;
  try {
    progress.step = 'reserving';
    const { reserved, missing } = await steps.reserveKeys(orderId);
    progress.unitsReserved = reserved;
    if (missing > 0) {
      failure = `out of stock: ${missing} of ${progress.unitsTotal} units unavailable`;
    } else {
      progress.step = 'delivering';
      await steps.deliverOrder(orderId);
    }
  } catch (err) {
    log.error('fulfilment failed after charging; compensating', { orderId, error: String(err) });
    failure = 'fulfilment error';
  }
  if (failure) return compensate(failure);
  return finish('delivered');

  async function compensate(reason: string): Promise<OrderProgress> {
    progress.step = 'compensating';
    await steps.releaseKeys(orderId);
    progress.unitsReserved = 0;
    await steps.refundAndClose(orderId, reason);
    return finish('refunded', reason);
  }
}
