// Webhook retries (a receiver that is briefly down still gets the event, once), per-order
// callbackUrl, partial stock (reserved keys go back on the shelf), and replay of a real
// order history against the current workflow code (determinism).
import { Worker } from '@temporalio/worker';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, workflowBundle, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';
import { startWebhookReceiver } from '../support/webhook-receiver';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

test('a webhook receiver that fails twice still gets the event, and only once', async () => {
  const receiver = await startWebhookReceiver({ failFirst: 2 });
  try {
    const { sku, api } = await shopWithStock(stack, { stock: 2, topUp: 10 * PRICE, webhookUrl: receiver.url });
    const placed = await api.post('/v1/orders', orderBody(sku, 1));
    expect((await waitForTerminal(api, placed.body.id)).status).toBe('delivered');
    await waitFor(() => receiver.received.length === 1, 'the webhook');
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.body).toMatchObject({ type: 'order.delivered', data: { orderId: placed.body.id } });
  } finally {
    await receiver.close();
  }
});

test("an order's callbackUrl takes precedence over the client's webhookUrl, for failures too", async () => {
  const clientHook = await startWebhookReceiver();
  const orderHook = await startWebhookReceiver();
  try {
    const { sku, api } = await shopWithStock(stack, { stock: 2, topUp: PRICE, webhookUrl: clientHook.url });
    const placed = await api.post('/v1/orders', { ...orderBody(sku, 3), callbackUrl: orderHook.url });
    expect((await waitForTerminal(api, placed.body.id)).status).toBe('failed');
    await waitFor(() => orderHook.received.length === 1, 'the webhook');
    expect(orderHook.received[0]?.body).toMatchObject({ type: 'order.failed', data: { status: 'failed' } });
    expect(clientHook.received).toHaveLength(0);
  } finally {
    await clientHook.close();
    await orderHook.close();
  }
});

test('partial stock: the units that got keys give them back, the order is refunded in full', async () => {
  const { sku, api } = await shopWithStock(stack, { stock: 2, topUp: 10 * PRICE });
  const placed = await api.post('/v1/orders', orderBody(sku, 3));
  const order = await waitForTerminal(api, placed.body.id);
  expect(order.status).toBe('refunded');
  expect(order.history.map((h: { status: string }) => h.status)).toEqual(['received', 'fulfilling', 'refunded']);
  expect(order.history.at(-1).reason).toBe('out of stock: 1 of 3 units unavailable');
  expect(order.claimUrl).toBeUndefined();
  const product = await stack.db.product.findUniqueOrThrow({ where: { sku } });
  expect(await stack.db.cardKey.count({ where: { productId: product.id, status: 'available' } })).toBe(2);
  expect((await api.get('/v1/balance')).body.available.minor).toBe(10 * PRICE);

  // The same history replays against today's workflow code without non-determinism.
  const workflowId = (await stack.db.order.findUniqueOrThrow({ where: { id: order.id } })).workflowId;
  const history = await stack.deps.temporal.workflow.getHandle(workflowId).fetchHistory();
  await expect(
    Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId),
  ).resolves.toBeUndefined();
});
