// Stripe as a payment provider: PaymentIntents with manual capture, through the official SDK.
// STRIPE_API_BASE points the SDK elsewhere (stripe-mock in tests and `npm start`).
import Stripe from 'stripe';
import { z } from 'zod';
import type { Config } from '../../infra/config';
import {
  type Authorization,
  type PaymentProvider,
  type ProviderPaymentState,
  ProviderRefused,
  ProviderUnavailable,
} from './provider';

/** The SDK client for the configured key and base URL; null when Stripe is not configured. */
export function stripeClient(config: Config): Stripe | null {
  if (!config.STRIPE_API_KEY) return null;
  const base = new URL(config.STRIPE_API_BASE);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(config.STRIPE_API_KEY, {
    host: base.hostname,
    port: base.port || (protocol === 'http' ? 80 : 443),
    protocol,
    // One quick retry of a dropped connection, under the same Idempotency-Key; longer
    // outages are the activity's retries' business.
    maxNetworkRetries: 1,
    timeout: 8_000,
    telemetry: false,
  });
}

/** A refusal that retrying cannot change (bad request, card declined), as opposed to a fault. */
function refusalOf(err: unknown): Stripe.errors.StripeError | null {
  if (err instanceof Stripe.errors.StripeCardError || err instanceof Stripe.errors.StripeInvalidRequestError) {
    return err;
  }
  return null;
}

async function refusedOr<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal) throw new ProviderRefused(`${refusal.code ?? refusal.type}: ${refusal.message}`);
    throw err;
  }
}

// A read-back answers a webhook, which Stripe waits for (and retries when it is slow): one
// attempt of a few seconds, no SDK retry; a failed read is Stripe's redelivery's to repeat.
const READ_BACK_TIMEOUT_MS = 4_000;

const minor = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** The fields of a PaymentIntent (latest charge expanded) the platform stores; checked, not trusted. */
const IntentState = z.object({
  id: z.string(),
  status: z.string().regex(/^[a-z_]{1,40}$/),
  amount_received: minor.nullish(),
  latest_charge: z.union([z.string(), z.object({ amount_refunded: minor }), z.null()]).optional(),
});

function stateOf(intentId: string, answer: unknown): ProviderPaymentState {
  const intent = IntentState.safeParse(answer);
  if (!intent.success || intent.data.id !== intentId) {
    throw new ProviderUnavailable(`the provider's answer for ${intentId} is not a PaymentIntent of the expected form`);
  }
  const charge = intent.data.latest_charge;
  return {
    providerStatus: intent.data.status,
    capturedMinor: BigInt(intent.data.amount_received ?? 0),
    // No charge yet: nothing can have been refunded. An unexpanded charge says nothing.
    ...(charge === null ? { refundedMinor: 0n } : {}),
    ...(charge && typeof charge === 'object' ? { refundedMinor: BigInt(charge.amount_refunded) } : {}),
  };
}

// After a confirmed create, these mean the card was not authorized. `requires_payment_method`
// alone is what stripe-mock's fixtures answer for every PaymentIntent; real Stripe answers a
// failed confirmation with an error (a card error) or sets last_payment_error.
const NOT_AUTHORIZED = new Set(['canceled', 'requires_action', 'requires_confirmation']);

export function stripeProvider(stripe: Stripe): PaymentProvider {
  return {
    async authorize({ orderId, amountMinor, currency, methodRef, idempotencyKey }): Promise<Authorization> {
      let intent: Stripe.PaymentIntent;
      try {
        intent = await stripe.paymentIntents.create(
          {
            amount: Number(amountMinor),
            currency: currency.toLowerCase(),
            payment_method: methodRef,
            capture_method: 'manual',
            confirm: true,
            // Server-side, no customer present: a card that needs the buyer's action is declined.
            off_session: true,
            metadata: { orderId },
          },
          { idempotencyKey },
        );
      } catch (err) {
        const refusal = refusalOf(err);
        if (!refusal) throw err;
        const intentId = (refusal.raw as { payment_intent?: { id?: string } } | undefined)?.payment_intent?.id;
        return {
          outcome: 'declined',
          reason: refusal.decline_code ?? refusal.code ?? refusal.message,
          ...(intentId ? { intentId } : {}),
        };
      }
      if (NOT_AUTHORIZED.has(intent.status) || intent.last_payment_error) {
        const reason = intent.last_payment_error?.decline_code ?? intent.last_payment_error?.code ?? intent.status;
        return { outcome: 'declined', reason, intentId: intent.id };
      }
      return { outcome: 'authorized', intentId: intent.id, providerStatus: intent.status };
    },

    async capture({ intentId, amountMinor, idempotencyKey }) {
      const intent = await refusedOr(() =>
        stripe.paymentIntents.capture(intentId, { amount_to_capture: Number(amountMinor) }, { idempotencyKey }),
      );
      return { providerStatus: intent.status };
    },

    async void({ intentId, idempotencyKey }) {
      const intent = await refusedOr(() =>
        stripe.paymentIntents.cancel(intentId, { cancellation_reason: 'abandoned' }, { idempotencyKey }),
      );
      return { providerStatus: intent.status };
    },

    async refund({ intentId, amountMinor, idempotencyKey, metadata }) {
      const refund = await refusedOr(() =>
        stripe.refunds.create({ payment_intent: intentId, amount: Number(amountMinor), metadata }, { idempotencyKey }),
      );
      return { refundId: refund.id, providerStatus: refund.status ?? 'unknown' };
    },

    async retrieve(intentId) {
      let intent: Stripe.PaymentIntent;
      try {
        intent = await stripe.paymentIntents.retrieve(
          intentId,
          { expand: ['latest_charge'] },
          { timeout: READ_BACK_TIMEOUT_MS, maxNetworkRetries: 0 },
        );
      } catch (err) {
        throw new ProviderUnavailable(`reading ${intentId} back: ${err instanceof Error ? err.message : String(err)}`);
      }
      return stateOf(intentId, intent);
    },
  };
}
