// Business failures that activities raise and workflows branch on. They are not retried:
// asking again does not make money or stock appear, nor a missing order.
export const FailureType = {
  OrderNotFound: 'OrderNotFound',
  PermanentDatabaseError: 'PermanentDatabaseError',
  WebhookUrlRefused: 'WebhookUrlRefused',
  PaymentProviderMissing: 'PaymentProviderMissing',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

export const NON_RETRYABLE_FAILURES: string[] = Object.values(FailureType);
