// POST /v1/payment-webhooks/stripe — Stripe says something happened to a payment. Verified
// with the endpoint's signing secret over the raw body (and Stripe's five-minute tolerance);
// each event is stored once by its id, so a redelivery is answered 200 and changes nothing.
// The event is only a trigger: for one of the platform's payments the PaymentIntent is read
// back from Stripe and what Stripe holds now is kept beside the platform's own record, for
// reconciliation (store/provider-reports.ts). When Stripe cannot be asked the answer is 503,
// which Stripe redelivers (docs/architecture.md, "Payments, hardening").
import { Router } from 'express';
import Stripe from 'stripe';
import { z } from 'zod';
import { paymentProviderFor } from '../../activities/payments';
import { ProviderUnavailable } from '../../activities/payments/provider';
import { applyProviderEvent, type ProviderEvent, ProviderReportContended } from '../../store/provider-reports';
import type { ApiDeps } from '../deps';
import { Problem } from '../problem';

const minor = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullish();
const objectId = z.string().regex(/^[a-z]{2,8}_[A-Za-z0-9_]{1,250}$/);
const intentId = z.string().regex(/^pi_[A-Za-z0-9_]{1,250}$/);
/** A charge or refund names its PaymentIntent by id, or expanded. */
const intentRef = z.union([intentId, z.looseObject({ id: intentId }), z.null()]).optional();

// Stripe sends these shapes only; a signed body of another shape did not come from Stripe (or
// came from a sender holding the secret), and is refused before anything is written. The
// amounts are checked though never stored: a body Stripe cannot have sent is not acted on.
const PaymentObject = z.discriminatedUnion('object', [
  z.looseObject({
    object: z.literal('payment_intent'),
    id: intentId,
    amount: minor,
    amount_received: minor,
    amount_capturable: minor,
  }),
  z.looseObject({
    object: z.literal('charge'),
    id: objectId,
    payment_intent: intentRef,
    amount: minor,
    amount_captured: minor,
    amount_refunded: minor,
  }),
  z.looseObject({ object: z.literal('refund'), id: objectId, payment_intent: intentRef, amount: minor }),
]);
const PAYMENT_OBJECTS = new Set(['payment_intent', 'charge', 'refund']);

const StripeEvent = z.looseObject({
  id: z.string().regex(/^evt_[A-Za-z0-9_]{1,250}$/),
  object: z.literal('event'),
  type: z.string().regex(/^[a-z0-9_]{1,60}(\.[a-z0-9_]{1,60}){1,4}$/),
  // Seconds since the epoch, before the year 10000.
  created: z.number().int().positive().max(253_402_300_799),
  data: z.looseObject({ object: z.looseObject({ object: z.string().regex(/^[a-z0-9_.]{1,60}$/) }) }),
});

function invalidEvent(issues: z.core.$ZodIssue[]): Problem {
  return new Problem(
    422,
    'invalid_event',
    'the signed body is not a Stripe event of the expected form',
    issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(body)', message: issue.message })),
  );
}

/** Who the event is about; a malformed one is a 422 (nothing is written). */
function eventOf(body: unknown): ProviderEvent {
  const event = StripeEvent.safeParse(body);
  if (!event.success) throw invalidEvent(event.error.issues);
  const base = { eventId: event.data.id, type: event.data.type, createdAt: new Date(event.data.created * 1000) };
  if (!PAYMENT_OBJECTS.has(event.data.data.object.object)) return { ...base, intentId: null };
  const object = PaymentObject.safeParse(event.data.data.object);
  if (!object.success) {
    throw invalidEvent(object.error.issues.map((issue) => ({ ...issue, path: ['data', 'object', ...issue.path] })));
  }
  if (object.data.object === 'payment_intent') return { ...base, intentId: object.data.id };
  const ref = object.data.payment_intent;
  return { ...base, intentId: (typeof ref === 'string' ? ref : ref?.id) ?? null };
}

export function paymentWebhooksRouter({ db, config }: ApiDeps): Router {
  const router = Router();
  // Only the webhook helpers are used to verify: no API key is needed for a signature.
  const webhooks = Stripe.webhooks;
  // The read-back goes through the same provider the worker pays with.
  const provider = paymentProviderFor(config);
  const read = (intent: string) => {
    if (!provider) throw new ProviderUnavailable('no payment provider is configured here (STRIPE_API_KEY)');
    return provider.retrieve(intent);
  };

  router.post('/stripe', async (req, res) => {
    const secret = config.STRIPE_WEBHOOK_SECRET;
    if (!secret) throw new Problem(404, 'not_configured', 'Stripe webhooks are not configured here');
    let body: unknown;
    try {
      body = webhooks.constructEvent(req.rawBody ?? '', String(req.headers['stripe-signature'] ?? ''), secret);
    } catch {
      throw new Problem(400, 'bad_signature', 'the Stripe-Signature header is missing, wrong or too old');
    }
    const event = eventOf(body);
    let outcome;
    try {
      outcome = await applyProviderEvent(db, event, read);
    } catch (err) {
      if (!(err instanceof ProviderUnavailable) && !(err instanceof ProviderReportContended)) throw err;
      req.log.warn({ eventId: event.eventId, type: event.type, error: err.message }, 'stripe webhook not applied');
      res.setHeader('Retry-After', '30');
      throw err instanceof ProviderUnavailable
        ? new Problem(503, 'provider_unavailable', 'the payment could not be read back from Stripe; send it again')
        : new Problem(503, 'report_contended', 'other reports of this payment kept arriving; send it again');
    }
    req.log.info({ eventId: event.eventId, type: event.type, outcome }, 'stripe webhook');
    res.json({ received: true, duplicate: outcome === 'duplicate' });
  });
  return router;
}
