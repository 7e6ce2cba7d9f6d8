// Card payments through Stripe (stripe-mock behind a recording proxy): authorize before
// fulfilling, capture what was delivered, void what was not, refund later per unit — each
// call once, under the platform's idempotency key, whatever is retried.
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { staffApi } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { startStripeProxy, type StripeProxy } from '../support/stripe-proxy';
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
const INTENTS = /^\/v1\/payment_intents$/;

/** The order once its workflow has finished: the provider is settled after the database. */
async function finished(api: ReturnType<typeof clientFor>, placed: { body: { id: string } }) {
  const { workflowId } = await stack.db.order.findUniqueOrThrow({ where: { id: placed.body.id } });
  await whenStarted(stack.deps.temporal, workflowId, (handle) => handle.result());
  return waitForTerminal(api, placed.body.id);
}

function callsFor(orderId: string) {
  return stripe.calls.filter((c) => c.idempotencyKey?.startsWith(`order:${orderId}:`));
}

async function support() {
  return staffApi(stack, 'support');
}

test('authorize, then capture what was delivered; a later refund per unit, once each', async () => {
  const { sku, api } = await shopWithStock(stack, { stock: 2, topUp: 0 });
  const placed = await api.post('/v1/orders', { ...orderBody(sku, 2), payment: card });
  expect(placed.status).toBe(202);
  const order = await finished(api, placed);
  expect(order.status).toBe('delivered');

  const [authorize, capture, ...rest] = callsFor(order.id);
  expect(rest).toEqual([]);
  expect(authorize).toMatchObject({
    method: 'POST',
    path: '/v1/payment_intents',
    idempotencyKey: `order:${order.id}:authorize`,
  });
  expect(Object.fromEntries(authorize!.form)).toMatchObject({
    amount: String(2 * PRICE),
    currency: 'cny',
    capture_method: 'manual',
    confirm: 'true',
    payment_method: 'pm_card_visa',
    'metadata[orderId]': order.id,
  });
  const payment = await stack.db.providerPayment.findUniqueOrThrow({ where: { orderId: order.id } });
  expect(capture).toMatchObject({
    path: `/v1/payment_intents/${payment.intentId}/capture`,
    idempotencyKey: `order:${order.id}:capture`,
  });
  expect(capture!.form.get('amount_to_capture')).toBe(String(2 * PRICE));
  expect(payment).toMatchObject({ status: 'captured', capturedMinor: BigInt(2 * PRICE), refundedMinor: 0n });
  // The prepaid balance is not involved.
  expect(await stack.db.ledgerTransaction.count({ where: { orderId: order.id } })).toBe(0);

  // Support refunds one unit; the same request again changes nothing.
  const staff = await support();
  const [first, second] = order.items[0].units.map((u: { id: string }) => u.id);
  const refund = { unitIds: [first], reason: 'buyer says the code was already used' };
  const refunded = await staff.post(`/v1/orders/${order.id}/refunds`, refund);
  expect(refunded.status).toBe(200);
  expect(refunded.body).toMatchObject({
    status: 'refunded',
    orderStatus: 'delivered',
    refunded: [{ unitId: first, amount: { minor: PRICE, currency: 'CNY' } }],
  });
  expect((await staff.post(`/v1/orders/${order.id}/refunds`, refund)).status).toBe(200);
  const refunds = stripe.callsTo(/^\/v1\/refunds$/).filter((c) => c.form.get('payment_intent') === payment.intentId);
  expect(refunds).toHaveLength(1);
  expect(refunds[0]!.idempotencyKey).toBe(`order:${order.id}:unit:${first}:refund`);
  expect(refunds[0]!.form.get('amount')).toBe(String(PRICE));

  // The rest: the order has nothing delivered left and is refunded.
  const all = await staff.post(`/v1/orders/${order.id}/refunds`, { reason: 'goodwill' });
  expect(all.body).toMatchObject({ orderStatus: 'refunded', refunded: [{ unitId: second }] });
  const after = await stack.db.providerPayment.findUniqueOrThrow({ where: { orderId: order.id } });
  expect(after.refundedMinor).toBe(BigInt(2 * PRICE));
  const units = await stack.db.orderUnit.findMany({ where: { orderId: order.id } });
  const keys = await stack.db.cardKey.findMany({ where: { id: { in: units.map((u) => u.cardKeyId!) } } });
  expect(keys.map((k) => k.status)).toEqual(['void', 'void']);
  const { mismatches } = await reconcile(stack.db, { from: new Date(Date.now() - 60_000), to: new Date() });
  expect(mismatches.filter((m) => m.orderId === order.id)).toEqual([]);
});

