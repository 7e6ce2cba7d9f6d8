// Stripe webhook events as Stripe sends them: a JSON body signed with the endpoint's secret
// (the test env's STRIPE_WEBHOOK_SECRET) by the SDK's own test signer, posted to the platform.
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';

export function eventId(): string {
  return `evt_${randomUUID().replace(/-/g, '')}`;
}

/** An event's body: `object` is what Stripe puts in `data.object`. */
export function eventPayload(
  object: unknown,
  type: string,
  created = Math.floor(Date.now() / 1000),
  id = eventId(),
): string {
  return JSON.stringify({ id, object: 'event', type, created, data: { object } });
}

/** The Stripe-Signature header for `payload`, as Stripe computes it. */
export function signatureOf(payload: string): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret: process.env.STRIPE_WEBHOOK_SECRET! });
}

export async function postStripeEvent(baseUrl: string, payload: string, signature = signatureOf(payload)) {
  const res = await fetch(`${baseUrl}/v1/payment-webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body: payload,
  });
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    body: (text ? JSON.parse(text) : undefined) as { code?: string; received?: boolean; duplicate?: boolean },
  };
}
