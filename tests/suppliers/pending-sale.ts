// A supplier-routed order held at an asynchronous supplier: the first route answers
// `pending` and waits to be told what to send (scripted at the simulator), with a callback
// deadline long enough that the workflow is still waiting when the test's callbacks arrive;
// a second route delivers if the unit moves on.
import { orderBody, PRICE, shopWithStock } from '../support/orders';
import { addRoute, addSupplier, type SimSupplier, stackWithSuppliers } from '../support/suppliers';
import { waitFor } from '../support/wait';

export const CARD = { kind: 'card_key' as const, costMinor: 1000, stock: 100 };

export async function pendingAtAsyncSupplier(env: ReturnType<typeof stackWithSuppliers>) {
  const shop = await shopWithStock(env.stack, { stock: 0, topUp: 10 * PRICE });
  const slow = await addSupplier(env.sim.url, env.admin, {
    products: { 'VIP-1M': CARD },
    settings: { callbackDeadlineMs: 120_000 },
  });
  const next = await addSupplier(env.sim.url, env.admin, { products: { 'VIP-1M': CARD } });
  await addRoute(env.admin, shop.sku, slow, { productCode: 'VIP-1M', costMinor: 1000, priority: 1 });
  await addRoute(env.admin, shop.sku, next, { productCode: 'VIP-1M', costMinor: 1000, priority: 2 });
  await slow.setFaults({ rules: [{ kind: 'async_never' }] });
  const placed = await shop.api.post('/v1/orders', orderBody(shop.sku));
  expect(placed.status).toBe(202);
  const orderId: string = placed.body.id;
  const unit = await env.stack.db.orderUnit.findFirstOrThrow({ where: { orderId } });
  await waitFor(
    async () => (await env.stack.db.sourcingAttempt.count({ where: { unitId: unit.id, outcome: 'pending' } })) === 1,
    'the unit pending at the asynchronous supplier',
  );
  const callbackUrl = `${env.stack.url}/v1/supplier-callbacks/${slow.name}`;
  return { ...shop, orderId, unit, slow, next: next as SimSupplier, callbackUrl };
}