test('refunds are for support: an order system cannot refund, and a wrong unit is refused', async () => {
  const { sku, api } = await shopWithStock(stack, { stock: 1, topUp: 0 });
  const order = await finished(api, await api.post('/v1/orders', { ...orderBody(sku), payment: card }));
  expectProblem(await api.post(`/v1/orders/${order.id}/refunds`, { reason: 'x' }), 403, 'forbidden');
  const staff = await support();
  expectProblem(
    await staff.post(`/v1/orders/${order.id}/refunds`, { unitIds: [randomUUID()], reason: 'x' }),
    422,
    'unknown_unit',
  );
  expectProblem(await staff.post(`/v1/orders/${order.id}/refunds`, { reason: '' }), 422, 'validation_failed');
  expectProblem(await staff.post(`/v1/orders/${randomUUID()}/refunds`, { reason: 'x' }), 404, 'not_found');
  expect(stripe.callsTo(/^\/v1\/refunds$/).filter((c) => c.idempotencyKey?.includes(order.id))).toEqual([]);
});

test('a declined card fails the order before anything is reserved or captured', async () => {
  const { sku, api } = await shopWithStock(stack, { stock: 1, topUp: 0 });
  stripe.breakNext(INTENTS, {
    kind: 'answer',
    status: 402,
    body: {
      error: {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'insufficient_funds',
        message: 'Your card has insufficient funds.',
      },
    },
  });
  const order = await finished(api, await api.post('/v1/orders', { ...orderBody(sku), payment: card }));
  expect(order.status).toBe('failed');
  expect(order.history.at(-1).reason).toBe('payment declined: insufficient_funds');
  expect(callsFor(order.id).map((c) => c.path)).toEqual(['/v1/payment_intents']);
  expect(await stack.db.orderUnit.count({ where: { orderId: order.id, cardKeyId: { not: null } } })).toBe(0);
  expect(await stack.db.providerPayment.findUnique({ where: { orderId: order.id } })).toMatchObject({
    status: 'declined',
    capturedMinor: 0n,
  });
});

test('a capture whose answer was lost is sent again under the same key: captured once', async () => {
  const { sku, api } = await shopWithStock(stack, { stock: 1, topUp: 0 });
  stripe.breakNext(/\/capture$/, { kind: 'lose-answer' });
  const order = await finished(api, await api.post('/v1/orders', { ...orderBody(sku), payment: card }));
  expect(order.status).toBe('delivered');
  const captures = callsFor(order.id).filter((c) => c.path.endsWith('/capture'));
  expect(captures.length).toBeGreaterThanOrEqual(2);
  expect(new Set(captures.map((c) => c.idempotencyKey))).toEqual(new Set([`order:${order.id}:capture`]));
  const operations = await stack.db.paymentOperation.findMany({ where: { payment: { orderId: order.id } } });
  expect(operations.map((o) => [o.kind, o.status, Number(o.amountMinor)])).toEqual([
    ['authorize', 'succeeded', PRICE],
    ['capture', 'succeeded', PRICE],
  ]);
  expect(operations[1]!.attempts).toBeGreaterThanOrEqual(1);
  expect((await stack.db.providerPayment.findUniqueOrThrow({ where: { orderId: order.id } })).capturedMinor).toBe(
    BigInt(PRICE),
  );
});

test('a partial delivery captures the delivered units only; an undeliverable order voids its hold', async () => {
  const { sku, api } = await shopWithStock(stack, { stock: 1, topUp: 0 });
  const partial = await finished(
    api,
    await api.post('/v1/orders', { ...orderBody(sku, 3), allowPartial: true, payment: card }),
  );
  expect(partial.status).toBe('partially_delivered');
  const captured = callsFor(partial.id).filter((c) => c.path.endsWith('/capture'));
  expect(captured.map((c) => c.form.get('amount_to_capture'))).toEqual([String(PRICE)]);

  const none = await finished(api, await api.post('/v1/orders', { ...orderBody(sku), payment: card }));
  expect(none.status).toBe('refunded');
  const calls = callsFor(none.id);
  expect(calls.map((c) => c.path.replace(/pi_\w+/, 'pi'))).toEqual([
    '/v1/payment_intents',
    '/v1/payment_intents/pi/cancel',
  ]);
  expect(calls[1]!.idempotencyKey).toBe(`order:${none.id}:void`);
  expect(await stack.db.providerPayment.findUnique({ where: { orderId: none.id } })).toMatchObject({
    status: 'voided',
    capturedMinor: 0n,
  });
});

