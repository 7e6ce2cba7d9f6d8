// Risk control on the two paths scalpers and stolen accounts use: a burst of orders for a hot
// SKU from a few buyers sharing devices, and a claim from the other side of the world.
import { randomUUID } from 'node:crypto';
import { staffApi } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

let stack: TestStack;
let analyst: ReturnType<typeof clientFor>;
beforeAll(async () => {
  stack = await startStack();
  analyst = await staffApi(stack, 'risk-analyst');
});
afterAll(() => stack?.close());

// Public addresses geoip-lite places: Beijing-area China and the United States.
const CN_IP = '114.114.114.114';
const US_IP = '8.8.8.8';

function order(sku: string, buyer: { id: string; ip: string; deviceId?: string }) {
  return { externalOrderId: `ext-${randomUUID()}`, buyer, items: [{ sku, quantity: 1 }] };
}

async function claim(claimUrl: string, ip: string) {
  const res = await fetch(claimUrl, { headers: { 'x-forwarded-for': ip } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function claimReviewOf(orderId: string) {
  const page = await analyst.get('/v1/risk/reviews?status=open&kind=claim&limit=100');
  return page.body.reviews.find((r: { orderId: string }) => r.orderId === orderId) as { id: string } | undefined;
}

describe('a claim from a country far from the order', () => {
  async function deliveredFromChina() {
    const { sku, api } = await shopWithStock(stack, { stock: 1, topUp: PRICE });
    const placed = await api.post('/v1/orders', order(sku, { id: `buyer-${randomUUID()}`, ip: CN_IP }));
    const delivered = await waitForTerminal(api, placed.body.id);
    expect(delivered.status).toBe('delivered');
    return delivered;
  }

  test('is held; once an analyst approves, the next claim reveals', async () => {
    const delivered = await deliveredFromChina();
    const held = await claim(delivered.claimUrl, US_IP);
    expect(held).toEqual({ status: 202, body: expect.objectContaining({ status: 'under_review' }) });
    expect((await claim(delivered.claimUrl, US_IP)).status).toBe(202);
    expect((await stack.db.order.findUniqueOrThrow({ where: { id: delivered.id } })).claimedAt).toBeNull();

    const review = await claimReviewOf(delivered.id);
    expect(review).toBeDefined();
    const evidence = (await analyst.get(`/v1/risk/reviews/${review!.id}`)).body;
    expect(evidence.travel).toMatchObject({
      from: { ip: CN_IP, geo: { country: 'CN' } },
      to: { ip: US_IP, geo: { country: 'US' } },
    });
    expect(evidence.travel.distanceKm).toBeGreaterThan(9000);
    expect(evidence.travel.impliedSpeedKmh).toBeGreaterThan(900);
    const rules = Object.fromEntries(
      evidence.assessment.verdict.results.map((r: { rule: string; score: number }) => [r.rule, r.score]),
    );
    expect(rules.country_mismatch).toBeGreaterThan(0);
    expect(rules.impossible_travel).toBeGreaterThan(0);
    expect(JSON.stringify(evidence)).not.toMatch(/VIP-/);

    expect(
      (await analyst.post(`/v1/risk/reviews/${review!.id}/decision`, { decision: 'approve', note: 'travelling' }))
        .status,
    ).toBe(200);
    const revealed = await claim(delivered.claimUrl, US_IP);
    expect(revealed.status).toBe(200);
    expect(revealed.body.items[0].codes).toHaveLength(1);
    expect((await stack.db.order.findUniqueOrThrow({ where: { id: delivered.id } })).claimIp).toBe(US_IP);
  });

  test('rejected: the codes are never revealed', async () => {
    const delivered = await deliveredFromChina();
    expect((await claim(delivered.claimUrl, US_IP)).status).toBe(202);
    const review = await claimReviewOf(delivered.id);
    expect(
      (await analyst.post(`/v1/risk/reviews/${review!.id}/decision`, { decision: 'reject', note: 'stolen account' }))
        .status,
    ).toBe(200);
    for (const ip of [US_IP, CN_IP]) {
      const refused = await claim(delivered.claimUrl, ip);
      expect(refused).toMatchObject({ status: 403, body: { code: 'claim_rejected' } });
    }
    expect((await stack.db.order.findUniqueOrThrow({ where: { id: delivered.id } })).claimedAt).toBeNull();
    const reveals = await stack.db.auditLog.count({ where: { subjectId: delivered.id, action: 'claim.revealed' } });
    expect(reveals).toBe(0);
  });

  test('a claim from where the order was placed reveals at once', async () => {
    const delivered = await deliveredFromChina();
    expect((await claim(delivered.claimUrl, CN_IP)).status).toBe(200);
    expect(await claimReviewOf(delivered.id)).toBeUndefined();
  });
});

test('a scalper burst (50 orders, 10 buyers, 2 devices, one minute) is held; ordinary buyers are not', async () => {
  const { sku, api } = await shopWithStock(stack, { stock: 60, topUp: 60 * PRICE });
  const burst = Array.from({ length: 50 }, (_, i) => {
    const buyer = i % 10;
    return order(sku, {
      id: `scalper-${sku}-${buyer}`,
      ip: `61.135.169.${buyer + 1}`,
      deviceId: `farm-${sku}-${buyer % 2}`,
    });
  });
  const ordinary = [US_IP, '81.2.69.142', CN_IP, '2001:4860:4860::8888'].map((ip, i) =>
    order(sku, { id: `fan-${sku}-${i}`, ip, deviceId: `phone-${sku}-${i}` }),
  );
  // The burst arrives in waves of ten; the ordinary buyers order in the middle of it.
  const ids: { burst: string[]; ordinary: string[] } = { burst: [], ordinary: [] };
  for (let wave = 0; wave < 5; wave++) {
    const placed = await Promise.all(burst.slice(wave * 10, wave * 10 + 10).map((b) => api.post('/v1/orders', b)));
    ids.burst.push(...placed.map((p) => p.body.id));
    if (wave === 2)
      ids.ordinary.push(...(await Promise.all(ordinary.map((b) => api.post('/v1/orders', b)))).map((p) => p.body.id));
  }
  const statusOf = async (id: string) => (await api.get(`/v1/orders/${id}`)).body.status as string;
  await waitFor(
    async () =>
      (await Promise.all([...ids.burst, ...ids.ordinary].map(statusOf))).every(
        (s) => s !== 'received' && s !== 'fulfilling',
      ),
    'every order assessed',
    60_000,
  );
  const burstStatuses = await Promise.all(ids.burst.map(statusOf));
  const held = burstStatuses.filter((s) => s === 'in_review' || s === 'rejected').length;
  // Only the first orders, before any limit was reached, can have gone through.
  expect(held).toBeGreaterThanOrEqual(40);
  expect(await Promise.all(ids.ordinary.map(statusOf))).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);

  // Close the held ones (reviews rejected), so nothing is left waiting.
  const open = await stack.db.riskReview.findMany({ where: { orderId: { in: ids.burst }, status: 'open' } });
  for (const review of open) {
    expect(
      (await analyst.post(`/v1/risk/reviews/${review.id}/decision`, { decision: 'reject', note: 'scalper' })).status,
    ).toBe(200);
  }
  const final = await Promise.all(ids.burst.map((id) => waitForTerminal(api, id)));
  expect(final.filter((o) => o.status === 'rejected')).toHaveLength(held);
  expectProblem(await api.get('/v1/risk/reviews'), 403, 'forbidden');
});
