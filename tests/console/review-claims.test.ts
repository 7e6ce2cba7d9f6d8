// Two analysts working one queue, over real HTTP: opening a review claims it (one claim between
// any number of analysts opening it at once), others see the holder in the list and the detail
// and cannot decide it meanwhile, the claim lapses after inactivity, and the live stream shows
// the queue by deadline as reviews open, get claimed and get decided elsewhere.
import { randomUUID } from 'node:crypto';
import { createClientViaApi, staffApi } from '../support/clients';
import { clientFor, expectProblem, request } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';
import { CLAIM_LAPSE_MS } from '../../domain/review-claims';

jest.setTimeout(120_000);

/** An analyst's API client, with DELETE and the key itself (for the stream). */
async function analystApi() {
  const { apiKey } = await createClientViaApi(stack, 'risk-analyst', { name: `analyst ${randomUUID().slice(0, 8)}` });
  return {
    ...clientFor(stack.url, apiKey),
    del: (path: string) => request(stack.url, 'DELETE', path, undefined, { key: apiKey }),
    key: apiKey,
  };
}
type Api = Awaited<ReturnType<typeof analystApi>>;

let stack: TestStack;
let alice: Api;
let bob: Api;
beforeAll(async () => {
  stack = await startStack();
  alice = await analystApi();
  bob = await analystApi();
});
afterAll(() => stack?.close());

/** Orders of a SKU whose policy reviews every order from the tests' unlocatable address, with this deadline. */
async function reviewedOrders(count: number, deadlineSeconds = 3600) {
  const shop = await shopWithStock(stack, { stock: count, topUp: 10 * count * PRICE });
  expect(
    (
      await shop.admin.patch(`/v1/risk/policies/${shop.sku}`, {
        thresholds: { review: 20, block: 200 },
        review: { deadlineSeconds },
      })
    ).status,
  ).toBe(200);
  const orderIds: string[] = [];
  for (let i = 0; i < count; i++) orderIds.push((await shop.api.post('/v1/orders', orderBody(shop.sku))).body.id);
  const reviews: { id: string; orderId: string }[] = [];
  await waitFor(async () => {
    const page = await alice.get('/v1/risk/reviews?limit=100');
    reviews.splice(0, reviews.length, ...page.body.reviews.filter((r: any) => orderIds.includes(r.orderId)));
    return reviews.length === count;
  }, 'the reviews');
  return { shop, orderIds, reviews };
}

const nameOf = async (api: Pick<Api, 'get'>) => `client:${(await api.get('/v1/me')).body.name}`;

test('opening a review claims it: one holder among analysts claiming at once, seen by the others, who cannot decide it', async () => {
  const { shop, reviews } = await reviewedOrders(1);
  const review = reviews[0]!;
  const carol = await analystApi();
  const tries = await Promise.all(
    [alice, bob, carol, alice, bob].map((a) => a.post(`/v1/risk/reviews/${review.id}/claim`)),
  );
  const won = tries.filter((t) => t.status === 200);
  const lost = tries.filter((t) => t.status !== 200);
  const holder = won[0]!.body.claim.by;
  expect(new Set(won.map((t) => t.body.claim.by))).toEqual(new Set([holder]));
  for (const t of lost) expectProblem(t, 409, 'review_claimed');
  expect(await stack.db.auditLog.count({ where: { action: 'risk.review_claimed', subjectId: review.id } })).toBe(1);

  // Everybody sees who holds it, in the list and in the detail.
  const holderApi = (await nameOf(alice)) === holder ? alice : (await nameOf(bob)) === holder ? bob : carol;
  const other = holderApi === alice ? bob : alice;
  const listed = (await other.get('/v1/risk/reviews?order=deadline&limit=100')).body.reviews.find(
    (r: any) => r.id === review.id,
  );
  expect(listed).toMatchObject({ claim: { by: holder }, items: [{ sku: shop.sku, quantity: 1 }] });
  // The holder's second try renewed the claim: it lapses ten minutes after their last sign of work.
  const lapse = Date.parse(listed.claim.lapsesAt) - Date.parse(listed.claim.since);
  expect(lapse).toBeGreaterThanOrEqual(CLAIM_LAPSE_MS);
  expect(lapse).toBeLessThan(CLAIM_LAPSE_MS + 5_000);
  expect((await other.get(`/v1/risk/reviews/${review.id}`)).body.claim).toMatchObject({ by: holder });

  // Another analyst cannot decide it while the claim holds, nor release it; the holder can.
  expectProblem(
    await other.post(`/v1/risk/reviews/${review.id}/decision`, { decision: 'reject', note: 'mine now' }),
    409,
    'review_claimed',
  );
  expect((await other.del(`/v1/risk/reviews/${review.id}/claim`)).status).toBe(204);
  expect((await other.get(`/v1/risk/reviews/${review.id}`)).body.claim).toMatchObject({ by: holder });
  const decision = await holderApi.post(`/v1/risk/reviews/${review.id}/decision`, { decision: 'approve', note: 'ok' });
  expect(decision.status).toBe(200);
  expect((await waitForTerminal(shop.api, review.orderId)).status).toBe('delivered');
  // A decided review is not claimed again, and lists without a holder.
  expectProblem(await other.post(`/v1/risk/reviews/${review.id}/claim`), 409, 'review_decided');
  const decided = (await other.get('/v1/risk/reviews?status=approved&limit=100')).body.reviews.find(
    (r: any) => r.id === review.id,
  );
  expect(decided.claim).toBeNull();
});

