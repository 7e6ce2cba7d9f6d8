// One compensation: a delivered key turned out bad. Void it, deliver another unit through
// the normal sources (own stock from another batch first, then the supplier routes with the
// one that sold the bad key last), or — when nothing delivers in time, or support asked for
// money back — refund that unit once; then tell the order system. It undoes stock and money,
// so it runs to the end whatever happens to whoever started it (not cancellable).
import { CancellationScope, log, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { CompensationActivities } from '../activities/compensation';
import type { PaymentActivities } from '../activities/payments';
import type { WebhookActivities } from '../activities/webhooks';
import { messageOf } from './failures';
import { tryRoute } from './supplier-route';

// Database steps: retried until they pass (an outage must not leave a unit half-compensated).
const steps = proxyLocalActivities<CompensationActivities & PaymentActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '30s' },
});
const calls = proxyActivities<CompensationActivities & PaymentActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});
const disputes = proxyActivities<CompensationActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});
const webhooks = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 10 },
});

/** How long a reissue may try the routes before the unit is refunded instead. */
const REISSUE_DEADLINE_MS = 10 * 60_000;

export interface CompensationInput {
  compensationId: string;
}

export interface CompensationResult {
  outcome: 'reissued' | 'refunded' | 'rejected';
  newUnitId?: string;
}

export async function compensationWorkflow({ compensationId }: CompensationInput): Promise<CompensationResult> {
  return CancellationScope.nonCancellable(async () => {
    const c = await steps.compensationCase(compensationId);
    if (c.status === 'completed') return { outcome: c.outcome as CompensationResult['outcome'] };
    if (c.failedSupplierId) {
      // The supplier's dispute process is theirs: a refusal or an outage does not hold the buyer up.
      await disputes.disputeBadKey(compensationId).catch(() => false);
    }
    const { redeemed } = await steps.voidBadKey(compensationId);
    if (redeemed) {
      await steps.completeCompensation(
        compensationId,
        'rejected',
        'the key was redeemed: compensating it needs the override',
      );
      return { outcome: 'rejected' };
    }

    let result: CompensationResult;
    const newUnitId = c.action === 'reissue' ? await reissue(c.id) : undefined;
    if (newUnitId) {
      result = { outcome: 'reissued', newUnitId };
    } else {
      await steps.abandonReplacement(compensationId);
      const refunded = await steps.refundUnits({
        orderId: c.orderId,
        unitIds: [c.unitId],
        reason: `compensation: ${c.action === 'reissue' ? 'nothing could be reissued' : 'refund requested'}`,
        actor: { clientId: null, name: 'system:compensation' },
      });
      if (refunded.viaProvider) await calls.sendProviderRefunds(c.orderId);
      await steps.completeCompensation(compensationId, 'refunded');
      result = { outcome: 'refunded' };
    }
    try {
      await webhooks.notifyCompensation({ compensationId });
    } catch (err) {
      // The order system can still read the outcome; the webhook gave up after its retries.
      log.warn('compensation webhook not delivered', { compensationId, error: messageOf(err) });
    }
    return result;
  });
}

/** A replacement unit from own stock (another batch) or the routes, delivered; undefined when none came in time. */
async function reissue(compensationId: string): Promise<string | undefined> {
  const { newUnitId, reserved } = await steps.prepareReplacement(compensationId);
  // The bad unit was refunded meanwhile: there is nothing to replace (the refund path finds it done).
  if (newUnitId === null) return undefined;
  if (!reserved) {
    const c = await steps.compensationCase(compensationId);
    const routes = await steps.replacementRoutes(compensationId);
    const deadline = Date.now() + REISSUE_DEADLINE_MS;
    let obtained = false;
    for (const route of routes) {
      if (Date.now() >= deadline) break;
      // No workflow listens for this unit's callbacks: past the supplier's deadline, look it up.
      const waitThenLookUp = async (deadlineMs: number) => {
        await sleep(deadlineMs);
        return undefined;
      };
      ({ obtained } = await tryRoute(
        { orderId: c.orderId, unitId: newUnitId, routeId: route.routeId },
        route,
        waitThenLookUp,
      ));
      if (obtained) break;
    }
    if (!obtained) return undefined;
  }
  return (await steps.deliverReplacement(compensationId)) ? newUnitId : undefined;
}
