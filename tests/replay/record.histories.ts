// Records histories of real orders for the replay test: `npm run histories:record`. Run it
// when a workflow change is deliberate and patched (docs/workflow-changes.md), and commit
// the new files beside the old ones: old histories must keep replaying.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { workflowIds } from '../../domain/workflow-ids';
import { activityGate } from '../support/activity-gate';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';
import { startWebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(120_000);

const DIR = path.join(__dirname, 'histories');
const gate = activityGate();
let stack: TestStack;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
beforeAll(async () => {
  stack = await startStack({ workerOptions: gate.workerOptions });
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

async function record(
  name: string,
  scenario: { stock: number; topUp: number; quantity?: number; webhook?: boolean },
  during?: (workflowId: string, orderId: string) => Promise<void>,
) {
  const ctx = await shopWithStock(stack, {
    stock: scenario.stock,
    topUp: scenario.topUp,
    ...(scenario.webhook ? { webhookUrl: receiver.url } : {}),
  });
  const body = orderBody(ctx.sku, scenario.quantity ?? 1);
  const workflowId = workflowIds.order(ctx.shop.id, body.externalOrderId);
  const accepted = await ctx.api.post('/v1/orders', body);
  await during?.(workflowId, accepted.body.id);
  await waitForTerminal(ctx.api, accepted.body.id, 60_000);
  const handle = stack.deps.temporal.workflow.getHandle(workflowId);
  await handle.result().catch(() => undefined); // cancelled ones fail; the history is what matters
  const file = path.join(DIR, `${new Date().toISOString().slice(0, 10)}-${name}.json`);
  const history = temporal.api.history.v1.History.fromObject(await handle.fetchHistory());
  const json = temporal.api.history.v1.History.toObject(history, { enums: String, longs: String, bytes: String });
  writeFileSync(file, `${JSON.stringify(json, null, 1)}\n`);
}

test('record order histories', async () => {
  await record('delivered-with-webhook', { stock: 3, topUp: 10 * PRICE, quantity: 2, webhook: true });
  await record('delivered-no-webhook', { stock: 1, topUp: 10 * PRICE });
  await record('refunded-out-of-stock', { stock: 1, topUp: 10 * PRICE, quantity: 2, webhook: true });
  await record('failed-insufficient-balance', { stock: 1, topUp: PRICE / 2, webhook: true });
  await record('cancelled-while-reserving', { stock: 1, topUp: 10 * PRICE, webhook: true }, async (workflowId) => {
    const held = gate.hold(workflowId, 'reserveKeys');
    await waitFor(held.reached, 'the reservation step');
    await stack.deps.temporal.workflow.getHandle(workflowId).cancel();
    await new Promise((r) => setTimeout(r, 10_000)); // the held local activity's workflow task heartbeats after ~8 s
    held.open();
  });
  await record('retried-step', { stock: 1, topUp: 10 * PRICE }, async (workflowId) => {
    const held = gate.hold(workflowId, 'reserveKeys');
    await waitFor(held.reached, 'the reservation step');
    await stack.db.$executeRawUnsafe(`
      CREATE OR REPLACE FUNCTION record_fault() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'recorded fault' USING ERRCODE = '40001'; END $$`);
    await stack.db.$executeRawUnsafe(
      'CREATE TRIGGER record_fault BEFORE UPDATE ON card_keys FOR EACH ROW EXECUTE FUNCTION record_fault()',
    );
    held.open();
    await new Promise((r) => setTimeout(r, 1_500)); // a few failed attempts and backoff timers
    await stack.db.$executeRawUnsafe('DROP TRIGGER record_fault ON card_keys');
    await stack.db.$executeRawUnsafe('DROP FUNCTION record_fault()');
  });
});
