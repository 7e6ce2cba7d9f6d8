// Acceptance 7 of issue 31: the worker process is SIGKILLed during a renewal — after the
// period's order took the money (held) and while its unit is out at a slow supplier, before
// delivery — and restarted: the period is charged once and delivered once, by one order.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { startSupplierSim, type SupplierSim } from '../../scripts/lib/supplier-sim';
import { PRICE } from '../support/orders';
import { spawnWorkerProcess, startStack, stopChild, type TestStack } from '../support/stack';
import {
  subscriptionBody,
  subscriptionConfig,
  subscriptionShop,
  waitForSubscription,
  type Receiver,
} from '../support/subscriptions';
import { addRoute, addSupplier } from '../support/suppliers';
import { waitFor } from '../support/wait';
import { startWebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(180_000);

let stack: TestStack;
let sim: SupplierSim;
let receiver: Receiver;
let worker: ChildProcess | undefined;
beforeAll(async () => {
  [stack, sim, receiver] = await Promise.all([
    startStack({ worker: false, config: subscriptionConfig({ SUBSCRIPTION_SECONDS_PER_MONTH: '8' }) }),
    startSupplierSim(),
    startWebhookReceiver(),
  ]);
});
afterAll(async () => {
  if (worker) await stopChild(worker);
  await stack.close();
  await sim.close();
  await receiver.close();
});

function startWorker(): ChildProcess {
  return spawnWorkerProcess({ TEMPORAL_TASK_QUEUE: stack.taskQueue, PUBLIC_BASE_URL: stack.url, LOG_LEVEL: 'error' });
}

test('a worker killed between a renewal’s charge and its delivery: one charge, one delivery for the period', async () => {
  const shop = await subscriptionShop(stack, receiver, { stock: 0, topUp: 20 * PRICE });
  const supplier = await addSupplier(sim.url, shop.admin, {
    products: { P: { kind: 'card_key', costMinor: 1000, stock: 100 } },
    settings: { timeoutMs: 5_000 },
  });
  await addRoute(shop.admin, shop.sku, supplier, { productCode: 'P', costMinor: 1000 });
  // Every sale takes 1.5 s at the supplier: the kill lands while period 2's unit is out there.
  await supplier.setFaults({ rules: [{ kind: 'latency', latencyMs: 1_500 }] });

  worker = startWorker();
  const { id } = (await shop.api.post('/v1/subscriptions', subscriptionBody(shop.sku))).body;
  await waitForSubscription(shop.api, id, (s) => s.currentPeriod >= 1, 'period 1 paid', 60_000);

  // Period 2's order is charged (its hold taken) and its unit is at the supplier: kill.
  const period2Order = `subscription:${id}:2`;
  await waitFor(
    async () => {
      const order = await stack.db.order.findFirst({
        where: { externalOrderId: period2Order, status: 'fulfilling' },
        include: { units: { include: { attempts: true } } },
      });
      return order?.units[0]?.attempts.some((a) => a.outcome === 'sent') ?? false;
    },
    'period 2 charged and out at the supplier',
    60_000,
  );
  worker.kill('SIGKILL');
  await once(worker, 'exit');
  const atKill = await stack.db.order.findFirstOrThrow({ where: { externalOrderId: period2Order } });
  expect(atKill.status).toBe('fulfilling');
  const held = await stack.db.ledgerTransaction.findMany({ where: { orderId: atKill.id } });
  expect(held.map((l) => l.kind)).toEqual(['hold']);

  worker = startWorker();
  const after = await waitForSubscription(shop.api, id, (s) => s.currentPeriod >= 2, 'period 2 paid', 90_000);
  const period2 = after.periods.find((p: any) => p.number === 2);
  expect(period2).toMatchObject({ outcome: 'paid', attempts: 1, orderId: atKill.id, orderStatus: 'delivered' });

  // One order for the period, one hold and one capture, one unit bought once and delivered.
  const orders = await stack.db.order.findMany({
    where: { externalOrderId: { startsWith: `subscription:${id}:2` } },
    include: { units: true },
  });
  expect(orders.map((o) => o.id)).toEqual([atKill.id]);
  const ledger = await stack.db.ledgerTransaction.findMany({ where: { orderId: atKill.id } });
  expect(ledger.map((l) => l.kind).sort()).toEqual(['capture', 'hold']);
  expect(orders[0]!.units.map((u) => u.status)).toEqual(['delivered']);
  const sold = await supplier.sold();
  expect(sold.filter((ref) => ref === orders[0]!.units[0]!.id)).toHaveLength(1);
  // The renewal was recorded once.
  expect(after.history.filter((h: any) => h.type === 'renewed' && h.period === 2)).toHaveLength(1);

  await shop.api.post(`/v1/subscriptions/${id}/cancel`, {});
});
