// POST /v1/payment-webhooks/stripe — Stripe reports what happened to a payment. Verified with
// the endpoint's signing secret over the raw body (and Stripe's five-minute tolerance); each
// event is stored once by its id, so a redelivery is answered 200 and changes nothing. What
// the provider reports is kept beside the platform's own record, for reconciliation.
import { Router } from 'express';
import Stripe from 'stripe';
import { applyProviderReport, type ProviderReport } from '../../store/payments';
import type { ApiDeps } from '../deps';
import { Problem } from '../problem';

/** The payment facts an event carries (PaymentIntent and Charge events; others are only stored). */
function reportOf(event: Stripe.Event): ProviderReport {
  const base = { eventId: event.id, type: event.type, createdAt: new Date(event.created * 1000) };
  const object = event.data.object as { object?: string };
  if (object.object === 'payment_intent') {
    const intent = object as Stripe.PaymentIntent;
    return {
      ...base,
      intentId: intent.id,
      providerStatus: intent.status,
      capturedMinor: BigInt(intent.amount_received ?? 0),
    };
  }
  if (object.object === 'charge') {
    const charge = object as Stripe.Charge;
    const intent = typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
    return {
      ...base,
      intentId: intent ?? null,
      capturedMinor: BigInt(charge.amount_captured ?? 0),
      refundedMinor: BigInt(charge.amount_refunded ?? 0),
    };
  }
  return { ...base, intentId: null };
}

export function paymentWebhooksRouter({ db, config }: ApiDeps): Router {
  const router = Router();
  // Only the webhook helpers are used: no API key is needed to verify a signature.
  const webhooks = Stripe.webhooks;

  router.post('/stripe', async (req, res) => {
    const secret = config.STRIPE_WEBHOOK_SECRET;
    if (!secret) throw new Problem(404, 'not_configured', 'Stripe webhooks are not configured here');
    let event: Stripe.Event;
    try {
      event = webhooks.constructEvent(req.rawBody ?? '', String(req.headers['stripe-signature'] ?? ''), secret);
    } catch {
      throw new Problem(400, 'bad_signature', 'the Stripe-Signature header is missing, wrong or too old');
    }
    const stored = await applyProviderReport(db, reportOf(event));
    req.log.info({ eventId: event.id, type: event.type, duplicate: !stored }, 'stripe webhook');
    res.json({ received: true, duplicate: !stored });
  });
  return router;
}
