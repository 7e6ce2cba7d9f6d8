// A subscription paid by card (Stripe, stripe-mock behind the recording proxy) renews like a
// balance-paid one: each period's order authorizes once and captures once at the provider,
// under the order's own idempotency keys, and the platform's records hold each operation
// once; the prepaid balance is never touched.
import { PRICE } from '../support/orders';
import { startStripeProxy, type StripeProxy } from '../support/stripe-proxy';
import { subscriptionBody, subscriptionShop, subscriptionSuite, waitForSubscription } from '../support/subscriptions';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

let stripe: StripeProxy;
beforeAll(async () => {
  stripe = await startStripeProxy(process.env.STRIPE_API_BASE!);
});
afterAll(async () => {
  await stripe?.close();
});
const suite = subscriptionSuite(() => ({ STRIPE_API_BASE: stripe.url }));

const card = { method: 'stripe', paymentMethodId: 'pm_card_visa' } as const;

test('a card-paid subscription renews twice: each period authorized once and captured once, recorded once', async () => {
  const { stack, receiver } = suite;
  // No balance: a period the card did not pay could not be paid at all.
  const { sku, api, shop } = await subscriptionShop(stack, receiver, { stock: 5, topUp: 0 });
  const created = await api.post('/v1/subscriptions', subscriptionBody(sku, { payment: card }));
  expect(created.status).toBe(202);
  expect(created.body.payment).toEqual({ method: 'stripe' });
  const id = created.body.id;

  // Period 1 at once, then two renewals.
  const renewed = await waitForSubscription(api, id, (s) => s.currentPeriod >= 3, 'three periods paid', 90_000);
  await api.post(`/v1/subscriptions/${id}/cancel`, {});
  const periods = renewed.periods.filter((p: any) => p.number <= 3);
  expect(periods.map((p: any) => [p.number, p.outcome, p.orderStatus, p.attempts])).toEqual([
    [1, 'paid', 'delivered', 1],
    [2, 'paid', 'delivered', 1],
    [3, 'paid', 'delivered', 1],
  ]);
  const orderIds: string[] = periods.map((p: any) => p.orderId);

  // The provider is settled after the database: wait for each capture to be on record.
  await waitFor(
    async () =>
      (await stack.db.providerPayment.count({ where: { orderId: { in: orderIds }, status: 'captured' } })) === 3,
    'three periods captured',
  );
  // Let a repeated call, if there were one, arrive before counting.
  await new Promise((r) => setTimeout(r, 500));

  for (const orderId of orderIds) {
    const calls = stripe.calls.filter((c) => c.idempotencyKey?.startsWith(`order:${orderId}:`));
    const payment = await stack.db.providerPayment.findUniqueOrThrow({
      where: { orderId },
      include: { operations: { orderBy: { id: 'asc' } } },
    });
    expect(calls.map((c) => [c.method, c.path, c.idempotencyKey])).toEqual([
      ['POST', '/v1/payment_intents', `order:${orderId}:authorize`],
      ['POST', `/v1/payment_intents/${payment.intentId}/capture`, `order:${orderId}:capture`],
    ]);
    const [authorize, capture] = calls;
    expect(Object.fromEntries(authorize!.form)).toMatchObject({
      amount: String(PRICE),
      currency: 'cny',
      capture_method: 'manual',
      payment_method: card.paymentMethodId,
      'metadata[orderId]': orderId,
    });
    expect(capture!.form.get('amount_to_capture')).toBe(String(PRICE));
    expect(payment).toMatchObject({
      provider: 'stripe',
      methodRef: card.paymentMethodId,
      status: 'captured',
      amountMinor: BigInt(PRICE),
      capturedMinor: BigInt(PRICE),
      refundedMinor: 0n,
    });
    expect(payment.operations.map((o) => [o.kind, o.status, Number(o.amountMinor)])).toEqual([
      ['authorize', 'succeeded', PRICE],
      ['capture', 'succeeded', PRICE],
    ]);
  }
  // The prepaid balance is not involved: no ledger movement for any period.
  expect(await stack.db.ledgerTransaction.count({ where: { orderId: { in: orderIds } } })).toBe(0);
  // Each period's order is its own, paid by card, one key delivered each.
  const orders = await stack.db.order.findMany({
    where: { id: { in: orderIds }, clientId: shop.id },
    include: { units: true },
    orderBy: { createdAt: 'asc' },
  });
  expect(orders.map((o) => [o.externalOrderId, o.paymentMethod])).toEqual(
    [1, 2, 3].map((n) => [`subscription:${id}:${n}`, 'stripe']),
  );
  for (const order of orders) {
    expect(order.units.filter((u) => u.status === 'delivered' && u.cardKeyId)).toHaveLength(1);
  }
});
