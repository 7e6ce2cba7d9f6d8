// The worker dies between authorize and capture — in fact while its capture call is at the
// provider — and is restarted: the order completes with exactly one capture, the retried
// call carrying the same Idempotency-Key as the one whose answer died with the worker.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { spawnWorkerProcess, startStack, stopChild, type TestStack } from '../support/stack';
import { startStripeProxy, type StripeProxy } from '../support/stripe-proxy';

jest.setTimeout(120_000);

let stack: TestStack;
let stripe: StripeProxy;
let worker: ChildProcess | undefined;
beforeAll(async () => {
  stripe = await startStripeProxy(process.env.STRIPE_API_BASE!);
  stack = await startStack({ worker: false, config: { STRIPE_API_BASE: stripe.url } });
});
afterAll(async () => {
  if (worker) await stopChild(worker);
  await stack?.close();
  await stripe?.close();
});

function startWorker(): ChildProcess {
  const child = spawnWorkerProcess({
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    STRIPE_API_BASE: stripe.url,
    LOG_LEVEL: 'warn',
  });
  child.stderr?.on('data', (chunk) => process.stderr.write(`[worker] ${chunk}`));
  return child;
}

test('a worker killed while its capture is at the provider: after restart, one capture', async () => {
  const { sku, api } = await shopWithStock(stack, { stock: 1, topUp: 0 });
  const held = stripe.holdNext(/\/capture$/);
  worker = startWorker();
  const placed = await api.post('/v1/orders', {
    ...orderBody(sku),
    payment: { method: 'stripe', paymentMethodId: 'pm_card_visa' },
  });
  await held.arrived;
  worker.kill('SIGKILL');
  await once(worker, 'exit');
  // The provider makes the capture; its answer has nobody to go to.
  held.release();

  worker = startWorker();
  const { workflowId } = await stack.db.order.findUniqueOrThrow({ where: { id: placed.body.id } });
  await stack.deps.temporal.workflow.getHandle(workflowId).result();
  const order = await waitForTerminal(api, placed.body.id);
  expect(order.status).toBe('delivered');

  const calls = stripe.calls.filter((c) => c.idempotencyKey?.startsWith(`order:${order.id}:`));
  expect(calls.filter((c) => c.path === '/v1/payment_intents')).toHaveLength(1);
  const captures = calls.filter((c) => c.path.endsWith('/capture'));
  expect(captures).toHaveLength(2);
  expect(captures.map((c) => c.idempotencyKey)).toEqual([`order:${order.id}:capture`, `order:${order.id}:capture`]);
  const operations = await stack.db.paymentOperation.findMany({
    where: { payment: { orderId: order.id } },
    orderBy: { id: 'asc' },
  });
  expect(operations.map((o) => [o.kind, o.status, o.attempts])).toEqual([
    ['authorize', 'succeeded', 1],
    ['capture', 'succeeded', 2],
  ]);
  expect(await stack.db.providerPayment.findUniqueOrThrow({ where: { orderId: order.id } })).toMatchObject({
    status: 'captured',
    capturedMinor: BigInt(PRICE),
  });
});
