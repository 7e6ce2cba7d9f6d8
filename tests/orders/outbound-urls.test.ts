// Issue 16 (SSRF) over the real stack: a callback or webhook URL that points at a private,
// loopback-without-listing, metadata or credentialed address is refused at intake with
// nothing written, and refused again at send time (here: a webhook URL already in the
// database), where the order still ends and the refusal is final, not retried.
import { temporal } from '@temporalio/proto';
import { workflowIds } from '../../domain/workflow-ids';
import { createClientViaApi } from '../support/clients';
import { expectProblem } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { rowCounts } from '../support/row-counts';
import { startStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

test.each([
  ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
  ['a private network', 'http://10.0.0.5/hooks'],
  ['cloud metadata, spelt in hex', 'http://0xa9fea9fe/hooks'],
  ['IPv4-mapped IPv6', 'http://[::ffff:192.168.0.1]/'],
  ['credentials', 'http://shop:secret@example.com/hooks'],
])('an order whose callbackUrl points at %s is refused, nothing written', async (_what, url) => {
  const ctx = await shopWithStock(stack, { stock: 1, topUp: 5 * PRICE });
  const before = await rowCounts(stack.db);
  const res = await ctx.api.post('/v1/orders', { ...orderBody(ctx.sku), callbackUrl: url });
  expectProblem(res, 422, 'url_not_allowed');
  expect(await rowCounts(stack.db)).toEqual(before);
});

test('a client whose webhookUrl points at a private address is refused', async () => {
  const before = await rowCounts(stack.db);
  await expect(createClientViaApi(stack, 'order-system', { webhookUrl: 'http://192.168.1.1/hooks' })).rejects.toThrow(
    /422.*url_not_allowed/,
  );
  expect(await rowCounts(stack.db)).toEqual(before);
});

test('at send time a webhook URL that is not public is refused once, and the order still ends', async () => {
  const ctx = await shopWithStock(stack, { stock: 1, topUp: 5 * PRICE });
  // Written straight to the database, as if it had passed an older check.
  await stack.db.client.update({ where: { id: ctx.shop.id }, data: { webhookUrl: 'http://169.254.169.254/hooks' } });
  const body = orderBody(ctx.sku);
  const accepted = await ctx.api.post('/v1/orders', body);
  const order = await waitForTerminal(ctx.api, accepted.body.id);
  expect(order.status).toBe('delivered');
  const handle = stack.deps.temporal.workflow.getHandle(workflowIds.order(ctx.shop.id, body.externalOrderId));
  await handle.result();
  const events = (await handle.fetchHistory()).events ?? [];
  const failed = events.filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED);
  expect(failed).toHaveLength(1);
  expect(failed[0]!.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.type).toBe('WebhookUrlRefused');
  expect(failed[0]!.activityTaskFailedEventAttributes?.failure?.message).toMatch(/169\.254\.169\.254.*not public/);
});
