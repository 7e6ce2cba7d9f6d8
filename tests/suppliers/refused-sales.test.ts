// Issue 29: a sale the platform does not take is disputed at the supplier that made it,
// whichever way it arrives. By callback: a cost above the unit's price (the `maxCostMinor` the
// order carried: the rule the synchronous path applies to a quote) and a code the platform
// already holds are each recorded on the unit, disputed at that supplier (so it refunds
// instead of billing), and the unit moves on to the next route without that key; the same
// callback again changes nothing. (Before: the overpriced sale was bound and delivered; the
// duplicate key moved the unit on undisputed.)
import { randomUUID } from 'node:crypto';
import { PRICE, waitForTerminal } from '../support/orders';
import { stackWithSuppliers } from '../support/suppliers';
import { waitFor } from '../support/wait';
import { pendingAtAsyncSupplier } from './pending-sale';

jest.setTimeout(90_000);

const env = stackWithSuppliers();

/** The unit's attempts at one supplier, in order (the dispute runs beside the next route's purchase). */
const attemptsAt = (order: any, supplier: { name: string }) =>
  order.items[0].units[0].attempts
    .filter((a: any) => a.supplier === supplier.name)
    .map((a: any) => [a.outcome, a.detail ?? null]);

async function disputedAt(
  supplier: { report(): Promise<{ sales: { reference: string; status: string }[] }> },
  ref: string,
) {
  await waitFor(
    async () => (await supplier.report()).sales.some((s) => s.reference === ref && s.status === 'disputed'),
    'the sale disputed at its supplier',
  );
}

test('a callback charging more than the price is refused as price_above_limit, disputed, and the next route delivers', async () => {
  const { unit, slow, next, orderId, api, callbackUrl } = await pendingAtAsyncSupplier(env);
  const answer = await slow.complete(unit.id, { costMinor: PRICE * 10 });
  expect(answer.status).toBe(204);

  const order = await waitForTerminal(api, orderId, 30_000);
  expect(order.status).toBe('delivered');
  await disputedAt(slow, unit.id);
  expect(await next.sold()).toEqual([unit.id]);
  const after = (await api.get(`/v1/orders/${orderId}`)).body;
  const reason = `by callback: supplier charged ${PRICE * 10}, above the price ${PRICE}`;
  expect(attemptsAt(after, slow)).toEqual([
    ['pending', null],
    ['price_above_limit', reason],
    ['disputed', reason],
  ]);
  expect(attemptsAt(after, next)).toEqual([['delivered', null]]);
  const bound = await env.stack.db.orderUnit.findUniqueOrThrow({ where: { id: unit.id } });
  expect(bound).toMatchObject({ supplierId: next.id, costMinor: 1000 });

  // The same callback again (a supplier retrying, a replay) is answered the same and changes nothing.
  const sale = (await slow.report()).sales.find((s) => s.reference === unit.id)!;
  const again = await slow.sendSigned(
    callbackUrl,
    JSON.stringify({
      reference: unit.id,
      status: 'succeeded',
      transactionId: sale.transactionId,
      costMinor: PRICE * 10,
    }),
  );
  expect(again.status).toBe(204);
  expect((await api.get(`/v1/orders/${orderId}`)).body.items[0].units[0].attempts).toEqual(
    after.items[0].units[0].attempts,
  );
});

test('a callback delivering a code the platform already holds is disputed, and the unit moves on without it', async () => {
  const { unit, slow, next, orderId, api, sku, admin, callbackUrl } = await pendingAtAsyncSupplier(env);
  // The same code came in by an import while the supplier was working on the order.
  const heldCode = `HELD-${randomUUID()}`;
  const imported = await admin.post('/v1/inventory/batches', { sku, keys: [heldCode] });
  expect(imported.status).toBe(201);
  const answer = await slow.complete(unit.id, { code: heldCode, costMinor: 900 });
  expect(answer.status).toBe(204);

  const order = await waitForTerminal(api, orderId, 30_000);
  expect(order.status).toBe('delivered');
  await disputedAt(slow, unit.id);
  expect(await next.sold()).toEqual([unit.id]);
  const after = (await api.get(`/v1/orders/${orderId}`)).body;
  const reason = 'supplier sent a key the platform already has';
  expect(attemptsAt(after, slow)).toEqual([
    ['pending', null],
    ['invalid_key', reason],
    ['disputed', reason],
  ]);
  expect(attemptsAt(after, next)).toEqual([['delivered', null]]);
  // One key with that code, still the imported one, on sale; the unit holds the next route's key.
  const keys = await env.stack.db.cardKey.findMany({ where: { productId: unit.productId } });
  expect(keys).toHaveLength(2);
  const bound = await env.stack.db.orderUnit.findUniqueOrThrow({ where: { id: unit.id } });
  expect(keys.find((k) => k.id !== bound.cardKeyId)).toMatchObject({ status: 'available', sourceSupplierId: null });

  // The same callback again changes nothing.
  const sale = (await slow.report()).sales.find((s) => s.reference === unit.id)!;
  const again = await slow.sendSigned(
    callbackUrl,
    JSON.stringify({
      reference: unit.id,
      status: 'succeeded',
      transactionId: sale.transactionId,
      costMinor: 900,
      key: { code: heldCode },
    }),
  );
  expect(again.status).toBe(204);
  expect((await api.get(`/v1/orders/${orderId}`)).body.items[0].units[0].attempts).toEqual(
    after.items[0].units[0].attempts,
  );
});
