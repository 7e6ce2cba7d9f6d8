// Support compensates a bad key: a replacement from another batch or another supplier, or the
// unit refunded once when nothing can deliver; one incident however many times it is asked;
// no plaintext anywhere but the new claim link.
import { randomUUID } from 'node:crypto';
import { staffApi } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { orderBody, PRICE, shopWithStock, uniqueCodes, waitForTerminal } from '../support/orders';
import { addRoute, addSupplier, stackWithSuppliers } from '../support/suppliers';
import { waitFor } from '../support/wait';
import { startWebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(120_000);

const lines: string[] = [];
const env = stackWithSuppliers({ logDestination: { write: (line: string) => void lines.push(line) } });
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let support: ReturnType<typeof clientFor>;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  support = await staffApi(env.stack, 'support');
});
afterAll(() => receiver?.close());

/** Waits for the compensation's workflow to finish and returns the order as its owner sees it. */
async function settled(api: ReturnType<typeof clientFor>, compensationId: string) {
  const { orderId } = await env.stack.db.compensation.findUniqueOrThrow({ where: { id: compensationId } });
  await env.stack.deps.temporal.workflow.getHandle(await workflowIdOf(compensationId)).result();
  return (await api.get(`/v1/orders/${orderId}`)).body;
}

async function workflowIdOf(compensationId: string) {
  return (await env.stack.db.compensation.findUniqueOrThrow({ where: { id: compensationId } })).workflowId;
}

function compensate(orderId: string, unitId: string, body: object = {}) {
  return support.post(`/v1/orders/${orderId}/units/${unitId}/compensations`, {
    action: 'reissue',
    reason: 'buyer says the code is already used',
    ...body,
  });
}

test('a bad own-stock key: a key from another batch is delivered, the old one void, the webhook sent', async () => {
  const { sku, api, admin, codes } = await shopWithStock(env.stack, {
    stock: 1,
    topUp: 5 * PRICE,
    webhookUrl: receiver.url,
  });
  const order = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku))).body.id);
  expect(order.status).toBe('delivered');
  const second = uniqueCodes(1);
  expect((await admin.post('/v1/inventory/batches', { sku, keys: second, supplier: 'other' })).status).toBe(201);
  const unitId = order.items[0].units[0].id;

  const asked = await compensate(order.id, unitId);
  expect(asked.status).toBe(202);
  const after = await settled(api, asked.body.id);
  const [old, replacement] = after.items[0].units;
  expect(old).toMatchObject({ id: unitId, status: 'replaced' });
  expect(replacement).toMatchObject({ status: 'delivered', replacesUnitId: unitId });
  const history = old.compensations;
  expect(history).toHaveLength(1);
  expect(history[0]).toMatchObject({
    action: 'reissue',
    status: 'completed',
    outcome: 'reissued',
    newUnitId: replacement.id,
  });

  // The replacement's own link reveals the other batch's key, once.
  const revealed = (await fetch(history[0].claimUrl).then((r) => r.json())) as { items: { codes: string[] }[] };
  expect(revealed.items[0]!.codes).toEqual(second);
  expect((await fetch(history[0].claimUrl)).status).toBe(410);

  const units = await env.stack.db.orderUnit.findMany({ where: { orderId: order.id } });
  const keys = await env.stack.db.cardKey.findMany({ where: { id: { in: units.map((u) => u.cardKeyId!) } } });
  expect(keys.find((k) => k.id === units.find((u) => u.id === unitId)!.cardKeyId)).toMatchObject({
    status: 'void',
    voidReason: 'buyer says the code is already used',
  });
  await waitFor(() => receiver.received.some((w) => w.body.type === 'order.compensated'), 'the webhook');
  const hook = receiver.received.find((w) => w.body.type === 'order.compensated')!;
  expect(hook.body.data).toMatchObject({ orderId: order.id, unitId, outcome: 'reissued', newUnitId: replacement.id });

  // Nothing revealed the codes but the two claim links.
  const everything = [
    JSON.stringify(receiver.received),
    lines.join('\n'),
    JSON.stringify(
      await env.stack.deps.temporal.workflow
        .getHandle(
          asked.body.id
            ? (await env.stack.db.compensation.findUniqueOrThrow({ where: { id: asked.body.id } })).workflowId
            : '',
        )
        .fetchHistory(),
    ),
    JSON.stringify(after),
  ].join('\n');
  for (const code of [...codes, ...second]) expect(everything).not.toContain(code);
});