test('bad payment input is refused with nothing written; saying "balance" is the same as saying nothing', async () => {
  const { sku, api, shop } = await shopWithStock(stack, { stock: 1, topUp: PRICE });
  const before = await stack.db.order.count({ where: { clientId: shop.id } });
  for (const payment of [
    { method: 'stripe' },
    { method: 'stripe', paymentMethodId: 'tok_visa' },
    { method: 'paypal' },
    { method: 'balance', paymentMethodId: 'pm_card_visa' },
  ]) {
    expectProblem(await api.post('/v1/orders', { ...orderBody(sku), payment }), 422, 'validation_failed');
  }
  expect(await stack.db.order.count({ where: { clientId: shop.id } })).toBe(before);
  const body = orderBody(sku);
  const placed = await api.post('/v1/orders', body);
  const again = await api.post('/v1/orders', { ...body, payment: { method: 'balance' } });
  expect(again.status).toBe(200);
  expect(again.body.id).toBe(placed.body.id);
  await waitForTerminal(api, placed.body.id);
});

describe('Stripe webhooks', () => {
  const secret = process.env.STRIPE_WEBHOOK_SECRET!;

  function signedEvent(object: object, type: string, created = Math.floor(Date.now() / 1000)) {
    const payload = JSON.stringify({
      id: `evt_${randomUUID().replace(/-/g, '')}`,
      object: 'event',
      type,
      created,
      data: { object },
    });
    return { payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret }) };
  }

  async function post(payload: string, signature: string) {
    return fetch(`${stack.url}/v1/payment-webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body: payload,
    });
  }

  test('a verified event is kept once; a redelivery is harmless; a bad signature is refused', async () => {
    const { sku, api } = await shopWithStock(stack, { stock: 1, topUp: 0 });
    const order = await finished(api, await api.post('/v1/orders', { ...orderBody(sku), payment: card }));
    const payment = await stack.db.providerPayment.findUniqueOrThrow({ where: { orderId: order.id } });
    const intent = { id: payment.intentId, object: 'payment_intent', status: 'succeeded', amount_received: PRICE };
    // What is stored is what Stripe answers for the intent (the proxy says), not the body.
    stripe.answerIntent(payment.intentId!, { status: 'succeeded', amount_received: PRICE });
    const { payload, signature } = signedEvent(intent, 'payment_intent.succeeded');

    const first = await post(payload, signature);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: true, duplicate: false });
    const again = await post(payload, signature);
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    expect(await stack.db.paymentWebhookEvent.count({ where: { paymentId: payment.id } })).toBe(1);
    expect(await stack.db.providerPayment.findUniqueOrThrow({ where: { id: payment.id } })).toMatchObject({
      providerStatus: 'succeeded',
      providerCapturedMinor: BigInt(PRICE),
    });

    const forged = await post(payload.replace(String(PRICE), '1'), signature);
    expect(forged.status).toBe(400);
    expect(forged.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await forged.json()) as { code: string }).code).toBe('bad_signature');
    expect((await post(payload, 't=1,v1=00')).status).toBe(400);
  });

  test('what the provider reports is reconciled with what the platform recorded', async () => {
    const { sku, api } = await shopWithStock(stack, { stock: 1, topUp: 0 });
    const order = await finished(api, await api.post('/v1/orders', { ...orderBody(sku), payment: card }));
    const payment = await stack.db.providerPayment.findUniqueOrThrow({ where: { orderId: order.id } });
    const range = { from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000) };
    const now = Math.floor(Date.now() / 1000);
    stripe.answerIntent(payment.intentId!, { status: 'succeeded', amount_received: 1 });
    const wrong = signedEvent(
      { id: payment.intentId, object: 'payment_intent', status: 'succeeded', amount_received: 1 },
      'payment_intent.succeeded',
      now,
    );
    await post(wrong.payload, wrong.signature);
    const found = (await reconcile(stack.db, range)).mismatches.filter((m) => m.orderId === order.id);
    expect(found).toEqual([
      expect.objectContaining({ kind: 'provider_capture_differs', expectedMinor: String(PRICE), actualMinor: '1' }),
    ]);
    // A later read that agrees clears it; an older event delivered late reads the same.
    stripe.answerIntent(payment.intentId!, { status: 'succeeded', amount_received: PRICE });
    const right = signedEvent(
      { id: payment.intentId, object: 'payment_intent', status: 'succeeded', amount_received: PRICE },
      'payment_intent.succeeded',
      now + 1,
    );
    await post(right.payload, right.signature);
    const stale = signedEvent(
      { id: payment.intentId, object: 'payment_intent', status: 'succeeded', amount_received: 7 },
      'payment_intent.succeeded',
      now - 5,
    );
    await post(stale.payload, stale.signature);
    expect((await reconcile(stack.db, range)).mismatches.filter((m) => m.orderId === order.id)).toEqual([]);
  });
});
