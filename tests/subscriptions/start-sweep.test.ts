// A subscription committed whose renewal workflow never started — intake answered 503 with
// Temporal away and nobody sent it again, or the API was killed between the commit and the
// start — is started by the sweep (api/subscription-starts.ts) with no request at all, and
// its first period is charged and delivered once. A subscription whose workflow runs is not
// swept.
import { createSubscriptionStarts, startSubscription } from '../../api/subscription-starts';
import { CreateSubscriptionBody } from '../../domain/subscriptions/request';
import { workflowIds } from '../../domain/workflow-ids';
import { createSubscription } from '../../store/subscriptions/intake';
import { activityGate } from '../support/activity-gate';
import { clientFor, expectProblem } from '../support/http';
import { PRICE } from '../support/orders';
import { subscriptionBody, subscriptionShop, subscriptionSuite, waitForSubscription } from '../support/subscriptions';
import { apiWithoutTemporal, runsOf, workflowExists } from '../support/temporal-down';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

// Months of five minutes: period 2 is not due while the test counts period 1's charges.
const gate = activityGate();
const suite = subscriptionSuite(() => ({ SUBSCRIPTION_SECONDS_PER_MONTH: '300' }), {
  workerOptions: gate.workerOptions,
});
let down: Awaited<ReturnType<typeof apiWithoutTemporal>> | undefined;
beforeAll(async () => {
  down = await apiWithoutTemporal(suite.stack);
});
afterAll(async () => {
  await down?.close();
});

test('subscriptions whose start was lost are started by the sweep, once; period 1 is charged and delivered once', async () => {
  const { stack, receiver } = suite;
  const { sku, api, shop } = await subscriptionShop(stack, receiver, { stock: 5, topUp: 10 * PRICE });

  // Temporal away: the subscription is recorded, the start fails, the order system is told 503.
  const refused = await clientFor(down!.url, shop.apiKey).post('/v1/subscriptions', subscriptionBody(sku));
  expectProblem(refused, 503, 'workflow_unavailable');
  const viaOutage = await stack.db.subscription.findFirstOrThrow({
    where: { clientId: shop.id },
    orderBy: { createdAt: 'desc' },
  });
  // The API killed between commit and start: the row as intake commits it, no start at all.
  const body = CreateSubscriptionBody.parse(subscriptionBody(sku));
  const { subscription: viaKill } = await createSubscription(stack.db, shop.id, body, {
    buyerGeo: null,
    claimTokenSecret: stack.config.CLAIM_TOKEN_SECRET,
  });
  expect(viaKill.workflowId).toBe(workflowIds.subscription(shop.id, body.externalSubscriptionId));
  // Two whose start went through are never swept: one renewed (its next charge ahead), one
  // whose period 1 is being charged (nothing recorded yet and its charge due: only the
  // period's row shows its workflow ran).
  const running = await api.post('/v1/subscriptions', subscriptionBody(sku));
  expect(running.status).toBe(202);
  await waitForSubscription(api, running.body.id, (s) => s.currentPeriod >= 1, 'period 1 paid');
  const { subscription: charging } = await createSubscription(
    stack.db,
    shop.id,
    CreateSubscriptionBody.parse(subscriptionBody(sku)),
    { buyerGeo: null, claimTokenSecret: stack.config.CLAIM_TOKEN_SECRET },
  );
  const held = gate.hold(workflowIds.order(shop.id, `subscription:${charging.id}:1`), 'fulfilFromStock');
  await startSubscription(stack.deps.temporal, stack.config, charging);
  await waitFor(held.reached, 'period 1 of the charging subscription under way');
  expect(await stack.db.subscription.findUniqueOrThrow({ where: { id: charging.id } })).toMatchObject({
    lastSeq: 0,
    nextChargeAt: charging.anchorAt,
  });

  const lost = [viaOutage, viaKill];
  for (const s of lost) expect(await workflowExists(stack, s.workflowId)).toBe(false);

  // Younger than the idle time (30 s by default): left alone, a start may still be under way.
  expect(await createSubscriptionStarts(stack.deps).sweep({ clientId: shop.id })).toBe(0);
  for (const s of lost) expect(await workflowExists(stack, s.workflowId)).toBe(false);

  const sweeper = createSubscriptionStarts({
    ...stack.deps,
    config: { ...stack.config, ORDER_START_SWEEP_IDLE_MS: 0 },
  });
  try {
    expect(await sweeper.sweep({ clientId: shop.id })).toBe(2);
  } finally {
    // Held, the period's order would keep the worker (and the suite) from stopping.
    held.open();
  }
  for (const s of lost) {
    const paid = await waitForSubscription(api, s.id, (x) => x.currentPeriod >= 1, 'period 1 paid after the sweep');
    expect(paid.status).toBe('active');
    expect(paid.periods.map((p: any) => [p.number, p.outcome, p.orderStatus, p.attempts])).toEqual([
      [1, 'paid', 'delivered', 1],
    ]);
    expect(paid.history.map((h: any) => h.type)).toEqual(['created', 'renewed']);
  }

  // Swept again (period 1 recorded: the workflows ran): nothing is started.
  expect(await sweeper.sweep({ clientId: shop.id })).toBe(0);
  // Let a duplicate charge, if there were one, land before counting.
  await new Promise((r) => setTimeout(r, 1_000));
  for (const s of lost) {
    expect(await runsOf(stack, s.workflowId)).toBe(1);
    const orders = await stack.db.order.findMany({
      where: { clientId: shop.id, externalOrderId: { startsWith: `subscription:${s.id}:` } },
      include: { units: true },
    });
    expect(orders.map((o) => [o.externalOrderId, o.status])).toEqual([[`subscription:${s.id}:1`, 'delivered']]);
    expect(orders[0]!.units.filter((u) => u.status === 'delivered' && u.cardKeyId)).toHaveLength(1);
    const moves = await stack.db.ledgerTransaction.findMany({
      where: { orderId: orders[0]!.id },
      orderBy: { id: 'asc' },
    });
    expect(moves.map((m) => [m.kind, Number(m.amountMinor)])).toEqual([
      ['hold', PRICE],
      ['capture', PRICE],
    ]);
  }
  await waitForSubscription(api, charging.id, (x) => x.currentPeriod >= 1, 'the charging one paid');
  expect(await runsOf(stack, charging.workflowId)).toBe(1);
  // Four first periods paid from the balance, each once.
  expect((await api.get('/v1/balance')).body.available.minor).toBe(6 * PRICE);

  for (const id of [viaOutage.id, viaKill.id, running.body.id, charging.id]) {
    await api.post(`/v1/subscriptions/${id}/cancel`, {});
  }
});
