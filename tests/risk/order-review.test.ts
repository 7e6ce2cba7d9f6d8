// Risk control in the order workflow, end to end: a blocked order is rejected before any
// money or stock moves; a flagged one waits in review for an analyst's decision (a workflow
// Update the validator screens) or for its policy's deadline; every decision is made once.
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { staffApi } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';
import { reviewDecisionUpdate } from '../../workflows/order-messages';

jest.setTimeout(90_000);

let stack: TestStack;
let analyst: ReturnType<typeof clientFor>;
beforeAll(async () => {
  stack = await startStack();
  analyst = await staffApi(stack, 'risk-analyst');
});
afterAll(() => stack?.close());

/**
 * A shop whose SKU reviews every order from an address that cannot be located (the tests'
 * 203.0.113.7 scores `unknown_ip`, 20) — the smallest policy change that sends orders to review.
 */
async function reviewedShop(review: { deadlineSeconds?: number; onDeadline?: 'approve' | 'reject' } = {}) {
  const shop = await shopWithStock(stack, { stock: 2, topUp: 10 * PRICE });
  const set = await shop.admin.patch(`/v1/risk/policies/${shop.sku}`, {
    thresholds: { review: 20, block: 200 },
    ...(Object.keys(review).length > 0 ? { review } : {}),
  });
  expect(set.status).toBe(200);
  return shop;
}

async function openReviewOf(orderId: string) {
  let review: { id: string } | undefined;
  await waitFor(async () => {
    const page = await analyst.get('/v1/risk/reviews?status=open&kind=order&limit=100');
    review = page.body.reviews.find((r: { orderId: string }) => r.orderId === orderId);
    return review !== undefined;
  }, `a review of ${orderId}`);
  return review!;
}

async function moneyMovedFor(orderId: string) {
  return stack.db.ledgerTransaction.count({ where: { orderId } });
}

test('a deny-listed buyer is rejected with the reason, before anything is charged or reserved', async () => {
  const { sku, api, admin } = await shopWithStock(stack, { stock: 1, topUp: 5 * PRICE });
  const body = orderBody(sku);
  expect(
    (await admin.post('/v1/risk/lists', { list: 'deny', kind: 'buyer', value: body.buyer.id, note: 'chargebacks' }))
      .status,
  ).toBe(201);
  const order = await waitForTerminal(api, (await api.post('/v1/orders', body)).body.id);
  expect(order.status).toBe('rejected');
  expect(order.history.at(-1).reason).toMatch(/^risk block .*is on the deny list: chargebacks/);
  expect(await moneyMovedFor(order.id)).toBe(0);
  expect(await stack.db.orderUnit.count({ where: { orderId: order.id, cardKeyId: { not: null } } })).toBe(0);
  expect((await api.get('/v1/balance')).body.available.minor).toBe(5 * PRICE);
});

test('a flagged order waits in review; an approval sends it on to delivery, once', async () => {
  const { sku, api } = await reviewedShop();
  const placed = await api.post('/v1/orders', orderBody(sku));
  const review = await openReviewOf(placed.body.id);
  expect((await api.get(`/v1/orders/${placed.body.id}`)).body.status).toBe('in_review');
  expect(await moneyMovedFor(placed.body.id)).toBe(0);

  // The evidence: every rule's score and reason, the facts, the buyer's other orders; no key.
  const evidence = (await analyst.get(`/v1/risk/reviews/${review.id}`)).body;
  expect(evidence).toMatchObject({ kind: 'order', status: 'open', score: 20, order: { id: placed.body.id } });
  expect(evidence.assessment.verdict.results).toHaveLength(8);
  expect(evidence.assessment.verdict.reasons[0]).toMatch(/203\.0\.113\.7/);
  expect(evidence.assessment.facts.velocity.buyer['1m'].orders).toBe(1);
  expect(Array.isArray(evidence.buyerRecentOrders)).toBe(true);

  const decided = await analyst.post(`/v1/risk/reviews/${review.id}/decision`, {
    decision: 'approve',
    note: 'known corporate buyer',
  });
  expect(decided.status).toBe(200);
  expect(decided.body).toMatchObject({ status: 'approved', orderId: placed.body.id });
  const order = await waitForTerminal(api, placed.body.id);
  expect(order.status).toBe('delivered');
  expect(order.history.map((h: { status: string }) => h.status)).toEqual([
    'received',
    'in_review',
    'received',
    'fulfilling',
    'delivered',
  ]);
  expectProblem(
    await analyst.post(`/v1/risk/reviews/${review.id}/decision`, { decision: 'reject', note: 'second thoughts' }),
    409,
    'review_decided',
  );
  const audit = await stack.db.auditLog.findMany({ where: { subjectId: review.id, action: 'risk.review_decided' } });
  expect(audit).toHaveLength(1);
  expect(audit[0]).toMatchObject({
    reason: 'known corporate buyer',
    details: { decision: 'approved', via: 'analyst' },
  });
});

