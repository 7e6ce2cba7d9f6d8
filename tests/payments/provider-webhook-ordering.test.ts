// Payment webhooks under concurrency and forgery: whatever order events arrive in, and
// whatever a signed body claims, the provider state the platform keeps is what the provider
// says (read back through the proxy in front of stripe-mock, which a test tells what a
// PaymentIntent is now), and the newest answer stands. Events are signed as Stripe signs them.
import type { ProviderPayment } from '@prisma/client';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { eventPayload, postStripeEvent } from '../support/stripe-events';
import { type IntentState, startStripeProxy, type StripeProxy } from '../support/stripe-proxy';
import { reconcile } from '../../store/reconciliation';
import { whenStarted } from '../../infra/temporal';

let stack: TestStack;
let stripe: StripeProxy;
beforeAll(async () => {
  stripe = await startStripeProxy(process.env.STRIPE_API_BASE!);
  stack = await startStack({ config: { STRIPE_API_BASE: stripe.url } });
});
afterAll(async () => {
  await stack?.close();
  await stripe?.close();
});

const card = { method: 'stripe', paymentMethodId: 'pm_card_visa' } as const;
const AUTHORIZED: IntentState = {
  status: 'requires_capture',
  amount_received: 0,
  latest_charge: { amount_refunded: 0 },
};
const CAPTURED: IntentState = { status: 'succeeded', amount_received: PRICE, latest_charge: { amount_refunded: 0 } };

/** A delivered card order, captured by the platform: its provider payment. */
async function capturedPayment(): Promise<ProviderPayment> {
  const { sku, api } = await shopWithStock(stack, { stock: 1, topUp: 0 });
  const placed = await api.post('/v1/orders', { ...orderBody(sku), payment: card });
  const { workflowId } = await stack.db.order.findUniqueOrThrow({ where: { id: placed.body.id } });
  await whenStarted(stack.deps.temporal, workflowId, (handle) => handle.result());
  expect((await waitForTerminal(api, placed.body.id)).status).toBe('delivered');
  const payment = await stack.db.providerPayment.findUniqueOrThrow({ where: { orderId: placed.body.id } });
  expect(payment).toMatchObject({ status: 'captured', capturedMinor: BigInt(PRICE) });
  return payment;
}

function intentEvent(payment: ProviderPayment, fields: Record<string, unknown>, type: string, created: number) {
  return eventPayload({ id: payment.intentId, object: 'payment_intent', ...fields }, type, created);
}

const reported = (id: string) =>
  stack.db.providerPayment.findUniqueOrThrow({
    where: { id },
    select: { providerStatus: true, providerCapturedMinor: true, providerRefundedMinor: true },
  });

const readsOf = (payment: ProviderPayment) => stripe.callsTo(new RegExp(`^/v1/payment_intents/${payment.intentId}$`));

async function mismatchesOf(payment: ProviderPayment) {
  const range = { from: new Date(Date.now() - 10 * 60_000), to: new Date(Date.now() + 60_000) };
  return (await reconcile(stack.db, range)).mismatches.filter((m) => m.orderId === payment.orderId);
}

