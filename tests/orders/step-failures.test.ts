// Issue 16: what a failing step does. A database fault that may pass is retried until it
// does, visibly (status query, stuck-orders listing); one that cannot pass ends the order
// refunded with its cause; a compensation is one transaction, so a fault inside it leaves
// nothing half done. Faults are real PostgreSQL errors raised by triggers scoped to one
// test's product or client.
import { transitionOrderInTx } from '../../store/orders';
import { workflowIds } from '../../domain/workflow-ids';
import { statusQuery } from '../../workflows/order-messages';
import { createClientViaApi } from '../support/clients';
import { injectFault } from '../support/db-faults';
import { clientFor, expectProblem } from '../support/http';
import { orderBody, PRICE, shopWithStock, startedWorkflow, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';
import { startWebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(90_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

function fault(table: string, when: 'BEFORE UPDATE' | 'BEFORE INSERT', condition: string, sqlState: string) {
  return injectFault(stack.db, table, when, condition, sqlState);
}

async function productIdOf(sku: string) {
  return (await stack.db.product.findUniqueOrThrow({ where: { sku } })).id;
}

test('a step that keeps failing shows its attempts and last error, is listed as stuck, and completes once the fault passes', async () => {
  const ctx = await shopWithStock(stack, { stock: 1, topUp: 5 * PRICE });
  // 40001 (serialization failure) is the kind of error that passes: retried, not given up.
  const broken = await fault('card_keys', 'BEFORE UPDATE', `NEW.product_id = '${await productIdOf(ctx.sku)}'`, '40001');
  const body = orderBody(ctx.sku, 1);
  const accepted = await ctx.api.post('/v1/orders', body);
  const handle = await startedWorkflow(stack, workflowIds.order(ctx.shop.id, body.externalOrderId));

  let progress: any;
  await waitFor(async () => {
    progress = await handle.query(statusQuery);
    return progress.attempt >= 3;
  }, 'three failed attempts');
  expect(progress).toMatchObject({ status: 'fulfilling', step: 'reserving', attempt: expect.any(Number) });
  expect(progress.lastError).toContain(`database error 40001: injected fault ${broken.name}`);

  // Support sees it in the stuck listing, with the workflow's own account; a shop may not list.
  await new Promise((r) => setTimeout(r, 1_100));
  const support = clientFor(stack.url, (await createClientViaApi(stack, 'support')).apiKey);
  const stuck = await support.get('/v1/orders?stuckFor=1s');
  expect(stuck.status).toBe(200);
  expect(stuck.body.orders).toContainEqual(
    expect.objectContaining({
      id: accepted.body.id,
      status: 'fulfilling',
      stuckForSeconds: expect.any(Number),
      workflow: expect.objectContaining({ step: 'reserving', lastError: expect.stringContaining('40001') }),
    }),
  );
  expectProblem(await ctx.api.get('/v1/orders?stuckFor=1s'), 403, 'forbidden');
  expectProblem(await support.get('/v1/orders?stuckFor=soon'), 422, 'validation_failed');

  await broken.remove();
  const order = await waitForTerminal(ctx.api, accepted.body.id, 60_000);
  expect(order.status).toBe('delivered');
  const moves = await stack.db.ledgerTransaction.findMany({ where: { orderId: order.id }, orderBy: { id: 'asc' } });
  expect(moves.map((m) => m.kind)).toEqual(['hold', 'capture']);
  await expect(handle.query(statusQuery)).resolves.not.toHaveProperty('attempt');
  expect((await support.get('/v1/orders?stuckFor=1s')).body.orders.map((o: any) => o.id)).not.toContain(order.id);
});

test('a failure that cannot pass, after charging, refunds the order with its cause as the reason', async () => {
  const ctx = await shopWithStock(stack, { stock: 1, topUp: 5 * PRICE });
  // P0001 (raised on purpose) is permanent: retrying cannot help.
  const broken = await fault('card_keys', 'BEFORE UPDATE', `NEW.product_id = '${await productIdOf(ctx.sku)}'`, 'P0001');
  try {
    const body = orderBody(ctx.sku, 1);
    const accepted = await ctx.api.post('/v1/orders', body);
    const order = await waitForTerminal(ctx.api, accepted.body.id);
    expect(order.status).toBe('refunded');
    expect(order.history.at(-1).reason).toBe(`fulfilment error: database error P0001: injected fault ${broken.name}`);
    const kinds = (await stack.db.ledgerTransaction.findMany({ where: { orderId: order.id } }))
      .map((e) => e.kind)
      .sort();
    expect(kinds).toEqual(['hold', 'release']);
  } finally {
    await broken.remove();
  }
});

test('a fault inside the compensation leaves nothing half done: no refund without the refunded status', async () => {
  const ctx = await shopWithStock(stack, { stock: 0, topUp: 5 * PRICE }); // out of stock → compensation
  const broken = await fault(
    'order_status_history',
    'BEFORE INSERT',
    `NEW.status = 'refunded' AND EXISTS (SELECT 1 FROM orders WHERE id = NEW.order_id AND client_id = '${ctx.shop.id}')`,
    '40001',
  );
  const body = orderBody(ctx.sku, 1);
  const accepted = await ctx.api.post('/v1/orders', body);
  const handle = await startedWorkflow(stack, workflowIds.order(ctx.shop.id, body.externalOrderId));
  await waitFor(async () => ((await handle.query(statusQuery)).attempt ?? 0) >= 2, 'the compensation to fail twice');
  expect(await handle.query(statusQuery)).toMatchObject({ step: 'compensating' });
  // The refund and the status change are one transaction: neither is there.
  expect(await stack.db.ledgerTransaction.count({ where: { orderId: accepted.body.id, kind: 'release' } })).toBe(0);
  expect((await ctx.api.get(`/v1/orders/${accepted.body.id}`)).body.status).toBe('fulfilling');

  await broken.remove();
  const order = await waitForTerminal(ctx.api, accepted.body.id, 60_000);
  expect(order.status).toBe('refunded');
  expect(await stack.db.ledgerTransaction.count({ where: { orderId: order.id, kind: 'release' } })).toBe(1);
  expect((await ctx.api.get('/v1/balance')).body.available.minor).toBe(5 * PRICE);
});

test('a retried webhook announces the status the workflow decided, even after the order has moved on', async () => {
  const receiver = await startWebhookReceiver({ failFirst: 2 });
  try {
    const ctx = await shopWithStock(stack, { stock: 1, topUp: 5 * PRICE, webhookUrl: receiver.url });
    const accepted = await ctx.api.post('/v1/orders', orderBody(ctx.sku, 1));
    await waitForTerminal(ctx.api, accepted.body.id);
    // A later compensation refunds the delivered order while the delivery webhook is still being retried.
    await stack.db.$transaction((tx) => transitionOrderInTx(tx, accepted.body.id, 'refunded', 'compensated'));
    await waitFor(() => receiver.received.length > 0, 'the webhook to get through', 30_000);
    expect(receiver.received[0]!.body).toMatchObject({
      id: `evt_${accepted.body.id}_delivered`,
      type: 'order.delivered',
      data: { status: 'delivered' },
    });
  } finally {
    await receiver.close();
  }
});
