// Binding a supplier's sale to a unit (`recordObtained`, the `bind_supplier_sale` database
// function), case by case, on a real order held at its purchase: an unusable key, a key
// the platform already holds, the sale that binds, the same sale again, another supplier's
// late sale. The held purchase then finds the unit bound and buys nothing.
import { randomUUID } from 'node:crypto';
import { workflowIds } from '../../domain/workflow-ids';
import { recordObtained } from '../../store/suppliers/sourcing';
import { activityGate } from '../support/activity-gate';
import { clientFor } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { addRoute, addSupplier, stackWithSuppliers } from '../support/suppliers';
import { waitFor } from '../support/wait';

jest.setTimeout(60_000);

const gate = activityGate();
const env = stackWithSuppliers({ workerOptions: gate.workerOptions });

test('each sale is bound once, to a pending unit, with a usable key the platform does not hold', async () => {
  const shop = await shopWithStock(env.stack, { stock: 0, topUp: 5 * PRICE });
  const CARD = { kind: 'card_key' as const, costMinor: 1000, stock: 10 };
  const seller = await addSupplier(env.sim.url, env.admin, { products: { 'VIP-1M': CARD } });
  const late = await addSupplier(env.sim.url, env.admin, { products: { 'VIP-1M': CARD } });
  await addRoute(env.admin, shop.sku, seller, { productCode: 'VIP-1M', costMinor: 1000 });

  const body = orderBody(shop.sku);
  const held = gate.hold(workflowIds.order(shop.shop.id, body.externalOrderId), 'buyUnit');
  const placed = await shop.api.post('/v1/orders', body);
  expect(placed.status).toBe(202);
  await waitFor(held.reached, 'the order to reach its purchase');

  const unit = await env.stack.db.orderUnit.findFirstOrThrow({ where: { orderId: placed.body.id } });
  const secrets = { keyring: env.stack.deps.keyring, fingerprintSecret: env.stack.config.KEY_FINGERPRINT_SECRET };
  const product = { id: unit.productId, kind: 'card_key' as const };
  const bind = (supplier: { id: string; name: string }, key: string, transactionId: string = randomUUID()) =>
    recordObtained(env.stack.db, secrets, {
      unitId: unit.id,
      supplierId: supplier.id,
      source: supplier.name,
      outcome: 'delivered',
      latencyMs: 12,
      sale: { transactionId, costMinor: 900, key },
      product,
      priceMinor: PRICE,
    });

  // A key already in the platform's stock for this product (imported after the order began).
  const heldCode = `HELD-${randomUUID()}`;
  const imported = await env.admin.post('/v1/inventory/batches', { sku: shop.sku, keys: [heldCode] });
  expect(imported.status).toBe(201);

  expect(await bind(seller, ' ')).toEqual({
    kind: 'invalid_key',
    detail: expect.stringMatching(/^supplier sent an unusable key: /),
  });
  expect(await bind(seller, heldCode)).toEqual({
    kind: 'invalid_key',
    detail: 'supplier sent a key the platform already has',
  });
  const code = `BOUGHT-${randomUUID()}`;
  expect(await bind(seller, code, 'T-1')).toEqual({ kind: 'obtained' });
  expect(await bind(seller, code, 'T-1')).toEqual({ kind: 'already' });
  expect(await bind(late, `LATE-${randomUUID()}`)).toEqual({ kind: 'unit_closed' });

  const bound = await env.stack.db.orderUnit.findUniqueOrThrow({ where: { id: unit.id } });
  expect(bound).toMatchObject({
    status: 'reserved',
    source: 'supplier',
    supplierId: seller.id,
    supplierRef: 'T-1',
    costMinor: 900,
  });
  const keys = await env.stack.db.cardKey.findMany({ where: { sourceSupplierId: { in: [seller.id, late.id] } } });
  expect(keys).toEqual([
    expect.objectContaining({ id: bound.cardKeyId, status: 'reserved', reservedByUnitId: unit.id }),
  ]);
  expect(keys[0]!.ciphertext).not.toContain(code);
  const attempts = await env.stack.db.sourcingAttempt.findMany({ where: { unitId: unit.id }, orderBy: { id: 'asc' } });
  expect(attempts.map((a) => [a.source, a.outcome, a.detail, a.costMinor])).toEqual([
    [seller.name, 'invalid_key', expect.stringMatching(/^supplier sent an unusable key: /), 900],
    [seller.name, 'invalid_key', 'supplier sent a key the platform already has', 900],
    [seller.name, 'delivered', null, 900],
    [late.name, 'failed', 'sold after the unit moved on', 900],
  ]);

  // The held purchase finds the unit bound: nothing is bought, and the buyer claims the bound key.
  held.open();
  const order = await waitForTerminal(shop.api, placed.body.id);
  expect(order.status).toBe('delivered');
  expect(await seller.sold()).toEqual([]);
  const claim = await clientFor(env.stack.url).get(new URL(order.claimUrl).pathname);
  expect(claim.body.items[0].codes).toEqual([code]);
});
