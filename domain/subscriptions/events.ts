// A subscription's history as the renewal workflow records it: every event is a row in
// subscription_events (numbered by the workflow, so a retried write finds its row) and, for
// the order system, a signed webhook `subscription.<type>` under the event's id.
import type { Period } from './periods';
import type { SubscriptionStatus } from './status';

export interface SubscriptionPlan {
  productId: string;
  sku: string;
  period: Period;
}

export type SubscriptionPayment = { method: 'balance' } | { method: 'stripe'; paymentMethodId: string };

export interface SubscriptionActor {
  clientId: string | null;
  name: string;
  /** Support or an admin acting on someone else's subscription: the event is audited too. */
  staff?: boolean;
}

/** A recorded event, as the workflow hands it to the store (activities/subscriptions.ts). */
export interface SubscriptionEventRecord {
  subscriptionId: string;
  seq: number;
  type: SubscriptionEventType;
  actor: SubscriptionActor;
  detail: Record<string, unknown>;
  /** The subscription as the workflow sees it after the event. */
  snapshot: {
    status: SubscriptionStatus;
    statusReason: string | null;
    currentPeriod: number;
    nextChargeAt: string | null;
    plan: SubscriptionPlan;
    pending: { plan: SubscriptionPlan; fromPeriod: number } | null;
    payment?: SubscriptionPayment;
  };
  /** The period the event is about, and what to record on its row. */
  period?: {
    bounds: { number: number; startsAt: string; endsAt: string };
    productId: string;
    notice?: true;
    outcome?: 'paid' | 'declined' | 'unfulfilled';
    orderId?: string;
  };
  /** Whether the order system is told (a webhook `subscription.<type>`). */
  notify: boolean;
}

/** Every event type: each is a row in subscription_events and a webhook `subscription.<type>`. */
export type SubscriptionEventType =
  | 'created'
  | 'renewal_upcoming'
  | 'renewed'
  | 'renewal_failed'
  | 'suspended'
  | 'expired'
  | 'cancelled'
  | 'paused'
  | 'resumed'
  | 'plan_changed'
  | 'plan_applied'
  | 'price_changing';
