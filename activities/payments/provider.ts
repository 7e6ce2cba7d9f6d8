// What a card-payment provider does for an order, whichever provider it is. Every call
// carries the platform's idempotency key, sent as the provider's Idempotency-Key: a call
// repeated after a lost response is the same call, and the provider answers it the same.
// (The prepaid balance does the same four things inside the order's own database
// transactions: see store/ledger.ts.)

export type Authorization =
  | { outcome: 'authorized'; intentId: string; providerStatus: string }
  | { outcome: 'declined'; reason: string; intentId?: string };

export interface PaymentProvider {
  /** Holds `amountMinor` on the payment method, to be captured later (or voided). */
  authorize(input: {
    orderId: string;
    amountMinor: bigint;
    currency: string;
    methodRef: string;
    idempotencyKey: string;
  }): Promise<Authorization>;
  /** Takes `amountMinor` of the hold; the provider releases the rest. */
  capture(input: {
    intentId: string;
    amountMinor: bigint;
    idempotencyKey: string;
  }): Promise<{ providerStatus: string }>;
  /** Releases the whole hold. */
  void(input: { intentId: string; idempotencyKey: string }): Promise<{ providerStatus: string }>;
  /** Gives back `amountMinor` of what was captured. */
  refund(input: {
    intentId: string;
    amountMinor: bigint;
    idempotencyKey: string;
    metadata: Record<string, string>;
  }): Promise<{ refundId: string; providerStatus: string }>;
}

/** The provider refused the call for good (not a network or server fault): retrying cannot help. */
export class ProviderRefused extends Error {}