test('concurrent events for one intent, newer succeeded and older requires_capture: the newest state stands in every one of 25 rounds', async () => {
  const payment = await capturedPayment();
  stripe.answerIntent(payment.intentId!, CAPTURED);
  const start = Math.floor(Date.now() / 1000);
  const lost: { round: number; providerStatus: string | null }[] = [];
  for (let round = 0; round < 25; round++) {
    const older = intentEvent(
      payment,
      { status: 'requires_capture', amount_received: 0 },
      'payment_intent.amount_capturable_updated',
      start + 2 * round,
    );
    const newer = intentEvent(
      payment,
      { status: 'succeeded', amount_received: PRICE },
      'payment_intent.succeeded',
      start + 2 * round + 1,
    );
    const answers = await Promise.all([postStripeEvent(stack.url, older), postStripeEvent(stack.url, newer)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    const now = await reported(payment.id);
    if (now.providerStatus !== 'succeeded' || now.providerCapturedMinor !== BigInt(PRICE)) {
      lost.push({ round, providerStatus: now.providerStatus });
    }
  }
  expect(lost).toEqual([]);
  expect(await mismatchesOf(payment)).toEqual([]);
});

test('a signed event whose body claims succeeded while the provider says requires_capture stores requires_capture', async () => {
  const payment = await capturedPayment();
  stripe.answerIntent(payment.intentId!, AUTHORIZED);
  const forged = intentEvent(
    payment,
    { status: 'succeeded', amount_received: PRICE, amount_capturable: 0 },
    'payment_intent.succeeded',
    Math.floor(Date.now() / 1000),
  );
  expect((await postStripeEvent(stack.url, forged)).status).toBe(200);
  expect(await reported(payment.id)).toEqual({
    providerStatus: 'requires_capture',
    providerCapturedMinor: 0n,
    providerRefundedMinor: 0n,
  });
  expect(readsOf(payment)).toHaveLength(1);
  // The platform captured; the provider says it did not: reconciliation shows what the provider says.
  expect(await mismatchesOf(payment)).toEqual([
    expect.objectContaining({ kind: 'provider_capture_differs', expectedMinor: String(PRICE), actualMinor: '0' }),
  ]);
  // Once the provider has it captured, the next event clears it (the suite ends reconciled).
  stripe.answerIntent(payment.intentId!, CAPTURED);
  const later = intentEvent(payment, {}, 'payment_intent.succeeded', Math.floor(Date.now() / 1000) + 1);
  expect((await postStripeEvent(stack.url, later)).status).toBe(200);
  expect(await mismatchesOf(payment)).toEqual([]);
});

test('a slow read-back that answers an older state than one stored meanwhile loses: it is asked again', async () => {
  const payment = await capturedPayment();
  stripe.answerIntent(payment.intentId!, AUTHORIZED);
  const read = new RegExp(`^/v1/payment_intents/${payment.intentId}$`);
  const held = stripe.holdNext(read);
  const now = Math.floor(Date.now() / 1000);
  const first = postStripeEvent(
    stack.url,
    intentEvent(payment, { status: 'requires_capture' }, 'payment_intent.amount_capturable_updated', now),
  );
  await held.arrived; // its answer is the state as it was: requires_capture
  stripe.answerIntent(payment.intentId!, CAPTURED);
  const second = await postStripeEvent(
    stack.url,
    intentEvent(payment, { status: 'succeeded' }, 'payment_intent.succeeded', now + 1),
  );
  expect(second.status).toBe(200);
  expect((await reported(payment.id)).providerStatus).toBe('succeeded');
  held.release();
  expect((await first).status).toBe(200);
  expect(await reported(payment.id)).toEqual({
    providerStatus: 'succeeded',
    providerCapturedMinor: BigInt(PRICE),
    providerRefundedMinor: 0n,
  });
  // The held read, the second event's, and the first event's read again.
  expect(readsOf(payment)).toHaveLength(3);
  expect(await mismatchesOf(payment)).toEqual([]);
});

test('the provider down: 503 provider_unavailable, nothing stored; the redelivery stores what the provider says', async () => {
  const payment = await capturedPayment();
  stripe.answerIntent(payment.intentId!, CAPTURED);
  const before = await reported(payment.id);
  const payload = intentEvent(
    payment,
    { status: 'requires_capture', amount_received: 0 },
    'payment_intent.amount_capturable_updated',
    Math.floor(Date.now() / 1000),
  );
  const eventId = (JSON.parse(payload) as { id: string }).id;
  const read = new RegExp(`^/v1/payment_intents/${payment.intentId}$`);
  // A server error, rate limiting, and an answer that is not a PaymentIntent of its form.
  for (const fault of [
    { kind: 'answer', status: 500, body: { error: { type: 'api_error', message: 'down' } } } as const,
    { kind: 'answer', status: 429, body: { error: { type: 'rate_limit_error', message: 'slow down' } } } as const,
    {
      kind: 'answer',
      status: 200,
      body: { id: payment.intentId, object: 'payment_intent', amount_received: 1.5 },
    } as const,
  ]) {
    stripe.breakNext(read, fault);
    const refused = await postStripeEvent(stack.url, payload);
    expect(refused.status).toBe(503);
    expect(refused.contentType).toMatch(/application\/problem\+json/);
    expect(refused.body.code).toBe('provider_unavailable');
    expect(await stack.db.paymentWebhookEvent.count({ where: { id: eventId } })).toBe(0);
    expect(await reported(payment.id)).toEqual(before);
  }
  const redelivered = await postStripeEvent(stack.url, payload);
  expect(redelivered).toMatchObject({ status: 200, body: { received: true, duplicate: false } });
  expect(await reported(payment.id)).toEqual({
    providerStatus: 'succeeded',
    providerCapturedMinor: BigInt(PRICE),
    providerRefundedMinor: 0n,
  });
});

test('a redelivered event changes nothing and asks nothing, even when the provider moved on', async () => {
  const payment = await capturedPayment();
  stripe.answerIntent(payment.intentId!, CAPTURED);
  const payload = intentEvent(
    payment,
    { status: 'requires_capture', amount_received: 0 },
    'payment_intent.succeeded',
    Math.floor(Date.now() / 1000),
  );
  expect((await postStripeEvent(stack.url, payload)).body).toEqual({ received: true, duplicate: false });
  const stored = await reported(payment.id);
  expect(stored.providerStatus).toBe('succeeded');
  stripe.answerIntent(payment.intentId!, { ...CAPTURED, latest_charge: { amount_refunded: PRICE } });
  const reads = readsOf(payment).length;
  const again = await Promise.all([postStripeEvent(stack.url, payload), postStripeEvent(stack.url, payload)]);
  expect(again.map((a) => a.body)).toEqual([
    { received: true, duplicate: true },
    { received: true, duplicate: true },
  ]);
  expect(readsOf(payment)).toHaveLength(reads);
  expect(await reported(payment.id)).toEqual(stored);
  expect(await stack.db.paymentWebhookEvent.count({ where: { paymentId: payment.id } })).toBe(1);
});

test('a charge or refund event reads back the PaymentIntent it names: what was refunded comes from the provider', async () => {
  const payment = await capturedPayment();
  stripe.answerIntent(payment.intentId!, { ...CAPTURED, latest_charge: { amount_refunded: 300 } });
  const now = Math.floor(Date.now() / 1000);
  const charge = eventPayload(
    { id: 'ch_rightsPlatformTest', object: 'charge', payment_intent: payment.intentId, amount_refunded: PRICE },
    'charge.refunded',
    now,
  );
  expect((await postStripeEvent(stack.url, charge)).status).toBe(200);
  expect(await reported(payment.id)).toEqual({
    providerStatus: 'succeeded',
    providerCapturedMinor: BigInt(PRICE),
    providerRefundedMinor: 300n,
  });
  expect(await mismatchesOf(payment)).toEqual([
    expect.objectContaining({ kind: 'provider_refund_differs', expectedMinor: '0', actualMinor: '300' }),
  ]);
  stripe.answerIntent(payment.intentId!, CAPTURED);
  const refund = eventPayload(
    { id: 're_rightsPlatformTest', object: 'refund', payment_intent: { id: payment.intentId }, amount: 300 },
    'charge.refund.updated',
    now + 1,
  );
  expect((await postStripeEvent(stack.url, refund)).status).toBe(200);
  expect((await reported(payment.id)).providerRefundedMinor).toBe(0n);
  expect(await mismatchesOf(payment)).toEqual([]);
});

test('events about no payment of the platform are stored once and ask the provider nothing', async () => {
  const reads = stripe.callsTo(/^\/v1\/payment_intents\/[^/]+$/).length;
  const now = Math.floor(Date.now() / 1000);
  for (const payload of [
    eventPayload(
      { id: 'pi_notOneOfOurs', object: 'payment_intent', status: 'succeeded' },
      'payment_intent.succeeded',
      now,
    ),
    eventPayload({ id: 'cus_someone', object: 'customer' }, 'customer.created', now),
    eventPayload({ id: 'ch_orphan', object: 'charge', payment_intent: null }, 'charge.succeeded', now),
  ]) {
    const id = (JSON.parse(payload) as { id: string }).id;
    expect(await postStripeEvent(stack.url, payload)).toMatchObject({ status: 200, body: { duplicate: false } });
    expect(await postStripeEvent(stack.url, payload)).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(await stack.db.paymentWebhookEvent.findUniqueOrThrow({ where: { id } })).toMatchObject({ paymentId: null });
  }
  expect(stripe.callsTo(/^\/v1\/payment_intents\/[^/]+$/)).toHaveLength(reads);
});