test('a bad supplier key is reissued from a different supplier', async () => {
  const { sku, api } = await shopWithStock(env.stack, { stock: 0, topUp: 5 * PRICE });
  const first = await addSupplier(env.sim.url, env.admin, {
    products: { P: { kind: 'card_key', costMinor: 1000, stock: 5 } },
  });
  const second = await addSupplier(env.sim.url, env.admin, {
    products: { P: { kind: 'card_key', costMinor: 1000, stock: 5 } },
  });
  await addRoute(env.admin, sku, first, { productCode: 'P', costMinor: 1000, priority: 1 });
  await addRoute(env.admin, sku, second, { productCode: 'P', costMinor: 1000, priority: 2 });
  const order = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku))).body.id);
  expect(order.items[0].units[0].source).toMatchObject({ supplier: first.name });

  const asked = await compensate(order.id, order.items[0].units[0].id);
  const after = await settled(api, asked.body.id);
  expect(after.items[0].units[1]).toMatchObject({ status: 'delivered', source: { supplier: second.name } });
  expect(await second.sold()).toEqual([after.items[0].units[1].id]);
  // The supplier that sold the bad key was told: it took the sale back as disputed.
  const disputed = (await first.report()).sales.find((sale) => sale.reference === order.items[0].units[0].id);
  expect(disputed).toMatchObject({ status: 'disputed' });
});

test('nothing can deliver: that unit is refunded exactly once', async () => {
  const { sku, api } = await shopWithStock(env.stack, { stock: 2, topUp: 5 * PRICE });
  const order = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku, 2))).body.id);
  const stock = await env.stack.db.cardKey.updateMany({
    where: { product: { sku }, status: 'available' },
    data: { status: 'void', voidReason: 'test: stock gone' },
  });
  expect(stock.count).toBe(0);
  const unitId = order.items[0].units[0].id;
  const asked = await compensate(order.id, unitId);
  const after = await settled(api, asked.body.id);
  expect(after.items[0].units.find((u: { id: string }) => u.id === unitId)).toMatchObject({ status: 'refunded' });
  expect(after.status).toBe('delivered'); // the other unit is still delivered
  const refunds = await env.stack.db.ledgerTransaction.findMany({ where: { orderId: order.id, kind: 'refund' } });
  expect(refunds.map((r) => [r.idempotencyKey, Number(r.amountMinor)])).toEqual([
    [`order:${order.id}:unit:${unitId}:refund`, PRICE],
  ]);
  expect((await compensate(order.id, unitId)).status).toBe(200);
  expect(await env.stack.db.ledgerTransaction.count({ where: { orderId: order.id, kind: 'refund' } })).toBe(1);
  expect((await api.get('/v1/balance')).body.available.minor).toBe(5 * PRICE - 2 * PRICE + PRICE);
});

test('the same compensation asked ten times at once: one incident, one reissue', async () => {
  const { sku, api } = await shopWithStock(env.stack, { stock: 5, topUp: 5 * PRICE });
  const order = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku))).body.id);
  const unitId = order.items[0].units[0].id;
  const answers = await Promise.all(Array.from({ length: 10 }, () => compensate(order.id, unitId)));
  expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
  expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
  await settled(api, answers[0]!.body.id);
  expect(await env.stack.db.compensation.count({ where: { unitId } })).toBe(1);
  expect(await env.stack.db.orderUnit.count({ where: { orderId: order.id } })).toBe(2);
});

