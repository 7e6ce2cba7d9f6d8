// Issue 29, found by the fuzzer: an Update to a running workflow with no worker polling (an
// outage, a deploy) hung the request until the caller gave up — POST /v1/orders/:id/resume,
// the subscription actions, a review decision all send one. Each is bounded now
// (api/workflow-updates.ts): past UPDATE_WITHIN_MS the answer is 503 workflow_unavailable,
// problem+json, and nothing is written. The stack here has no worker, so the workflows this
// file starts run no task at all.
import { UPDATE_WITHIN_MS } from '../../api/workflow-updates';
import { adminKey, createClientViaApi } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { rowCounts } from '../support/row-counts';
import { startStack, type TestStack } from '../support/stack';

jest.setTimeout(120_000);

let stack: TestStack;
let shop: ReturnType<typeof clientFor>;
let support: ReturnType<typeof clientFor>;
const sku = 'no-worker-sku';

beforeAll(async () => {
  stack = await startStack({ worker: false });
  const admin = clientFor(stack.url, await adminKey(stack));
  const client = await createClientViaApi(stack, 'order-system', { name: 'no-worker shop' });
  shop = clientFor(stack.url, client.apiKey);
  support = clientFor(stack.url, (await createClientViaApi(stack, 'support', { name: 'no-worker support' })).apiKey);
  const product = await admin.post('/v1/products', {
    sku,
    name: 'No worker',
    kind: 'card_key',
    price: { minor: 100, currency: 'CNY' },
  });
  expect(product.status).toBe(201);
  const topup = await admin.post(`/v1/clients/${client.id}/topups`, { amount: { minor: 10_000, currency: 'CNY' } });
  expect(topup.status).toBeLessThan(300);
});
afterAll(() => stack.close());

/** Waits until the workflow exists (intake starts an order's in the background). */
async function started(workflowId: string) {
  for (let i = 0; i < 100; i++) {
    const found = await stack.deps.temporal.workflow
      .getHandle(workflowId)
      .describe()
      .then(() => true)
      .catch(() => false);
    if (found) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${workflowId} never started`);
}

async function expectBoundedRefusal(send: () => Promise<Awaited<ReturnType<typeof shop.post>>>) {
  const before = await rowCounts(stack.db);
  const at = Date.now();
  const res = await send();
  const took = Date.now() - at;
  expectProblem(res, 503, 'workflow_unavailable');
  expect(took).toBeGreaterThanOrEqual(UPDATE_WITHIN_MS - 500);
  expect(took).toBeLessThan(UPDATE_WITHIN_MS + 5_000);
  expect(await rowCounts(stack.db)).toEqual(before);
}

test('resuming an order whose workflow no worker runs: 503 workflow_unavailable after the deadline, not a hang', async () => {
  const order = await shop.post('/v1/orders', {
    externalOrderId: 'no-worker-1',
    buyer: { id: 'b1', ip: '203.0.113.7' },
    items: [{ sku, quantity: 1 }],
  });
  expect(order.status).toBe(202);
  const { workflowId } = await stack.db.order.findUniqueOrThrow({ where: { id: order.body.id } });
  await started(workflowId);
  await expectBoundedRefusal(() => support.post(`/v1/orders/${order.body.id}/resume`, { reason: 'supplier fixed' }));
});

test('pausing and cancelling a subscription whose workflow no worker runs: 503 workflow_unavailable, not a hang', async () => {
  const created = await shop.post('/v1/subscriptions', {
    externalSubscriptionId: 'no-worker-sub-1',
    buyer: { id: 'b1', ip: '203.0.113.7' },
    sku,
    period: 'month',
  });
  expect(created.status).toBe(202);
  const { workflowId } = await stack.db.subscription.findUniqueOrThrow({ where: { id: created.body.id } });
  await started(workflowId);
  await expectBoundedRefusal(() => shop.post(`/v1/subscriptions/${created.body.id}/pause`, {}));
  await expectBoundedRefusal(() => support.post(`/v1/subscriptions/${created.body.id}/cancel`, { reason: 'asked' }));
});
