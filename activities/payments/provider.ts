// What a card-payment provider does for an order, whichever provider it is. Every call that
// moves money carries the platform's idempotency key, sent as the provider's Idempotency-Key:
// a call repeated after a lost response is the same call, and the provider answers it the
// same. (`retrieve` only reads.)
// (The prepaid balance does the same four things inside the order's own database
// transactions: see store/ledger.ts.)
import type { ProviderPaymentState } from '../../store/provider-reports';

export type { ProviderPaymentState };

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
  /**
   * What the provider holds for the payment now. A webhook is only a trigger: the platform
   * stores this answer, never what the event's body claims (docs/architecture.md, payments).
   * Throws ProviderUnavailable when the provider cannot say.
   */
  retrieve(intentId: string): Promise<ProviderPaymentState>;
}

/** The provider refused the call for good (not a network or server fault): retrying cannot help. */
export class ProviderRefused extends Error {}

/** The provider could not tell the payment's state (down, slow, refused, or an answer not of its form). */
export class ProviderUnavailable extends Error {}
