// Asynchronous suppliers (callbacks, duplicates, silence, never) and the shared circuit
// breaker, end to end over the simulator.
import { clientFor } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack } from '../support/stack';
import { addRoute, addSupplier, type SimSupplier, stackWithSuppliers } from '../support/suppliers';
import { waitFor } from '../support/wait';

const env = stackWithSuppliers();

const PRODUCTS = { 'VIP-1M': { kind: 'card_key' as const, costMinor: 1000, stock: 100 } };

async function routedShop(settings: Record<string, unknown>[]) {
  const shop = await shopWithStock(env.stack, { stock: 0, topUp: 50 * PRICE });
  const suppliers: SimSupplier[] = [];
  for (const [i, s] of settings.entries()) {
    const supplier = await addSupplier(env.sim.url, env.admin, { products: PRODUCTS, settings: s });
    await addRoute(env.admin, shop.sku, supplier, { productCode: 'VIP-1M', costMinor: 1000, priority: i });
    suppliers.push(supplier);
  }
  return { ...shop, suppliers };
}

async function placeAndSettle(api: ReturnType<typeof clientFor>, sku: string) {
  const placed = await api.post('/v1/orders', orderBody(sku));
  expect(placed.status).toBe(202);
  return waitForTerminal(api, placed.body.id, 60_000);
}
const outcomes = (order: any) => order.items[0].units[0].attempts.map((a: any) => `${a.supplier}:${a.outcome}`);
const unitId = (order: any): string => order.items[0].units[0].id;

describe('asynchronous suppliers', () => {
  const ASYNC = { callbackDeadlineMs: 2_000 };

  test('a delayed callback completes the unit', async () => {
    const { api, sku, suppliers } = await routedShop([ASYNC]);
    const [supplier] = suppliers as [SimSupplier];
    await supplier.setFaults({ rules: [{ kind: 'async_callback', callbackDelayMs: 300 }] });
    const order = await placeAndSettle(api, sku);
    expect(order.status).toBe('delivered');
    expect(outcomes(order)).toEqual([`${supplier.name}:pending`, `${supplier.name}:delivered`]);
    expect(order.items[0].units[0].attempts[1].detail).toBe('by callback');
    expect(await supplier.sold()).toEqual([unitId(order)]);
  });

  test('a duplicated callback changes nothing', async () => {
    const { api, sku, suppliers } = await routedShop([ASYNC]);
    const [supplier] = suppliers as [SimSupplier];
    await supplier.setFaults({ rules: [{ kind: 'async_duplicate', callbackDelayMs: 200 }] });
    const order = await placeAndSettle(api, sku);
    expect(order.status).toBe('delivered');
    await waitFor(async () => (await supplier.report()).stats.callbacksSent === 2, 'both callbacks');
    const after = (await api.get(`/v1/orders/${order.id}`)).body;
    expect(outcomes(after)).toEqual([`${supplier.name}:pending`, `${supplier.name}:delivered`]);
    const product = await env.stack.db.product.findUniqueOrThrow({ where: { sku } });
    expect(await env.stack.db.cardKey.count({ where: { productId: product.id } })).toBe(1);
  });

  test('no callback: the workflow polls by reference after the deadline and completes', async () => {
    const { api, sku, suppliers } = await routedShop([ASYNC]);
    const [supplier] = suppliers as [SimSupplier];
    await supplier.setFaults({ rules: [{ kind: 'async_silent', callbackDelayMs: 100 }] });
    const order = await placeAndSettle(api, sku);
    expect(order.status).toBe('delivered');
    expect(outcomes(order)).toEqual([`${supplier.name}:pending`, `${supplier.name}:found_on_lookup`]);
    expect(await supplier.sold()).toEqual([unitId(order)]);
  });

  test('never completed: cancelled at the supplier after the deadline, and the next route delivers', async () => {
    const { api, sku, suppliers } = await routedShop([ASYNC, {}]);
    const [slow, next] = suppliers as [SimSupplier, SimSupplier];
    await slow.setFaults({ rules: [{ kind: 'async_never' }] });
    const order = await placeAndSettle(api, sku);
    expect(order.status).toBe('delivered');
    expect(outcomes(order)).toEqual([`${slow.name}:pending`, `${slow.name}:cancelled`, `${next.name}:delivered`]);
    expect((await slow.report()).sales.map((s) => s.status)).toEqual(['cancelled']);
    expect(await next.sold()).toEqual([unitId(order)]);
  });

  test('callbacks must be signed by the supplier', async () => {
    const { suppliers } = await routedShop([ASYNC]);
    const res = await clientFor(env.stack.url).post(`/v1/supplier-callbacks/${suppliers[0]!.name}`, {
      reference: '00000000-0000-4000-8000-000000000000',
      status: 'succeeded',
      transactionId: 'forged',
      key: { code: 'FORGED' },
    });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('bad_signature');
  });
});

describe('circuit breaker', () => {
  // A cool-down long enough that the circuit stays open however slowly a loaded box starts
  // the second stack; shortened through the admin API before the probe.
  const CIRCUIT = { circuit: { failuresToOpen: 3, windowSeconds: 60, cooldownSeconds: 600 } };

  test('opens after N failures, is skipped by every worker, and one probe after the cool-down closes it', async () => {
    const { api, sku, shop, suppliers } = await routedShop([CIRCUIT, {}]);
    const [flaky, backup] = suppliers as [SimSupplier, SimSupplier];
    await flaky.setFaults({ rules: [{ kind: 'error_500', on: 'any' }] });

    const first = await placeAndSettle(api, sku);
    expect(first.status).toBe('delivered');
    expect(outcomes(first).filter((o: string) => o === `${flaky.name}:failed`)).toHaveLength(3);
    expect((await env.admin.get(`/v1/suppliers/${flaky.id}`)).body.circuit.state).toBe('open');

    // Another API and worker (own process state, own task queue, same database) see the same open circuit.
    const other = await startStack();
    try {
      const before = (await flaky.report()).stats;
      const second = await placeAndSettle(clientFor(other.url, shop.apiKey), sku);
      expect(second.status).toBe('delivered');
      expect(outcomes(second)).toEqual([`${flaky.name}:circuit_open`, `${backup.name}:delivered`]);
      const after = (await flaky.report()).stats;
      expect(after.quoteRequests + after.orderRequests + after.lookupRequests).toBe(
        before.quoteRequests + before.orderRequests + before.lookupRequests,
      );
    } finally {
      await other.close();
    }

    // After the cool-down, one probe goes through; it succeeds and closes the circuit.
    await flaky.setFaults({ rules: [] });
    const shortened = await env.admin.patch(`/v1/suppliers/${flaky.id}`, { circuit: { cooldownSeconds: 1 } });
    expect(shortened.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_100));
    const third = await placeAndSettle(api, sku);
    expect(outcomes(third)).toEqual([`${flaky.name}:delivered`]);
    expect((await env.admin.get(`/v1/suppliers/${flaky.id}`)).body.circuit.state).toBe('closed');
  });
});
