// Acceptance 4: the worker process is killed (SIGKILL) while orders are in flight and
// restarted: every order reaches a terminal status, and nothing is delivered or charged twice.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { spawnWorkerProcess, startStack, stopChild, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

let stack: TestStack;
let worker: ChildProcess | undefined;
beforeAll(async () => {
  stack = await startStack({ worker: false });
});
afterAll(async () => {
  if (worker) await stopChild(worker);
  await stack.close();
});

function startWorker(): ChildProcess {
  const child = spawnWorkerProcess({ TEMPORAL_TASK_QUEUE: stack.taskQueue, LOG_LEVEL: 'warn' });
  child.stderr?.on('data', (chunk) => process.stderr.write(`[worker] ${chunk}`));
  return child;
}

test('orders in flight survive a SIGKILLed worker exactly once', async () => {
  const stock = 20;
  const { sku, shop, api } = await shopWithStock(stack, { stock, topUp: 100 * PRICE });
  worker = startWorker();

  const accepted = await Promise.all(Array.from({ length: 30 }, () => api.post('/v1/orders', orderBody(sku, 1))));
  const orderIds: string[] = accepted.map((r) => r.body.id);

  // Kill as soon as the first order is delivered: the rest are somewhere in the middle.
  await waitFor(
    async () => (await stack.db.order.count({ where: { id: { in: orderIds }, status: 'delivered' } })) > 0,
    'a first delivery before the kill',
    60_000,
  );
  worker.kill('SIGKILL');
  await once(worker, 'exit');
  const settledAtKill = await stack.db.order.count({
    where: { id: { in: orderIds }, status: { in: ['delivered', 'refunded', 'failed'] } },
  });
  expect(settledAtKill).toBeLessThan(orderIds.length);

  worker = startWorker();
  const orders = await Promise.all(orderIds.map((id) => waitForTerminal(api, id, 120_000)));
  const delivered = orders.filter((o) => o.status === 'delivered');
  const refunded = orders.filter((o) => o.status === 'refunded');
  expect(delivered.length + refunded.length).toBe(orderIds.length);
  expect(delivered).toHaveLength(stock);

  // Authorized once per order, captured once per delivered one, released once per refunded one, nothing else.
  const entries = await stack.db.ledgerTransaction.groupBy({
    by: ['orderId', 'kind'],
    where: { orderId: { in: orderIds } },
    _count: { _all: true },
  });
  expect(entries.every((e) => e._count._all === 1)).toBe(true);
  expect(entries.filter((e) => e.kind === 'hold')).toHaveLength(orderIds.length);
  expect(entries.filter((e) => e.kind === 'release')).toHaveLength(refunded.length);
  expect(entries.filter((e) => e.kind === 'capture')).toHaveLength(delivered.length);
  const balance = (await api.get('/v1/balance')).body;
  expect(balance.available.minor).toBe(100 * PRICE - stock * PRICE);
  expect(balance.held.minor).toBe(0);

  // One key per delivered unit, no key twice, and each history has each status once.
  const units = await stack.db.orderUnit.findMany({ where: { orderId: { in: orderIds } } });
  const keyIds = units.map((u) => u.cardKeyId).filter((id) => id !== null);
  expect(keyIds).toHaveLength(stock);
  expect(new Set(keyIds).size).toBe(stock);
  for (const order of orders) {
    const statuses = order.history.map((h: { status: string }) => h.status);
    expect(new Set(statuses).size).toBe(statuses.length);
  }
  expect(await stack.db.order.count({ where: { clientId: shop.id } })).toBe(orderIds.length);
});

test('SIGTERM stops the worker gracefully: it logs its stop and exits 0', async () => {
  const child = spawnWorkerProcess({ TEMPORAL_TASK_QUEUE: stack.taskQueue, LOG_LEVEL: 'info' });
  let out = '';
  child.stdout?.on('data', (chunk) => (out += chunk));
  await waitFor(() => out.includes('"worker started"'), 'the worker to start', 60_000);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
  expect(out).toContain('"worker stopped"');
});
