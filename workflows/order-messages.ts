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
