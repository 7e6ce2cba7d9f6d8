// A worker SIGKILLed while a compensation's replacement is out at a supplier, then restarted:
// the compensation completes once — one replacement unit, bought once, the bad key void.
import { crashStack } from '../support/crash-stack';
import { adminKey, staffApi } from '../support/clients';
import { clientFor } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { addRoute, addSupplier } from '../support/suppliers';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

const crash = crashStack();

test('a compensation whose worker dies mid-reissue completes once after restart', async () => {
  const { stack, sim } = crash;
  const admin = clientFor(stack.url, await adminKey(stack));
  const { sku, api } = await shopWithStock(stack, { stock: 0, topUp: 5 * PRICE });
  const first = await addSupplier(sim.url, admin, {
    products: { P: { kind: 'card_key', costMinor: 1000, stock: 10 } },
  });
  const second = await addSupplier(sim.url, admin, {
    products: { P: { kind: 'card_key', costMinor: 1000, stock: 10 } },
    settings: { timeoutMs: 3_000 },
  });
  await addRoute(admin, sku, first, { productCode: 'P', costMinor: 1000, priority: 1 });
  await addRoute(admin, sku, second, { productCode: 'P', costMinor: 1000, priority: 2 });

  crash.startWorker();
  const order = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku))).body.id, 60_000);
  expect(order.status).toBe('delivered');
  const unitId = order.items[0].units[0].id;

  // The replacement goes to the other supplier first, which sells it 800 ms after it asks.
  await second.setFaults({ rules: [{ kind: 'latency', latencyMs: 800 }] });
  const asked = (await staffApi(stack, 'support')).post(`/v1/orders/${order.id}/units/${unitId}/compensations`, {
    action: 'reissue',
    reason: 'code rejected by the game',
  });
  await waitFor(
    async () => (await stack.db.sourcingAttempt.count({ where: { outcome: 'sent', supplierId: second.id } })) >= 1,
    'the replacement out at the supplier',
    60_000,
  );
  await crash.killWorker();
  const compensation = (await asked).body;
  expect(compensation.status).toBe('open');

  crash.startWorker();
  const { workflowId } = await stack.db.compensation.findUniqueOrThrow({ where: { id: compensation.id } });
  await stack.deps.temporal.workflow.getHandle(workflowId).result();

  const done = await stack.db.compensation.findUniqueOrThrow({ where: { id: compensation.id } });
  expect(done).toMatchObject({ status: 'completed', outcome: 'reissued' });
  const units = await stack.db.orderUnit.findMany({ where: { orderId: order.id }, orderBy: { createdAt: 'asc' } });
  expect(units.map((u) => [u.status, u.supplierId])).toEqual([
    ['replaced', first.id],
    ['delivered', second.id],
  ]);
  expect(await second.sold()).toEqual([units[1]!.id]);
  expect((await first.report()).sales.find((sale) => sale.reference === unitId)).toMatchObject({ status: 'disputed' });
  const badKey = await stack.db.cardKey.findUniqueOrThrow({ where: { id: units[0]!.cardKeyId! } });
  expect(badKey).toMatchObject({ status: 'void', voidReason: 'code rejected by the game' });
  expect(await stack.db.auditLog.count({ where: { subjectId: unitId, action: 'compensation.reissued' } })).toBe(1);
});
