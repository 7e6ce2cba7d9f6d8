// The order workflow's input and queries, shared with the API (which must not import the
// workflow module itself).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OrderStatus } from '../domain/order-status';

export interface OrderInput {
  orderId: string;
  /**
   * The shape of the workflow this order runs, chosen by whoever starts it and kept in the
   * start event, so a replay takes the same branches. Absent: orders started before version 2,
   * which choose by patch markers. See docs/workflow-changes.md.
   */
  version?: number;
  /** How a failing step is retried and when the order parks; absent fields take DEFAULT_STEP_BOUNDS. */
  bounds?: Partial<StepBounds>;
  /** A run continued from a parked one: where it was and what it knew (see `ResumedOrder`). */
  resumed?: ResumedOrder;
}

/**
 * A failing step backs off to `retryMaxMs`, after `slowAfterMs` of failing to `slowMaxMs`; the
 * order parks (stops retrying, waits for support) once the step has failed `parkAfterMs`, or
 * once the run's history reaches `parkAtEvents` events, far below Temporal's 51,200 (which
 * terminates the workflow). docs/architecture.md ("Bounded retries") has the arithmetic.
 */
export interface StepBounds {
  retryMaxMs: number;
  slowAfterMs: number;
  slowMaxMs: number;
  parkAfterMs: number;
  parkAtEvents: number;
}

/** Production's bounds; a test (or an operator) narrows them through ORDER_RETRY_* and ORDER_PARK_*. */
export const DEFAULT_STEP_BOUNDS: StepBounds = {
  retryMaxMs: 30_000,
  slowAfterMs: 3_600_000,
  slowMaxMs: 600_000,
  parkAfterMs: 86_400_000,
  parkAtEvents: 10_000,
};

/**
 * Where an order's workflow stands, as far as a new run needs to know: `admit` (risk control
 * not passed yet: from the start), `begin` (passed: from charging on; every step from there is
 * idempotent on the database and finds what was done), or inside its end: closing unfulfilled,
 * settling a shortfall, or finishing (the provider's settlement, the webhook) with a status
 * already decided. A compensation that parked resumes as a compensation, never as a retry of
 * the fulfilment it was undoing.
 */
export type OrderPosition =
  | { at: 'admit' }
  | { at: 'begin' }
  | { at: 'close'; reason: string }
  | { at: 'shortfall'; reason: string }
  | { at: 'finish'; status: OrderStatus; reason?: string };

/** What a run continued from a parked one carries: nothing the database cannot re-derive but these. */
export interface ResumedOrder {
  position: OrderPosition;
  /** Paid through a provider: its hold is settled after the database's (begin no longer says so once authorized). */
  viaProvider: boolean;
  notify: boolean;
  status: OrderStatus;
  unitsTotal: number;
  unitsReserved: number;
  /** Parkings so far: each is one row in order_parkings, numbered. */
  parkings: number;
}

/**
 * The order workflow's current version. 2: most orders take two local activities, admit
 * (risk control, then begin) and fulfil from stock (reserve, then deliver).
 */
export const ORDER_WORKFLOW_VERSION = 2;

export type OrderStep =
  | 'recording'
  | 'assessing'
  | 'reviewing'
  | 'authorizing'
  | 'charging'
  | 'reserving'
  | 'sourcing'
  | 'delivering'
  | 'compensating'
  | 'settling-payment'
  | 'notifying'
  | 'done';

export interface OrderProgress {
  status: OrderStatus;
  step: OrderStep;
  unitsTotal: number;
  unitsReserved: number;
  reason?: string;
  /** While the current step keeps failing: how many attempts it has made, and the last error. */
  attempt?: number;
  lastError?: string;
  /**
   * Present while the order is parked: the step stopped retrying and waits for support's
   * resume. `marked` once the parking is recorded in the database (the fault may be the
   * database itself, so that can take a while); only then can it be resumed.
   */
  parked?: { since: string; historyLength: number; marked: boolean };
}

export const statusQuery = defineQuery<OrderProgress>('status');

/**
 * A supplier's callback settled a unit it had accepted asynchronously (sent by the API once
 * the result is recorded; the key itself stays in the database).
 */
export interface SupplierResult {
  unitId: string;
  supplierId: string;
  obtained: boolean;
}
export const supplierResultSignal = defineSignal<[SupplierResult]>('supplierResult');

/** An analyst's decision on the order's risk review (sent by the API as a workflow Update). */
export interface ReviewDecisionInput {
  reviewId: string;
  decision: 'approve' | 'reject';
  note?: string;
  actor: { clientId: string | null; name: string };
}

/** What stands after the decision: this one (`won`), or the one made first (the deadline's). */
export interface ReviewDecisionResult {
  won: boolean;
  status: 'approved' | 'rejected';
  decidedVia: string;
  decidedBy: string | null;
}

/**
 * Its validator refuses a decision the workflow is not waiting for (another review, or none:
 * not in review, or decided already), so the caller learns at once; the handler records it.
 */
export const reviewDecisionUpdate = defineUpdate<ReviewDecisionResult, [ReviewDecisionInput]>('reviewDecision');

/** Support resumes a parked order (sent by the API as a workflow Update; recorded and audited by its handler). */
export interface ResumeInput {
  reason: string;
  actor: { clientId: string | null; name: string };
}

export interface ResumeResult {
  step: OrderStep;
  attempts: number;
  /** Whether the order goes on in a new run (its history was large), carrying its position. */
  continuesAsNew: boolean;
}

/** Its validator refuses unless the order is parked and the parking recorded; the handler records the resume. */
export const resumeUpdate = defineUpdate<ResumeResult, [ResumeInput]>('resume');
