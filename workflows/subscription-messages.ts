// The renewal workflow's input, state, query and Updates, shared with the API (which must not
// import the workflow module itself).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SubscriptionActor, SubscriptionPayment, SubscriptionPlan } from '../domain/subscriptions/events';
import type { PlanSegment, RenewalClock } from '../domain/subscriptions/periods';
import type { SubscriptionStatus } from '../domain/subscriptions/status';

export type { SubscriptionActor, SubscriptionPayment, SubscriptionPlan };

/**
 * How far ahead the buyer is told and how a failed charge is retried. Production's calendar
 * values are the defaults (DEFAULT_TIMING); tests pass seconds (SUBSCRIPTION_* in config).
 */
export interface SubscriptionTiming {
  /** The renewal notice goes out at least this long before each charge (网络交易监督管理办法 Art. 18: 5 days). */
  noticeSeconds: number;
  /** A failed renewal is retried this long after the period's first attempt, one retry per entry, keeping the anchor. */
  retryOffsetsSeconds: number[];
  /** When retries run out the subscription is suspended (on hold) this long, then expires. */
  holdSeconds: number;
}

const DAY = 86_400;
export const DEFAULT_TIMING: SubscriptionTiming = {
  noticeSeconds: 5 * DAY,
  retryOffsetsSeconds: [1 * DAY, 3 * DAY, 5 * DAY, 7 * DAY],
  holdSeconds: 30 * DAY,
};

/** Periods charged in one run before it continues as new (also whenever Temporal suggests it). */
export const DEFAULT_PERIODS_PER_RUN = 12;

/** The next charge: period `period`'s order number `attempt`, due at `at`. */
export interface DueCharge {
  period: number;
  /** Orders placed for the period so far + 1 (each dunning retry is an order of its own). */
  attempt: number;
  /** Dunning retries used for the period. */
  retries: number;
  /** When the period's charge was first due: retries are counted from here (the anchor, unless resumed). */
  firstAt: number;
  at: number;
}

/** Everything a run knows that a new run (continue-as-new) must carry. */
export interface SubscriptionState {
  status: SubscriptionStatus;
  statusReason?: string;
  /** The plan the next charge is made under, and the segment whose periods it counts. */
  plan: SubscriptionPlan;
  segment: PlanSegment;
  /** A plan change waiting for the period it applies from. */
  pending?: { plan: SubscriptionPlan; fromPeriod: number };
  /** The last period paid (0 before the first). */
  paidPeriod: number;
  due: DueCharge;
  /** The highest period the buyer was told about (the first needs no notice: the buyer just subscribed). */
  noticed: number;
  /** Suspended: when the hold ends and the subscription expires. */
  holdUntil?: number;
  /** The number of the last event the workflow recorded (subscription_events.seq). */
  seq: number;
  /** Runs before this one (continue-as-new). */
  runs: number;
  /** Price changes already told (the latest few): a repeated signal tells nothing twice. */
  toldPriceChanges?: string[];
}

export interface SubscriptionInput {
  subscriptionId: string;
  clock: RenewalClock;
  timing: SubscriptionTiming;
  /** The order workflow version each period's child order starts with. */
  orderVersion: number;
  /** Periods charged per run before continuing as new; absent: DEFAULT_PERIODS_PER_RUN. */
  periodsPerRun?: number;
  state: SubscriptionState;
}

/** What the schedule query answers, and every Update returns. */
export interface SubscriptionSchedule {
  status: SubscriptionStatus;
  statusReason?: string;
  plan: SubscriptionPlan;
  pending?: { plan: SubscriptionPlan; fromPeriod: number };
  paidPeriod: number;
  /** The next charge, while one is due (not once cancelled or expired; while paused, when it would be). */
  nextCharge?: { period: number; attempt: number; at: string; noticeAt?: string };
  holdUntil?: string;
  /** The next periods as they stand now (the pending plan applied where it applies). */
  upcoming: { number: number; startsAt: string; endsAt: string; sku: string }[];
  run: number;
  seq: number;
}

export const scheduleQuery = defineQuery<SubscriptionSchedule>('schedule');

export interface CancelInput {
  actor: SubscriptionActor;
  reason?: string;
}
/** Stops renewals at once (the current period's rights stay); a second cancel changes nothing. */
export const cancelUpdate = defineUpdate<SubscriptionSchedule, [CancelInput]>('cancel');

export interface PauseInput {
  actor: SubscriptionActor;
  reason?: string;
}
/** No renewal, and no dunning retry, until resumed. */
export const pauseUpdate = defineUpdate<SubscriptionSchedule, [PauseInput]>('pause');

export interface ResumeInput {
  actor: SubscriptionActor;
  reason?: string;
  /** A payment method that works, used from this charge on. */
  payment?: SubscriptionPayment;
}
/**
 * From suspended or past due: charges at once. From paused: renews on schedule, or at once
 * when the renewal fell due during the pause. Periods that passed wholly while on hold are
 * not charged (the buyer had no rights in them); the anchor stays.
 */
export const resumeSubscriptionUpdate = defineUpdate<SubscriptionSchedule, [ResumeInput]>('resume');

export interface ChangePlanInput {
  actor: SubscriptionActor;
  plan: SubscriptionPlan;
}
/**
 * Another SKU or period from the next renewal whose notice has not gone out yet (a buyer is
 * never charged an amount they were not told of in time); the result names that period.
 */
export const changePlanUpdate = defineUpdate<SubscriptionSchedule, [ChangePlanInput]>('changePlan');

/** An announced price change of a product (sent by its price-change workflow to every open subscription on it). */
export interface PriceChange {
  changeId: string;
  productId: string;
  sku: string;
  amount: { minor: number; currency: string };
  /** ISO instant from which orders pay the new price. */
  effectiveAt: string;
}
/** Tells the subscription, if its plan is the product: a `price_changing` event naming the first renewal at the new price. */
export const priceChangingSignal = defineSignal<[PriceChange]>('priceChanging');

export interface PriceChangeInput {
  change: PriceChange;
  /** Subscriptions are told a page at a time, by id; a run continued as new starts after this one. */
  after?: string;
}
