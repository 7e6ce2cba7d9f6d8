// Business failures that activities raise and workflows branch on. They are not retried:
// asking again does not make money or stock appear, nor a missing order.
export const FailureType = {
  OrderNotFound: 'OrderNotFound',
  ReviewNotFound: 'ReviewNotFound',
  CompensationNotFound: 'CompensationNotFound',
  /** An order that should have been charged through a provider has no provider payment. */
  ProviderPaymentNotFound: 'ProviderPaymentNotFound',
  PermanentDatabaseError: 'PermanentDatabaseError',
  WebhookUrlRefused: 'WebhookUrlRefused',
  PaymentProviderMissing: 'PaymentProviderMissing',
  /** The database refuses a step's data (a NUL, a value out of range): every retry would send the same. */
  DatabaseRefusedData: 'DatabaseRefusedData',
  /** A refund asked of an order that has nothing delivered to refund. */
  RefundNotAllowed: 'RefundNotAllowed',
  /** A resume asked of an order that is not parked (or whose parking is not recorded yet). */
  OrderNotParked: 'OrderNotParked',
  /** A subscription request its status does not accept (domain/subscriptions/status.ts). */
  SubscriptionRequestRefused: 'SubscriptionRequestRefused',
  /** A sourcing step named a unit or route that does not exist. */
  UnitOrRouteNotFound: 'UnitOrRouteNotFound',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

export const NON_RETRYABLE_FAILURES: string[] = Object.values(FailureType);

/** Failures that pass with time: the activity raises them so its retry policy asks again. */
export const RetryableFailure = {
  /** The supplier has not finished the sale yet (and offers no cancel to end it). */
  SupplierPending: 'SupplierPending',
  /** The supplier did not answer, or answered with an error that may pass. */
  SupplierUnavailable: 'SupplierUnavailable',
} as const;
