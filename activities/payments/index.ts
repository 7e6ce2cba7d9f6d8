// Payment steps against a provider (Stripe). Each reads the platform's record first and
// acts only from the status it expects, writes its operation row before the call and
// completes it after: a retried attempt repeats the call under the same idempotency key, so
// the provider makes it once. Regular activities: they are network calls of seconds.
import { ApplicationFailure } from '@temporalio/common';
import type { ProviderPayment } from '@prisma/client';
import { FailureType } from '../../domain/failures';
import { paymentKeys } from '../../domain/ledger-keys';
import {
  ensureOperation,
  paymentOf,
  pendingRefunds,
  recordAuthorization,
  recordOperationFailed,
  recordRefunded,
  recordSettled,
  RefundNotAllowed,
  refundUnits,
  type RefundResult,
} from '../../store/payments';
import type { ActivityDeps } from '../deps';
import { type PaymentProvider, ProviderRefused } from './provider';
import { stripeClient, stripeProvider } from './stripe';

export function paymentProviderFor(config: ActivityDeps['config']): PaymentProvider | null {
  const stripe = stripeClient(config);
  return stripe ? stripeProvider(stripe) : null;
}

export function paymentActivities(deps: ActivityDeps, provider = paymentProviderFor(deps.config)) {
  const { db, logger } = deps;

  async function paymentOrFail(orderId: string): Promise<ProviderPayment> {
    const payment = await paymentOf(db, orderId);
    if (!payment) {
      throw ApplicationFailure.create({
        message: `order ${orderId} has no provider payment`,
        type: FailureType.ProviderPaymentNotFound,
        nonRetryable: true,
      });
    }
    return payment;
  }

  function providerOrFail(): PaymentProvider {
    if (provider) return provider;
    throw ApplicationFailure.create({
      message: 'no payment provider is configured on this worker (STRIPE_API_KEY)',
      type: FailureType.PaymentProviderMissing,
      nonRetryable: true,
    });
  }

  return {
    /** pending → authorized or declined; returns the payment's status. */
    async authorizePayment(orderId: string): Promise<string> {
      const payment = await paymentOrFail(orderId);
      if (payment.status !== 'pending') return payment.status;
      const idempotencyKey = paymentKeys.authorize(orderId);
      await ensureOperation(db, {
        paymentId: payment.id,
        kind: 'authorize',
        idempotencyKey,
        amountMinor: payment.amountMinor,
      });
      const result = await providerOrFail().authorize({
        orderId,
        amountMinor: payment.amountMinor,
        currency: payment.currency,
        methodRef: payment.methodRef,
        idempotencyKey,
      });
      await recordAuthorization(db, payment, result);
      logger.info({ orderId, outcome: result.outcome }, 'payment authorization');
      return result.outcome;
    },

    /**
     * Settles a payment the order's last step left `settling`: captures what is due (what
     * was delivered), or voids the authorization when nothing is. A provider's refusal is
     * recorded on the operation and left for reconciliation; returns the payment's status.
     */
    async settleProviderPayment(orderId: string): Promise<string> {
      const payment = await paymentOrFail(orderId);
      if (payment.status !== 'settling' || !payment.intentId) return payment.status;
      const due = payment.captureDueMinor ?? 0n;
      const capture = due > 0n;
      const idempotencyKey = capture ? paymentKeys.capture(orderId) : paymentKeys.void(orderId);
      await ensureOperation(db, {
        paymentId: payment.id,
        kind: capture ? 'capture' : 'void',
        idempotencyKey,
        amountMinor: due,
      });
      try {
        const { providerStatus } = capture
          ? await providerOrFail().capture({ intentId: payment.intentId, amountMinor: due, idempotencyKey })
          : await providerOrFail().void({ intentId: payment.intentId, idempotencyKey });
        await recordSettled(db, payment, providerStatus);
        return capture ? 'captured' : 'voided';
      } catch (err) {
        if (!(err instanceof ProviderRefused)) throw err;
        await recordOperationFailed(db, idempotencyKey, err.message);
        logger.error({ orderId, error: err.message }, 'payment provider refused to settle');
        return 'settling';
      }
    },

    /** The database side of refunding delivered units (see store/payments.ts); local and short. */
    async refundUnits(input: {
      orderId: string;
      unitIds?: string[] | undefined;
      reason: string;
      override?: boolean | undefined;
      actor: { clientId: string | null; name: string };
    }): Promise<RefundResult> {
      try {
        return await refundUnits(db, input, input.actor);
      } catch (err) {
        if (!(err instanceof RefundNotAllowed)) throw err;
        throw ApplicationFailure.create({
          message: err.message,
          type: FailureType.RefundNotAllowed,
          nonRetryable: true,
        });
      }
    },

    /** Sends the order's pending refunds to the provider; returns how many are still not refunded. */
    async sendProviderRefunds(orderId: string): Promise<number> {
      const payment = await paymentOrFail(orderId);
      const pending = await pendingRefunds(db, payment.id);
      let failed = 0;
      for (const op of pending) {
        await ensureOperation(db, {
          paymentId: payment.id,
          kind: 'refund',
          idempotencyKey: op.idempotencyKey,
          amountMinor: op.amountMinor,
        });
        try {
          const { refundId } = await providerOrFail().refund({
            intentId: payment.intentId!,
            amountMinor: op.amountMinor,
            idempotencyKey: op.idempotencyKey,
            metadata: { orderId, unitId: op.unitId ?? '' },
          });
          await recordRefunded(db, payment.id, op.idempotencyKey, refundId);
        } catch (err) {
          if (!(err instanceof ProviderRefused)) throw err;
          await recordOperationFailed(db, op.idempotencyKey, err.message);
          failed += 1;
        }
      }
      return failed;
    },
  };
}

export type PaymentActivities = ReturnType<typeof paymentActivities>;
export type { RefundResult };
