// The API the console's support desk stands on, over real HTTP: who a key belongs to
// (GET /v1/me), orders found by buyer and by top-up account (newest first, paged, an order
// system's own only), an order found by the code a buyer reads out (matched by fingerprint,
// the code never echoed), and the order's timeline — status, ledger, keys, claims with their
// address, webhooks from the workflow's history, compensations, audited reveals — without any
// code's plaintext, and without risk internals or staff actions for the order's own system.
import { randomUUID } from 'node:crypto';
import { adminKey, createClientViaApi, staffApi } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { orderBody, PRICE, shopWithStock, uniqueCodes, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { startWebhookReceiver } from '../support/webhook-receiver';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

let stack: TestStack;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
beforeAll(async () => {
  [stack, receiver] = await Promise.all([
    startStack({ config: { RATE_LIMIT_CLAIM_IP_REQUESTS: '0' } }),
    startWebhookReceiver(),
  ]);
});
afterAll(async () => {
  await stack?.close();
  await receiver?.close();
});

const auditCount = () => stack.db.auditLog.count();

test('GET /v1/me names the caller and its role, for every role', async () => {
  for (const role of ['order-system', 'support', 'risk-analyst', 'admin'] as const) {
    const client = await createClientViaApi(stack, role, { name: `me ${role} ${randomUUID().slice(0, 6)}` });
    const me = await clientFor(stack.url, client.apiKey).get('/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ id: client.id, name: expect.stringContaining(`me ${role}`), role });
    expect(me.headers.get('cache-control')).toBe('no-store');
  }
  expectProblem(await clientFor(stack.url, 'rp_not_a_key').get('/v1/me'), 401, 'unauthenticated');
});

test('orders by buyer: newest first, paged by cursor, an order system sees only its own', async () => {
  const a = await shopWithStock(stack, { stock: 3, topUp: 10 * PRICE });
  const b = await shopWithStock(stack, { stock: 1, topUp: 10 * PRICE });
  const buyer = `buyer-${randomUUID().slice(0, 8)}`;
  const place = async (shop: typeof a) => {
    const body = { ...orderBody(shop.sku), buyer: { id: buyer, ip: '203.0.113.9' } };
    const res = await shop.api.post('/v1/orders', body);
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const first = await place(a);
  const second = await place(b);
  const third = await place(a);
  const support = await staffApi(stack, 'support');

  const page1 = await support.get(`/v1/orders?buyerId=${buyer}&limit=2`);
  expect(page1.status).toBe(200);
  expect(page1.body.orders.map((o: any) => o.id)).toEqual([third, second]);
  expect(page1.body.orders[0]).toMatchObject({ buyerId: buyer, items: [{ sku: a.sku, quantity: 1 }] });
  const page2 = await support.get(`/v1/orders?buyerId=${buyer}&limit=2&cursor=${page1.body.nextCursor}`);
  expect(page2.body.orders.map((o: any) => o.id)).toEqual([first]);
  expect(page2.body.nextCursor).toBeUndefined();

  // The shop that placed two of them sees those two, and no staff-only client name.
  const own = await a.api.get(`/v1/orders?buyerId=${buyer}`);
  expect(own.body.orders.map((o: any) => o.id)).toEqual([third, first]);
  expect(own.body.orders[0].client).toBeUndefined();
  // Narrowing to another client does not widen an order system's scope.
  const other = await a.api.get(`/v1/orders?buyerId=${buyer}&clientId=${b.shop.id}`);
  expect(other.body.orders).toEqual([]);

  const analyst = await staffApi(stack, 'risk-analyst');
  expectProblem(await analyst.get(`/v1/orders?buyerId=${buyer}`), 403, 'forbidden');
  expectProblem(await support.get(`/v1/orders?buyerId=${buyer}&cursor=bm90LWEtY3Vyc29y`), 422, 'validation_failed');
  expectProblem(await support.get(`/v1/orders?buyerId=${buyer}&limit=0`), 422, 'validation_failed');
  expectProblem(await support.get(`/v1/orders?buyerId=%20x`), 422, 'validation_failed');
  expectProblem(await support.get(`/v1/orders?buyerId=${buyer}&surprise=1`), 422, 'validation_failed');
  // Without a buyer or an account, GET /v1/orders is still the lookup by external id.
  expect((await support.get(`/v1/orders?externalOrderId=nope`)).status).toBe(404);
});

test('orders by top-up account: any item of the order carrying that account', async () => {
  const admin = clientFor(stack.url, await adminKey(stack));
  const sku = `topup-${randomUUID().slice(0, 8)}`;
  expect(
    (
      await admin.post('/v1/products', {
        sku,
        name: 'Mobile credit 10',
        kind: 'direct_topup',
        price: { minor: 1000, currency: 'CNY' },
        accountPattern: '1[3-9][0-9]{9}',
      })
    ).status,
  ).toBe(201);
  const shop = await createClientViaApi(stack, 'order-system');
  await admin.post(`/v1/clients/${shop.id}/topups`, { amount: { minor: 5000, currency: 'CNY' } });
  const api = clientFor(stack.url, shop.apiKey);
  const account = `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const placed = await api.post('/v1/orders', {
    ...orderBody(sku),
    items: [{ sku, quantity: 1, account }],
  });
  expect(placed.status).toBe(202);
  const support = await staffApi(stack, 'support');
  const found = await support.get(`/v1/orders?account=${account}`);
  expect(found.body.orders.map((o: any) => o.id)).toEqual([placed.body.id]);
  expect(found.body.orders[0].items).toEqual([{ sku, quantity: 1, account }]);
  expect((await support.get(`/v1/orders?account=13000000000`)).body.orders).toEqual([]);
});

test('an order by the code the buyer reads out: matched by fingerprint in any spelling imports accept, never echoed', async () => {
  const shop = await shopWithStock(stack, { stock: 1, topUp: 5 * PRICE });
  const order = await waitForTerminal(shop.api, (await shop.api.post('/v1/orders', orderBody(shop.sku))).body.id);
  expect(order.status).toBe('delivered');
  const code: string = shop.codes[0]!;
  const support = await staffApi(stack, 'support');
  const analyst = await staffApi(stack, 'risk-analyst');
  const stranger = clientFor(stack.url, (await createClientViaApi(stack, 'order-system')).apiKey);
  const before = await auditCount();

  const bySku = await support.post('/v1/orders/search-by-code', { sku: shop.sku, code });
  expect(bySku.status).toBe(200);
  expect(bySku.body.matches).toEqual([
    expect.objectContaining({
      orderId: order.id,
      externalOrderId: order.externalOrderId,
      sku: shop.sku,
      unitId: order.items[0].units[0].id,
      unitStatus: 'delivered',
      keyStatus: 'delivered',
    }),
  ]);
  expect(bySku.text).not.toContain(code);
  expect(bySku.headers.get('cache-control')).toBe('no-store');
  // Without the SKU every card-key product is searched; a fullwidth, space-padded reading is the same key.
  const fullwidth = ` ${code.replace(/[A-Z0-9]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0))} `;
  const anySku = await support.post('/v1/orders/search-by-code', { code: fullwidth });
  expect(anySku.body.matches.map((m: any) => m.orderId)).toEqual([order.id]);

  expect((await support.post('/v1/orders/search-by-code', { code: `${code}X` })).body.matches).toEqual([]);
  // A key still in stock was never sold: nothing to find.
  const [unsold] = uniqueCodes(1);
  await shop.admin.post('/v1/inventory/batches', { sku: shop.sku, keys: [unsold] });
  expect((await support.post('/v1/orders/search-by-code', { code: unsold })).body.matches).toEqual([]);

  // The shop finds its own order; another shop finds nothing.
  expect((await shop.api.post('/v1/orders/search-by-code', { code })).body.matches).toHaveLength(1);
  expect((await stranger.post('/v1/orders/search-by-code', { code })).body.matches).toEqual([]);

  expectProblem(await support.post('/v1/orders/search-by-code', { sku: 'no-such-sku', code }), 422, 'unknown_sku');
  expectProblem(await support.post('/v1/orders/search-by-code', {}), 422, 'validation_failed');
  expectProblem(await support.post('/v1/orders/search-by-code', { code: 'a\u0000b' }), 422, 'validation_failed');
  expectProblem(await support.post('/v1/orders/search-by-code', { code, extra: 1 }), 422, 'validation_failed');
  expectProblem(await analyst.post('/v1/orders/search-by-code', { code }), 403, 'forbidden');
  // A search is a read: it leaves no trace beyond the unsold key's import above.
  expect(await auditCount()).toBe(before + 1);
});

test("an order's timeline: every record of it in time order, no code's plaintext, the owner's view without staff internals", async () => {
  const shop = await shopWithStock(stack, { stock: 1, topUp: 5 * PRICE, webhookUrl: receiver.url });
  const placed = await shop.api.post('/v1/orders', orderBody(shop.sku));
  const order = await waitForTerminal(shop.api, placed.body.id);
  expect(order.status).toBe('delivered');
  const unitId: string = order.items[0].units[0].id;
  await waitFor(() => receiver.received.some((w) => w.body.data.orderId === order.id), 'the delivery webhook');
  const claimed = await fetch(order.claimUrl);
  expect(claimed.status).toBe(200);
  const support = await staffApi(stack, 'support');
  const reveal = await support.post(`/v1/orders/${order.id}/units/${unitId}/reveal`, { reason: 'buyer on the phone' });
  expect(reveal.status).toBe(200);
  const spare = uniqueCodes(1);
  await shop.admin.post('/v1/inventory/batches', { sku: shop.sku, keys: spare, supplier: 'spare' });
  const comp = await support.post(`/v1/orders/${order.id}/units/${unitId}/compensations`, {
    action: 'reissue',
    reason: 'the code does not work',
  });
  expect(comp.status).toBe(202);
  await waitFor(
    async () => (await stack.db.compensation.findFirst({ where: { orderId: order.id } }))?.status === 'completed',
    'the reissue',
  );

  const before = await auditCount();
  const res = await support.get(`/v1/orders/${order.id}/timeline`);
  expect(res.status).toBe(200);
  expect(await auditCount()).toBe(before);
  const { entries } = res.body;
  expect(res.body).toMatchObject({ orderId: order.id, workflowId: expect.stringMatching(/^order:/) });
  expect(res.body.incomplete).toBeUndefined();
  const times = entries.map((e: any) => Date.parse(e.at));
  expect(times).toEqual([...times].sort((x, y) => x - y));
  const kinds = entries.map((e: any) => `${e.source}:${e.event}`);
  for (const kind of [
    'order:received',
    'order:status',
    'risk:assessed',
    'ledger:hold',
    'ledger:capture',
    'key:delivered',
    'claim:revealed',
    'webhook:sent',
    'audit:order.unit_revealed',
    'compensation:requested',
    'key:voided',
    'compensation:completed',
  ]) {
    expect(kinds).toContain(kind);
  }
  const statuses = entries
    .filter((e: any) => e.source === 'order' && e.event === 'status')
    .map((e: any) => e.data.status);
  expect(statuses).toEqual(order.history.map((h: any) => h.status));
  expect(entries.find((e: any) => e.source === 'claim')).toMatchObject({ data: { ip: '127.0.0.1', keys: 1 } });
  expect(entries.find((e: any) => e.source === 'webhook')).toMatchObject({
    data: { type: 'order.delivered', eventId: expect.any(String), httpStatus: 204, attempts: 1 },
  });
  expect(entries.find((e: any) => e.source === 'audit')).toMatchObject({
    actor: expect.stringContaining('support'),
    reason: 'buyer on the phone',
  });
  expect(entries.find((e: any) => e.event === 'requested')).toMatchObject({
    unitId,
    reason: 'the code does not work',
    data: { action: 'reissue', trigger: 'support' },
  });
  expect(entries.find((e: any) => e.source === 'compensation' && e.event === 'completed')).toMatchObject({
    data: { outcome: 'reissued', newUnitId: expect.any(String) },
  });
  // Neither the first key nor its replacement appears, in any field.
  for (const code of [...shop.codes, ...spare]) expect(res.text).not.toContain(code);

  // The order's own system reads the same story without risk, review and audit entries.
  const owned = await shop.api.get(`/v1/orders/${order.id}/timeline`);
  expect(owned.status).toBe(200);
  const ownSources = new Set(owned.body.entries.map((e: any) => e.source));
  for (const hidden of ['risk', 'review', 'audit']) expect(ownSources).not.toContain(hidden);
  expect(ownSources).toContain('webhook');
  expect(owned.text).not.toContain('costMinor');

  const stranger = clientFor(stack.url, (await createClientViaApi(stack, 'order-system')).apiKey);
  expectProblem(await stranger.get(`/v1/orders/${order.id}/timeline`), 404, 'not_found');
  expectProblem(await support.get(`/v1/orders/not-a-uuid/timeline`), 404, 'not_found');
  expectProblem(await support.get(`/v1/orders/${randomUUID()}/timeline`), 404, 'not_found');
});
