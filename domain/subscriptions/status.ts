// The subscription lifecycle: which requests each status accepts. The renewal workflow's
// Update validators and the API read the same table, so a refused request is refused the
// same way whichever asks first.
import type { SubscriptionStatus } from '@prisma/client';

export type { SubscriptionStatus };

export type SubscriptionRequest = 'cancel' | 'pause' | 'resume' | 'changePlan';

/** Ended for good: the workflow has finished or is finishing; nothing renews again. */
export const ENDED_STATUSES: readonly SubscriptionStatus[] = ['cancelled', 'expired'];

const ACCEPTS: Record<SubscriptionRequest, readonly SubscriptionStatus[]> = {
  // A cancel of a cancelled subscription is accepted too and changes nothing (the buyer's
  // link may be clicked twice); an expired one has nothing left to cancel.
  cancel: ['active', 'past_due', 'suspended', 'paused', 'cancelled'],
  // Pausing stops renewals (and dunning retries) until resumed.
  pause: ['active', 'past_due'],
  // Resuming a subscription that is past due retries its charge at once.
  resume: ['paused', 'suspended', 'past_due'],
  changePlan: ['active', 'past_due', 'suspended', 'paused'],
};

export function accepts(status: SubscriptionStatus, request: SubscriptionRequest): boolean {
  return ACCEPTS[request].includes(status);
}

/** Why a request is refused in a status, for the caller (409 subscription_state). */
export function refusal(status: SubscriptionStatus, request: SubscriptionRequest): string {
  return `a subscription that is ${status} cannot be asked to ${request === 'changePlan' ? 'change plan' : request}`;
}

/**
 * Idempotency keys and event ids from business ids. A period's order is named after the
 * subscription, the period and the order's number within the period (dunning places one per
 * attempt), so a restarted renewal finds the order it placed instead of placing another.
 */
export const subscriptionKeys = {
  periodOrder: (subscriptionId: string, period: number, attempt: number) =>
    attempt === 1 ? `subscription:${subscriptionId}:${period}` : `subscription:${subscriptionId}:${period}:${attempt}`,
  /** One webhook per recorded event: receivers drop repeats of the same id. */
  event: (subscriptionId: string, seq: number) => `evt_${subscriptionId}_${seq}`,
};

/** `periodOrder`'s shape: the uuid as PostgreSQL writes it, the period an INT, the attempt optional. */
const PERIOD_ORDER_ID =
  /^subscription:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):(\d{1,9})(?::\d+)?$/;

/**
 * The subscription and period an external order id names in `subscriptionKeys.periodOrder`'s
 * shape, or null. A name proves nothing (an order system may call any order so): the
 * subscription's own records must confirm it.
 */
export function periodNamedBy(externalOrderId: string): { subscriptionId: string; period: number } | null {
  const named = PERIOD_ORDER_ID.exec(externalOrderId);
  return named ? { subscriptionId: named[1]!, period: Number(named[2]) } : null;
}