test('only support and admins compensate; a unit that is not delivered cannot be', async () => {
  const { sku, api } = await shopWithStock(env.stack, { stock: 1, topUp: 5 * PRICE });
  const order = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku))).body.id);
  const unitId = order.items[0].units[0].id;
  expectProblem(
    await api.post(`/v1/orders/${order.id}/units/${unitId}/compensations`, { action: 'refund', reason: 'x' }),
    403,
    'forbidden',
  );
  expectProblem(await compensate(order.id, unitId, { action: 'swap' }), 422, 'validation_failed');
  expectProblem(await compensate(order.id, randomUUID()), 404, 'not_found');
  expectProblem(await compensate(order.id, unitId, { override: true }), 403, 'override_forbidden');
  const none = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku))).body.id);
  expect(none.status).toBe('refunded');
  expectProblem(await compensate(none.id, none.items[0].units[0].id), 409, 'unit_not_delivered');
  expect(await env.stack.db.compensation.count({ where: { orderId: { in: [order.id, none.id] } } })).toBe(0);
});

test('a key the rights owner reports redeemed is compensated only under an admin override', async () => {
  const { sku, api, admin, codes } = await shopWithStock(env.stack, { stock: 2, topUp: 5 * PRICE });
  const order = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku))).body.id);
  const unitId = order.items[0].units[0].id;
  const marked = await api.post('/v1/redemptions', { sku, codes });
  expect(marked.status).toBe(200);
  expect(marked.body.counts).toMatchObject({ redeemed: 1 });

  expectProblem(await compensate(order.id, unitId), 409, 'key_redeemed');
  expect(await env.stack.db.compensation.count({ where: { unitId } })).toBe(0);
  // A replacement comes from another batch than the bad key's.
  expect((await admin.post('/v1/inventory/batches', { sku, keys: uniqueCodes(1), supplier: 'other' })).status).toBe(
    201,
  );
  const overridden = await admin.post(`/v1/orders/${order.id}/units/${unitId}/compensations`, {
    action: 'reissue',
    reason: 'redeemed by someone else: account stolen',
    override: true,
  });
  expect(overridden.status).toBe(202);
  const after = await settled(api, overridden.body.id);
  expect(after.items[0].units[0].compensations[0]).toMatchObject({ outcome: 'reissued', override: true });
});

test("a buyer's report waits for support, whose confirmation starts the compensation", async () => {
  const { sku, api, admin, codes } = await shopWithStock(env.stack, { stock: 1, topUp: 5 * PRICE });
  const order = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku))).body.id);
  const claimed = (await fetch(order.claimUrl).then((r) => r.json())) as { items: { codes: string[] }[] };
  expect(claimed.items[0]!.codes).toEqual(codes);
  const report = (body: object) =>
    fetch(`${order.claimUrl}/report`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  expect((await report({ code: 'NOT-MY-CODE', reason: 'does not work' })).status).toBe(422);
  const first = await report({ code: ` ${codes[0]} `, reason: 'the app says already used' });
  expect(first.status).toBe(202);
  const reported = (await first.json()) as { reportId: string; status: string };
  expect(reported.status).toBe('awaiting_confirmation');
  expect((await report({ code: codes[0], reason: 'again' })).status).toBe(200);
  // Nothing happened to the key on the buyer's word alone.
  const unitId = order.items[0].units[0].id;
  const unit = await env.stack.db.orderUnit.findUniqueOrThrow({ where: { id: unitId } });
  expect((await env.stack.db.cardKey.findUniqueOrThrow({ where: { id: unit.cardKeyId! } })).status).toBe('delivered');

  expect((await admin.post('/v1/inventory/batches', { sku, keys: uniqueCodes(1), supplier: 'other' })).status).toBe(
    201,
  );
  const confirmed = await compensate(order.id, unitId);
  expect(confirmed.status).toBe(200);
  expect(confirmed.body.id).toBe(reported.reportId);
  const after = await settled(api, reported.reportId);
  expect(after.items[0].units[0].compensations[0]).toMatchObject({ trigger: 'buyer', outcome: 'reissued' });
});
