// A compensation's replacement has a claim link of its own: it is held by the same claim-time
// risk control as the order's link (a key once revealed cannot be taken back), and it reveals
// only a replacement that is still delivered — a replacement refunded since reveals nothing.
import { randomUUID } from 'node:crypto';
import { staffApi } from '../support/clients';
import type { clientFor } from '../support/http';
import { PRICE, shopWithStock, uniqueCodes, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';

jest.setTimeout(120_000);

// Public addresses geoip-lite places: Beijing-area China and the United States.
const CN_IP = '114.114.114.114';
const US_IP = '8.8.8.8';

let stack: TestStack;
let support: ReturnType<typeof clientFor>;
let analyst: ReturnType<typeof clientFor>;
beforeAll(async () => {
  stack = await startStack({ config: { RATE_LIMIT_CLAIM_IP_REQUESTS: '0' } });
  support = await staffApi(stack, 'support');
  analyst = await staffApi(stack, 'risk-analyst');
});
afterAll(() => stack?.close());

async function claim(claimUrl: string, ip: string) {
  const res = await fetch(claimUrl, { headers: { 'x-forwarded-for': ip } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** An order from China, claimed from China, whose key support has replaced: the replacement's claim link. */
async function reissuedFromChina() {
  const { sku, api, admin } = await shopWithStock(stack, { stock: 1, topUp: 5 * PRICE });
  const placed = await api.post('/v1/orders', {
    externalOrderId: `ext-${randomUUID()}`,
    buyer: { id: `buyer-${randomUUID()}`, ip: CN_IP },
    items: [{ sku, quantity: 1 }],
  });
  const order = await waitForTerminal(api, placed.body.id);
  expect((await claim(order.claimUrl, CN_IP)).status).toBe(200);
  expect((await admin.post('/v1/inventory/batches', { sku, keys: uniqueCodes(1), supplier: 'spare' })).status).toBe(
    201,
  );
  const unitId = order.items[0].units[0].id;
  const asked = await support.post(`/v1/orders/${order.id}/units/${unitId}/compensations`, {
    action: 'reissue',
    reason: 'the code does not work',
  });
  expect(asked.status).toBe(202);
  const workflowId = (await stack.db.compensation.findUniqueOrThrow({ where: { id: asked.body.id } })).workflowId;
  await stack.deps.temporal.workflow.getHandle(workflowId).result();
  const after = (await api.get(`/v1/orders/${order.id}`)).body;
  const compensation = after.items[0].units[0].compensations[0];
  expect(compensation.outcome).toBe('reissued');
  return { orderId: order.id, claimUrl: compensation.claimUrl as string, newUnitId: compensation.newUnitId as string };
}

test("a replacement's link claimed from far away is held for review like the order's, then revealed once approved", async () => {
  const { orderId, claimUrl } = await reissuedFromChina();
  const held = await claim(claimUrl, US_IP);
  expect(held).toEqual({ status: 202, body: expect.objectContaining({ status: 'under_review' }) });
  const page = await analyst.get('/v1/risk/reviews?status=open&kind=claim&limit=100');
  const review = page.body.reviews.find((r: { orderId: string }) => r.orderId === orderId);
  expect(review).toBeDefined();
  expect(
    (await analyst.post(`/v1/risk/reviews/${review.id}/decision`, { decision: 'approve', note: 'travelling' })).status,
  ).toBe(200);
  const revealed = await claim(claimUrl, US_IP);
  expect(revealed.status).toBe(200);
  expect(revealed.body.items[0].codes).toHaveLength(1);
  expect((await claim(claimUrl, US_IP)).status).toBe(410);
});

test('a replacement refunded before its link is used reveals nothing', async () => {
  const { orderId, claimUrl, newUnitId } = await reissuedFromChina();
  const refund = await support.post(`/v1/orders/${orderId}/refunds`, { unitIds: [newUnitId], reason: 'goodwill' });
  expect(refund.status).toBe(200);
  const refused = await claim(claimUrl, CN_IP);
  expect(refused.status).toBe(410);
  expect(refused.body.items).toBeUndefined();
});