test('a rejection ends the order rejected, nothing charged; only analysts may decide', async () => {
  const { sku, api, admin } = await reviewedShop();
  const placed = await api.post('/v1/orders', orderBody(sku));
  const review = await openReviewOf(placed.body.id);
  for (const caller of [api, await staffApi(stack, 'support')]) {
    expectProblem(
      await caller.post(`/v1/risk/reviews/${review.id}/decision`, { decision: 'approve', note: 'me' }),
      403,
      'forbidden',
    );
    expectProblem(await caller.get('/v1/risk/reviews'), 403, 'forbidden');
  }
  expectProblem(
    await analyst.post(`/v1/risk/reviews/${review.id}/decision`, { decision: 'maybe', note: 'x' }),
    422,
    'validation_failed',
  );
  expect(
    (await admin.post(`/v1/risk/reviews/${review.id}/decision`, { decision: 'reject', note: 'reseller' })).status,
  ).toBe(200);
  const order = await waitForTerminal(api, placed.body.id);
  expect(order.status).toBe('rejected');
  expect(order.history.at(-1).reason).toBe('risk review rejected: reseller');
  expect(await moneyMovedFor(order.id)).toBe(0);
});

test('two analysts deciding at once: one decision stands, the other is told so', async () => {
  const { sku, api } = await reviewedShop();
  const placed = await api.post('/v1/orders', orderBody(sku));
  const review = await openReviewOf(placed.body.id);
  const answers = await Promise.all(
    (['approve', 'reject'] as const).map((decision) =>
      analyst.post(`/v1/risk/reviews/${review.id}/decision`, { decision, note: decision }),
    ),
  );
  expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
  const winner = answers.find((a) => a.status === 200)!.body.status;
  const order = await waitForTerminal(api, placed.body.id);
  expect(order.status).toBe(winner === 'approved' ? 'delivered' : 'rejected');
});

test('the workflow refuses, at once, a decision it is not waiting for', async () => {
  const { sku, api } = await reviewedShop();
  const placed = await api.post('/v1/orders', orderBody(sku));
  const review = await openReviewOf(placed.body.id);
  const { workflowId } = await stack.db.order.findUniqueOrThrow({ where: { id: placed.body.id } });
  const handle = stack.deps.temporal.workflow.getHandle(workflowId);
  await expect(
    handle.executeUpdate(reviewDecisionUpdate, {
      args: [{ reviewId: randomUUID(), decision: 'approve', actor: { clientId: null, name: 'test' } }],
    }),
  ).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
  expect((await stack.db.riskReview.findUniqueOrThrow({ where: { id: review.id } })).status).toBe('open');
  expect(
    (await analyst.post(`/v1/risk/reviews/${review.id}/decision`, { decision: 'approve', note: 'ok' })).status,
  ).toBe(200);
  expect((await waitForTerminal(api, placed.body.id)).status).toBe('delivered');
});

test("past the policy's deadline the default applies, recorded as such, and a late analyst is told", async () => {
  const { sku, api } = await reviewedShop({ deadlineSeconds: 10, onDeadline: 'approve' });
  const placed = await api.post('/v1/orders', orderBody(sku));
  const review = await openReviewOf(placed.body.id);
  const order = await waitForTerminal(api, placed.body.id, 40_000);
  expect(order.status).toBe('delivered');
  expect(await stack.db.riskReview.findUniqueOrThrow({ where: { id: review.id } })).toMatchObject({
    status: 'approved',
    decidedVia: 'deadline',
    decidedBy: 'risk-deadline',
  });
  expect(
    order.history.find((h: { status: string; reason?: string }) => h.status === 'received' && h.reason)?.reason,
  ).toBe('risk review not decided in time: approved by policy');
  expectProblem(
    await analyst.post(`/v1/risk/reviews/${review.id}/decision`, { decision: 'reject', note: 'too late' }),
    409,
    'review_decided',
  );
});

test('the queue is oldest first, filtered by kind and status, and pages by cursor', async () => {
  const { sku, api } = await reviewedShop();
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await api.post('/v1/orders', orderBody(sku))).body.id);
  for (const id of ids) await openReviewOf(id);
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await analyst.get(
      `/v1/risk/reviews?status=open&kind=order&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(page.status).toBe(200);
    seen.push(...page.body.reviews.map((r: { orderId: string }) => r.orderId));
    const times = page.body.reviews.map((r: { createdAt: string }) => r.createdAt);
    expect([...times].sort()).toEqual(times);
    cursor = page.body.nextCursor;
  } while (cursor);
  expect(ids.every((id) => seen.includes(id))).toBe(true);
  expect(
    (await analyst.get('/v1/risk/reviews?kind=claim')).body.reviews.every((r: { kind: string }) => r.kind === 'claim'),
  ).toBe(true);
  expectProblem(await analyst.get('/v1/risk/reviews?cursor=nonsense'), 422, 'validation_failed');
  // Leave nothing open behind: the rest of the suite's reconciliation expects settled orders.
  for (const id of ids) {
    const review = await openReviewOf(id);
    await analyst.post(`/v1/risk/reviews/${review.id}/decision`, { decision: 'reject', note: 'cleanup' });
    await waitForTerminal(api, id);
  }
});
