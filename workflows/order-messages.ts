// The order workflow's input and queries, shared with the API (which must not import the
// workflow module itself).
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { OrderStatus } from '../domain/order-status';

export interface OrderInput {
  orderId: string;
}

export type OrderStep =
  | 'recording'
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
