// An API process SIGKILLed while orders come in. Since intake answers 202 on commit and starts
// the workflow after, a kill can leave an order accepted with no workflow: the next API
// process's sweep starts it. Every order the dead API accepted is delivered once; every
// order it never answered is accepted on resubmission, once. (In three runs here, 4–14 of the
// accepted orders had no workflow when the API died; intake-starts.test.ts sweeps one on purpose.)
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort, waitForReady } from '../../scripts/lib/process-stack';
import { clientFor } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { spawnApiProcess, startStack, stopChild, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const ORDERS = 40;
let stack: TestStack;
const children: ChildProcess[] = [];
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  for (const child of children) await stopChild(child);
  await stack.close();
});

/** An API process of its own (sweeping every second, orders idle for 2 s) on this suite's task queue. */
async function apiProcess(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawnApiProcess({
    API_PORT: String(port),
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    LOG_LEVEL: 'error',
    ORDER_START_SWEEP_EVERY_MS: '1000',
    ORDER_START_SWEEP_IDLE_MS: '2000',
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitForReady(url, child);
  return { url, child };
}

test('orders accepted by an API that is then killed are all delivered, once', async () => {
  const ctx = await shopWithStock(stack, { stock: ORDERS, topUp: ORDERS * PRICE });
  const bodies = Array.from({ length: ORDERS }, () => orderBody(ctx.sku));

  const first = await apiProcess();
  const api = clientFor(first.url, ctx.shop.apiKey);
  let answered = 0;
  const sent = bodies.map((body) =>
    api.post('/v1/orders', body).then(
      (res) => {
        answered += 1;
        return res;
      },
      () => null, // the connection died with the process
    ),
  );
  // Killed once the first answers are out, while the rest are in flight.
  await waitFor(() => answered >= 5, 'the first answers', 30_000);
  first.child.kill('SIGKILL');
  await once(first.child, 'exit');
  const outcomes = await Promise.all(sent);
  const accepted = outcomes.filter((res) => res?.status === 202);
  expect(accepted.length).toBeGreaterThanOrEqual(5);

  // The next API process: the sweep starts what the dead one left unstarted; the order
  // system resubmits every order it got no answer for.
  const second = clientFor((await apiProcess()).url, ctx.shop.apiKey);
  for (const [i, res] of outcomes.entries()) {
    if (res?.status === 202) continue;
    const again = await second.post('/v1/orders', bodies[i]);
    expect([200, 202]).toContain(again.status);
  }

  const orders = await stack.db.order.findMany({ where: { clientId: ctx.shop.id }, select: { id: true } });
  expect(orders).toHaveLength(ORDERS);
  for (const { id } of orders) expect((await waitForTerminal(ctx.api, id, 60_000)).status).toBe('delivered');
  for (const res of accepted) expect(orders.map((o) => o.id)).toContain(res!.body.id);

  // Once each: one hold per order, one key per unit, the balance spent exactly.
  expect(
    await stack.db.ledgerTransaction.count({ where: { orderId: { in: orders.map((o) => o.id) }, kind: 'hold' } }),
  ).toBe(ORDERS);
  const keys = await stack.db.orderUnit.findMany({
    where: { orderId: { in: orders.map((o) => o.id) } },
    select: { cardKeyId: true },
  });
  expect(new Set(keys.map((k) => k.cardKeyId)).size).toBe(ORDERS);
  expect((await ctx.api.get('/v1/balance')).body.available.minor).toBe(0);
});
