// Idempotency keys of money movements and event ids, built from business ids. Workflows make
// them (this module is pure) and hand them to activities, so the key a retried step uses is
// the one the workflow chose, not whatever the store would derive at that moment.
import type { OrderStatus } from './order-status';

export const ledgerKeys = {
  topup: (clientId: string, key: string) => `topup:${clientId}:${key}`,
  // The order's authorization (hold) and its release. The strings date from the single-entry
  // ledger (a debit and a refund) and are kept: they are in running workflows' histories.
  orderDebit: (orderId: string) => `order:${orderId}:debit`,
  orderRefund: (orderId: string) => `order:${orderId}:refund`,
};

/** One event per (order, status): receivers drop repeats of the same id. */
export function orderEventId(orderId: string, status: OrderStatus): string {
  return `evt_${orderId}_${status}`;
}

// Idempotency keys of the calls to a payment provider, sent as its Idempotency-Key: one
// authorization, one capture or void, and one refund per unit, whatever the retries.
export const paymentKeys = {
  authorize: (orderId: string) => `order:${orderId}:authorize`,
  capture: (orderId: string) => `order:${orderId}:capture`,
  void: (orderId: string) => `order:${orderId}:void`,
  unitRefund: (orderId: string, unitId: string) => `order:${orderId}:unit:${unitId}:refund`,
};
