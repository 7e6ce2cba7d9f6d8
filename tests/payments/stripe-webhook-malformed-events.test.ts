// Signed Stripe events of a shape Stripe never sends (a sender holding the signing secret, or
// a bug): each is refused with a 4xx problem+json before anything is written or asked of the
// provider — never a 500, which Stripe would redeliver for days.
import type { ProviderPayment } from '@prisma/client';
import { orderBody, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { eventId, eventPayload, postStripeEvent } from '../support/stripe-events';
import { startStripeProxy, type StripeProxy } from '../support/stripe-proxy';
import { whenStarted } from '../../infra/temporal';

let stack: TestStack;
let stripe: StripeProxy;
let payment: ProviderPayment;
beforeAll(async () => {
  stripe = await startStripeProxy(process.env.STRIPE_API_BASE!);
  stack = await startStack({ config: { STRIPE_API_BASE: stripe.url } });
  const { sku, api } = await shopWithStock(stack, { stock: 1, topUp: 0 });
  const placed = await api.post('/v1/orders', {
    ...orderBody(sku),
    payment: { method: 'stripe', paymentMethodId: 'pm_card_visa' },
  });
  const { workflowId } = await stack.db.order.findUniqueOrThrow({ where: { id: placed.body.id } });
  await whenStarted(stack.deps.temporal, workflowId, (handle) => handle.result());
  expect((await waitForTerminal(api, placed.body.id)).status).toBe('delivered');
  payment = await stack.db.providerPayment.findUniqueOrThrow({ where: { orderId: placed.body.id } });
});
afterAll(async () => {
  await stack?.close();
  await stripe?.close();
});

const now = () => Math.floor(Date.now() / 1000);
const intent = (fields: Record<string, unknown> = {}) => ({
  id: payment.intentId,
  object: 'payment_intent',
  status: 'succeeded',
  ...fields,
});
/** An event body with `change` applied to a well-formed one. */
function eventWith(change: (event: Record<string, unknown>) => void): string {
  const event = JSON.parse(eventPayload(intent(), 'payment_intent.succeeded', now())) as Record<string, unknown>;
  change(event);
  return JSON.stringify(event);
}

const cases: [string, () => string, string][] = [
  [
    'a non-integer amount',
    () => eventPayload(intent({ amount_received: 1500.5 }), 'payment_intent.succeeded'),
    'invalid_event',
  ],
  [
    'a negative amount',
    () => eventPayload(intent({ amount_received: -1 }), 'payment_intent.succeeded'),
    'invalid_event',
  ],
  [
    'an amount as a string',
    () => eventPayload(intent({ amount: '1500' }), 'payment_intent.succeeded'),
    'invalid_event',
  ],
  [
    'an amount beyond int8',
    () =>
      eventPayload(intent({ amount_received: 'BIG' }), 'payment_intent.succeeded').replace(
        '"BIG"',
        '9223372036854775808',
      ),
    'inexact_number',
  ],
  [
    'a charge refunding beyond int8, in exponent form',
    () =>
      eventPayload(
        { id: 'ch_x', object: 'charge', payment_intent: payment.intentId, amount_refunded: 'BIG' },
        'charge.refunded',
      ).replace('"BIG"', '1e19'),
    'inexact_number',
  ],
  ['no data', () => eventWith((e) => delete e.data), 'invalid_event'],
  ['data without an object', () => eventWith((e) => (e.data = {})), 'invalid_event'],
  ['data.object a string', () => eventWith((e) => (e.data = { object: 'payment_intent' })), 'invalid_event'],
  ['data.object null', () => eventWith((e) => (e.data = { object: null })), 'invalid_event'],
  ['data.object an array', () => eventWith((e) => (e.data = { object: [intent()] })), 'invalid_event'],
  ['a NUL in type', () => eventWith((e) => (e.type = 'payment_intent.succeeded\u0000')), 'invalid_event'],
  ['a type that is not a string', () => eventWith((e) => (e.type = 7)), 'invalid_event'],
  ['a NUL in the event id', () => eventWith((e) => (e.id = `${eventId()}\u0000`)), 'invalid_event'],
  ['no event id', () => eventWith((e) => delete e.id), 'invalid_event'],
  ['a creation time past any date', () => eventWith((e) => (e.created = 10_000_000_000_000)), 'invalid_event'],
  [
    'a NUL in the intent id',
    () => eventPayload(intent({ id: `${payment.intentId}\u0000` }), 'payment_intent.succeeded'),
    'invalid_event',
  ],
  [
    'a charge naming its intent with a number',
    () => eventPayload({ id: 'ch_x', object: 'charge', payment_intent: 42 }, 'charge.succeeded'),
    'invalid_event',
  ],
  ['an array instead of an event', () => '[]', 'invalid_event'],
];

test.each(cases)('a signed event with %s is a 4xx problem+json and writes nothing', async (_name, body, code) => {
  const payload = body();
  const events = await stack.db.paymentWebhookEvent.count();
  const before = await stack.db.providerPayment.findUniqueOrThrow({ where: { id: payment.id } });
  const calls = stripe.calls.length;
  const answer = await postStripeEvent(stack.url, payload);
  expect(answer.status).toBe(422);
  expect(answer.contentType).toMatch(/application\/problem\+json/);
  expect(answer.body.code).toBe(code);
  expect(await stack.db.paymentWebhookEvent.count()).toBe(events);
  expect(await stack.db.providerPayment.findUniqueOrThrow({ where: { id: payment.id } })).toEqual(before);
  expect(stripe.calls.length).toBe(calls);
});
