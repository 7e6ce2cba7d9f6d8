// A worker SIGKILLed while orders are out at suppliers, then restarted: every order ends,
// and each supplier sold exactly the units the platform delivered from it.
import { crashStack } from '../support/crash-stack';
import { adminKey } from '../support/clients';
import { clientFor } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { addRoute, addSupplier } from '../support/suppliers';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

const crash = crashStack();

test('orders out at suppliers survive a SIGKILLed worker: bought once, delivered once', async () => {
  const { stack, sim } = crash;
  const admin = clientFor(stack.url, await adminKey(stack));
  const { sku, api } = await shopWithStock(stack, { stock: 0, topUp: 50 * PRICE });
  const slow = await addSupplier(sim.url, admin, {
    products: { P: { kind: 'card_key', costMinor: 1000, stock: 100 } },
    settings: { timeoutMs: 3_000 },
  });
  const backup = await addSupplier(sim.url, admin, {
    products: { P: { kind: 'card_key', costMinor: 1000, stock: 100 } },
  });
  await addRoute(admin, sku, slow, { productCode: 'P', costMinor: 1000, priority: 1 });
  await addRoute(admin, sku, backup, { productCode: 'P', costMinor: 1000, priority: 2 });
  // Each order is sold 800 ms after it arrives: the kill lands between the sale and its record.
  await slow.setFaults({ rules: [{ kind: 'latency', latencyMs: 800 }] });

  crash.startWorker();
  const placed = await Promise.all(Array.from({ length: 10 }, () => api.post('/v1/orders', orderBody(sku))));
  const ids: string[] = placed.map((p) => p.body.id);
  await waitFor(
    async () => (await stack.db.sourcingAttempt.count({ where: { outcome: 'sent', supplierId: slow.id } })) >= 3,
    'orders out at the supplier',
    60_000,
  );
  await crash.killWorker();
  expect(await stack.db.order.count({ where: { id: { in: ids }, status: 'delivered' } })).toBeLessThan(10);

  crash.startWorker();
  const orders = await Promise.all(ids.map((id) => waitForTerminal(api, id, 120_000)));
  expect(orders.map((o) => o.status)).toEqual(Array(10).fill('delivered'));

  const units = await stack.db.orderUnit.findMany({ where: { orderId: { in: ids } } });
  for (const supplier of [slow, backup]) {
    const fromIt = units.filter((u) => u.supplierId === supplier.id).map((u) => u.id);
    expect((await supplier.sold()).sort()).toEqual(fromIt.sort());
  }
  expect((await api.get('/v1/balance')).body.available.minor).toBe(40 * PRICE);
});