test('a claim lapses after inactivity and another analyst takes it over; renewing keeps it; giving it back frees it', async () => {
  const { reviews } = await reviewedOrders(1);
  const id = reviews[0]!.id;
  expect((await alice.post(`/v1/risk/reviews/${id}/claim`)).status).toBe(200);
  // Alice's renewal moves the lapse forward; Bob still cannot take it.
  const first = await stack.db.riskReview.findUniqueOrThrow({ where: { id } });
  await new Promise((r) => setTimeout(r, 20));
  const renewed = await alice.post(`/v1/risk/reviews/${id}/claim`);
  expect(Date.parse(renewed.body.claim.lapsesAt)).toBeGreaterThan(first.claimSeenAt!.getTime() + CLAIM_LAPSE_MS);
  expect(renewed.body.claim.since).toBe(first.claimedAt!.toISOString());
  expectProblem(await bob.post(`/v1/risk/reviews/${id}/claim`), 409, 'review_claimed');

  // Ten minutes without a sign of work (set back in the database rather than waited for).
  await stack.db.riskReview.update({
    where: { id },
    data: { claimSeenAt: new Date(Date.now() - CLAIM_LAPSE_MS - 1000) },
  });
  expect((await bob.get(`/v1/risk/reviews/${id}`)).body.claim).toBeNull();
  const taken = await bob.post(`/v1/risk/reviews/${id}/claim`);
  expect(taken.status).toBe(200);
  expect(taken.body.claim.by).toBe(await nameOf(bob));
  const audit = await stack.db.auditLog.findMany({
    where: { action: 'risk.review_claimed', subjectId: id },
    orderBy: { id: 'asc' },
  });
  expect(audit.map((a) => a.actor)).toEqual([await nameOf(alice), await nameOf(bob)]);
  expect(audit[1]!.details).toMatchObject({ previousHolder: await nameOf(alice) });

  expect((await bob.del(`/v1/risk/reviews/${id}/claim`)).status).toBe(204);
  expect((await alice.get(`/v1/risk/reviews/${id}`)).body.claim).toBeNull();
  expect((await alice.post(`/v1/risk/reviews/${id}/claim`)).status).toBe(200);
});

test('claims are for analysts and admins only, on reviews that exist; a refused claim writes nothing', async () => {
  const { reviews } = await reviewedOrders(1);
  const id = reviews[0]!.id;
  const support = await staffApi(stack, 'support');
  const audits = await stack.db.auditLog.count();
  expectProblem(await support.post(`/v1/risk/reviews/${id}/claim`), 403, 'forbidden');
  expectProblem(await support.get('/v1/risk/reviews/stream'), 403, 'forbidden');
  expectProblem(await alice.post('/v1/risk/reviews/not-a-uuid/claim'), 404, 'not_found');
  expectProblem(await alice.post('/v1/risk/reviews/00000000-0000-4000-8000-000000000000/claim'), 404, 'not_found');
  expectProblem(await alice.get('/v1/risk/reviews?order=newest'), 422, 'validation_failed');
  expect(await stack.db.auditLog.count()).toBe(audits);
  expect((await stack.db.riskReview.findUniqueOrThrow({ where: { id } })).claimedBy).toBeNull();
});

/** Reads a server-sent event stream with fetch (a bearer key, as the console does); each `queue` event's data. */
function openStream(key: string) {
  const controller = new AbortController();
  const events: any[] = [];
  const done = (async () => {
    const res = await fetch(`${stack.url}/v1/risk/reviews/stream`, {
      headers: { authorization: `Bearer ${key}` },
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (block.includes('event: queue') && data) events.push(JSON.parse(data.slice(6)));
      }
    }
  })().catch((err: unknown) => {
    if ((err as Error).name !== 'AbortError') throw err;
  });
  return { events, close: () => (controller.abort(), done) };
}

test('the stream shows the open queue soonest due first, and every opening, claim and decision without a reload', async () => {
  const stream = openStream((await analystApi()).key);
  try {
    await waitFor(() => stream.events.length > 0, 'the first snapshot');
    const later = await reviewedOrders(1, 7200);
    const sooner = await reviewedOrders(1, 1800);
    const ids = [sooner.reviews[0]!.id, later.reviews[0]!.id];
    const latest = () => stream.events.at(-1).reviews.filter((r: any) => ids.includes(r.id));
    await waitFor(() => latest().length === 2, 'both reviews in the stream');
    expect(latest().map((r: any) => r.id)).toEqual(ids);

    await alice.post(`/v1/risk/reviews/${ids[0]}/claim`);
    const aliceName = await nameOf(alice);
    await waitFor(() => latest()[0]?.claim?.by === aliceName, "alice's claim in the stream");

    await alice.post(`/v1/risk/reviews/${ids[0]}/decision`, { decision: 'reject', note: 'mule' });
    await waitFor(() => latest().length === 1 && latest()[0].id === ids[1], 'the decided review gone from the stream');
    // Nothing changed since: the stream does not repeat itself.
    const count = stream.events.length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(stream.events.length).toBe(count);
  } finally {
    await stream.close();
  }
});
