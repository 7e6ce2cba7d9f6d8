// Issue 29: "a claim review approved after its deadline answers 200 and the next claim
// reveals (order reviews correctly answer 409)". A review's deadline is when the policy's
// default decides it; an analyst's decision after it is 409 `review_decided`, for a claim as
// for an order, and the claim follows the default — whichever way the default goes.
import { randomUUID } from 'node:crypto';
import { adminKey, staffApi } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';

let stack: TestStack;
let analyst: ReturnType<typeof clientFor>;
beforeAll(async () => {
  stack = await startStack();
  analyst = await staffApi(stack, 'risk-analyst');
});
afterAll(() => stack?.close());

// Public addresses geoip-lite places in China (one per test, and none another suite orders
// from: every suite of a run shares one database, and with it the risk rules' per-address
// velocity) and in the United States.
const CN_IPS = ['223.5.5.5', '180.76.76.76', '119.29.29.29'];
const US_IP = '208.67.222.222';

async function claim(claimUrl: string, ip: string) {
  const res = await fetch(claimUrl, { headers: { 'x-forwarded-for': ip } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** A delivered order placed from China whose claim from the US is held for review. */
async function heldClaim(onDeadline: 'approve' | 'reject', orderIp: string) {
  const { sku, api } = await shopWithStock(stack, { stock: 1, topUp: PRICE });
  const admin = clientFor(stack.url, await adminKey(stack));
  const policy = await admin.patch(`/v1/risk/policies/${sku}`, { review: { deadlineSeconds: 600, onDeadline } });
  expect(policy.status).toBe(200);
  const placed = await api.post('/v1/orders', {
    externalOrderId: `ext-${randomUUID()}`,
    buyer: { id: `buyer-${randomUUID()}`, ip: orderIp },
    items: [{ sku, quantity: 1 }],
  });
  const order = await waitForTerminal(api, placed.body.id);
  expect(order.status).toBe('delivered');
  expect(await claim(order.claimUrl, US_IP)).toMatchObject({ status: 202, body: { status: 'under_review' } });
  const review = await stack.db.riskReview.findFirstOrThrow({ where: { orderId: order.id, subject: 'claim' } });
  expect(review).toMatchObject({ status: 'open', onDeadline: onDeadline === 'approve' ? 'approved' : 'rejected' });
  return { order, review };
}

/** Time passes: the review's deadline is now behind it (its 10-minute wait, without waiting it out). */
async function pastItsDeadline(reviewId: string) {
  await stack.db.riskReview.update({ where: { id: reviewId }, data: { deadline: new Date(Date.now() - 1000) } });
}

test('approved after a reject-by-default deadline: 409, and the claim is rejected', async () => {
  const { order, review } = await heldClaim('reject', CN_IPS[0]!);
  await pastItsDeadline(review.id);

  const late = await analyst.post(`/v1/risk/reviews/${review.id}/decision`, { decision: 'approve', note: 'too late' });
  expectProblem(late, 409, 'review_decided');
  expect(late.body.title).toMatch(/rejected \(deadline/);
  expect(await stack.db.riskReview.findUniqueOrThrow({ where: { id: review.id } })).toMatchObject({
    status: 'rejected',
    decidedVia: 'deadline',
    decidedBy: 'risk-deadline',
  });

  for (const ip of [US_IP, CN_IPS[0]!]) {
    expect(await claim(order.claimUrl, ip)).toMatchObject({ status: 403, body: { code: 'claim_rejected' } });
  }
  expect((await stack.db.order.findUniqueOrThrow({ where: { id: order.id } })).claimedAt).toBeNull();
  const decisions = await stack.db.auditLog.findMany({
    where: { subjectId: review.id, action: 'risk.review_decided' },
  });
  expect(decisions.map((d) => d.actor)).toEqual(['risk-deadline']);
});

test('rejected after an approve-by-default deadline: 409, and the next claim reveals', async () => {
  const { order, review } = await heldClaim('approve', CN_IPS[1]!);
  await pastItsDeadline(review.id);

  const late = await analyst.post(`/v1/risk/reviews/${review.id}/decision`, { decision: 'reject', note: 'too late' });
  expectProblem(late, 409, 'review_decided');
  expect(await stack.db.riskReview.findUniqueOrThrow({ where: { id: review.id } })).toMatchObject({
    status: 'approved',
    decidedVia: 'deadline',
  });
  const revealed = await claim(order.claimUrl, US_IP);
  expect(revealed.status).toBe(200);
  expect(revealed.body.items[0].codes).toHaveLength(1);
});

test('decided before its deadline, the analyst’s decision stands', async () => {
  const { order, review } = await heldClaim('reject', CN_IPS[2]!);
  const inTime = await analyst.post(`/v1/risk/reviews/${review.id}/decision`, { decision: 'approve', note: 'ok' });
  expect(inTime.status).toBe(200);
  expect((await claim(order.claimUrl, US_IP)).status).toBe(200);
});
