// A supplier's own "key invalid" notice (POST /v1/supplier-callbacks/:supplier/invalidations,
// signed like its other callbacks) starts a compensation with trigger `supplier`: the key is
// voided and another delivered (or the unit refunded), as support's request would. Only the
// supplier that sold the unit may say so; a repeat is the same compensation; a refused notice
// writes nothing.
import { ReferenceCredentials } from '../../domain/suppliers';
import { signRequest } from '../../infra/request-signature';
import { credentialsOf } from '../../store/suppliers/registry';
import { clientFor, expectProblem } from '../support/http';
import { orderBody, PRICE, shopWithStock, uniqueCodes, waitForTerminal } from '../support/orders';
import { rowCounts } from '../support/row-counts';
import { addRoute, addSupplier, type SimSupplier, stackWithSuppliers } from '../support/suppliers';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const env = stackWithSuppliers();
const CARD = { kind: 'card_key' as const, costMinor: 1000, stock: 20 };

async function secretOf(s: SimSupplier): Promise<string> {
  const row = await env.stack.db.supplier.findUniqueOrThrow({ where: { id: s.id } });
  return ReferenceCredentials.parse(credentialsOf(env.stack.deps.keyring, row)).secret;
}

/** The notice as the supplier sends it: signed over method, path and raw body. */
function notify(supplierName: string, secret: string, body: unknown) {
  const path = `/v1/supplier-callbacks/${supplierName}/invalidations`;
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const headers = {
    'content-type': 'application/json',
    'x-rights-signature': signRequest(secret, { method: 'POST', path, body: raw }, Math.floor(Date.now() / 1000)),
  };
  return clientFor(env.stack.url).post(path, undefined, { raw, headers });
}

test('a supplier’s signed invalidation notice reissues the key it sold; a repeat is the same compensation', async () => {
  const shop = await shopWithStock(env.stack, { stock: 0, topUp: 10 * PRICE });
  const seller = await addSupplier(env.sim.url, env.admin, { products: { P: CARD } });
  const other = await addSupplier(env.sim.url, env.admin, { products: { P: CARD } });
  await addRoute(env.admin, shop.sku, seller, { productCode: 'P', costMinor: 1000 });
  const placed = await shop.api.post('/v1/orders', orderBody(shop.sku));
  const order = await waitForTerminal(shop.api, placed.body.id, 60_000);
  expect(order.status).toBe('delivered');
  const unitId: string = order.items[0].units[0].id;
  // Stock arrives later: the replacement comes from it.
  const batch = await env.admin.post('/v1/inventory/batches', { sku: shop.sku, keys: uniqueCodes(1) });
  expect(batch.status).toBe(201);
  const [sellerSecret, otherSecret] = [await secretOf(seller), await secretOf(other)];

  // Refused notices first, each answered with its code and nothing written.
  const before = await rowCounts(env.stack.db);
  const reason = 'revoked at the rights owner';
  expectProblem(await notify(seller.name, otherSecret, { reference: unitId, reason }), 401, 'bad_signature');
  expectProblem(await notify(other.name, otherSecret, { reference: unitId, reason }), 404, 'not_found');
  expectProblem(await notify(seller.name, sellerSecret, { reference: 'not-a-unit', reason }), 422, 'invalid_callback');
  expectProblem(
    await notify(seller.name, sellerSecret, { reference: unitId, reason: 'bad\u0000key' }),
    422,
    'invalid_callback',
  );
  expectProblem(await notify(seller.name, sellerSecret, '{"reference":'), 400, 'invalid_json');
  expect(await rowCounts(env.stack.db)).toEqual(before);

  const first = await notify(seller.name, sellerSecret, { reference: unitId, reason });
  expect(first.status).toBe(202);
  expect(first.body).toEqual({ reference: unitId, compensation: { id: expect.any(String), status: 'open' } });
  const id: string = first.body.compensation.id;
  await waitFor(
    async () => (await env.stack.db.compensation.findUniqueOrThrow({ where: { id } })).status === 'completed',
    'the compensation',
    60_000,
  );
  const compensation = await env.stack.db.compensation.findUniqueOrThrow({ where: { id } });
  expect(compensation).toMatchObject({
    unitId,
    trigger: 'supplier',
    action: 'reissue',
    reason,
    outcome: 'reissued',
    requestedBy: `supplier:${seller.name}`,
  });
  const after = (await env.admin.get(`/v1/orders/${order.id}`)).body;
  const units = after.items[0].units.map((u: any) => [u.id, u.status]);
  expect(units).toEqual(
    expect.arrayContaining([
      [unitId, 'replaced'],
      [compensation.newUnitId, 'delivered'],
    ]),
  );
  // The supplier is told the key is bad, as for any compensated supplier key.
  expect((await seller.report()).sales.map((s) => s.status)).toEqual(['disputed']);

  const again = await notify(seller.name, sellerSecret, { reference: unitId, reason });
  expect(again.status).toBe(200);
  expect(again.body.compensation.id).toBe(id);
  expect(await env.stack.db.compensation.count({ where: { unitId } })).toBe(1);
});

test('a notice about a unit that is no longer delivered is refused with 409 and starts nothing', async () => {
  const shop = await shopWithStock(env.stack, { stock: 0, topUp: 10 * PRICE });
  const seller = await addSupplier(env.sim.url, env.admin, { products: { P: CARD } });
  await addRoute(env.admin, shop.sku, seller, { productCode: 'P', costMinor: 1000 });
  const placed = await shop.api.post('/v1/orders', orderBody(shop.sku));
  const order = await waitForTerminal(shop.api, placed.body.id, 60_000);
  const unitId: string = order.items[0].units[0].id;
  expect((await env.admin.post(`/v1/orders/${order.id}/refunds`, { reason: 'buyer cancelled' })).status).toBeLessThan(
    300,
  );
  await waitFor(
    async () => (await env.stack.db.orderUnit.findUniqueOrThrow({ where: { id: unitId } })).status === 'refunded',
    'the refund',
  );
  const res = await notify(seller.name, await secretOf(seller), { reference: unitId, reason: 'revoked' });
  expectProblem(res, 409, 'unit_not_delivered');
  expect(await env.stack.db.compensation.count({ where: { unitId } })).toBe(0);
});
