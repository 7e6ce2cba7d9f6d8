// Records histories of real orders for the replay test: `npm run histories:record`. Run it
// when a workflow change is deliberate and patched (docs/workflow-changes.md), and commit
// the new files beside the old ones: old histories must keep replaying.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { workflowIds } from '../../domain/workflow-ids';
import { resumeUpdate, reviewDecisionUpdate, statusQuery } from '../../workflows/order-messages';
import { startSupplierSim, type SupplierSim } from '../../scripts/lib/supplier-sim';
import { activityGate } from '../support/activity-gate';
import { adminKey } from '../support/clients';
import { clientFor } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { addRoute, addSupplier } from '../support/suppliers';
import { waitFor } from '../support/wait';
import { startWebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(120_000);

const DIR = path.join(__dirname, 'histories');
const gate = activityGate();
let stack: TestStack;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let sim: SupplierSim;
beforeAll(async () => {
  stack = await startStack({ workerOptions: gate.workerOptions });
  receiver = await startWebhookReceiver();
  sim = await startSupplierSim();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
  await sim.close();
});

type SupplierFaults = Parameters<Awaited<ReturnType<typeof addSupplier>>['setFaults']>[0];

async function record(
  name: string,
  scenario: {
    stock: number;
    topUp: number;
    quantity?: number;
    webhook?: boolean;
    allowPartial?: boolean;
    /** Suppliers routed in this order, each with its stock and faults. */
    suppliers?: { stock: number; faults?: SupplierFaults }[];
    /** Pay by card (stripe-mock) instead of the balance. */
    card?: boolean;
    /** A patch of the SKU's risk policy. */
    riskPolicy?: Record<string, unknown>;
    /** Step bounds for this order (the config's ORDER_RETRY_* and ORDER_PARK_*, as numbers). */
    bounds?: Partial<Record<'ORDER_RETRY_MAX_MS' | 'ORDER_PARK_AFTER_MS' | 'ORDER_PARK_HISTORY_EVENTS', number>>;
  },
  during?: (workflowId: string, orderId: string) => Promise<void>,
) {
  // RECORD=name,name records only those (the others' files stay as they were).
  if (process.env.RECORD && !process.env.RECORD.split(',').includes(name)) return;
  const ctx = await shopWithStock(stack, {
    stock: scenario.stock,
    topUp: scenario.topUp,
    ...(scenario.webhook ? { webhookUrl: receiver.url } : {}),
  });
  const admin = clientFor(stack.url, await adminKey(stack));
  if (scenario.riskPolicy) await admin.patch(`/v1/risk/policies/${ctx.sku}`, scenario.riskPolicy);
  for (const [priority, s] of (scenario.suppliers ?? []).entries()) {
    const supplier = await addSupplier(sim.url, admin, {
      products: { P: { kind: 'card_key', costMinor: 1000, stock: s.stock } },
      settings: { callbackDeadlineMs: 2_000 },
    });
    if (s.faults) await supplier.setFaults(s.faults);
    await addRoute(admin, ctx.sku, supplier, { productCode: 'P', costMinor: 1000, priority });
  }
  const body = {
    ...orderBody(ctx.sku, scenario.quantity ?? 1),
    ...(scenario.allowPartial ? { allowPartial: true } : {}),
    ...(scenario.card ? { payment: { method: 'stripe', paymentMethodId: 'pm_card_visa' } } : {}),
  };
  const workflowId = workflowIds.order(ctx.shop.id, body.externalOrderId);
  // The bounds are read when the order starts (just before its 202): set for this one only.
  const bounds = Object.entries(scenario.bounds ?? {});
  const saved = bounds.map(([key]) => [key, stack.config[key as keyof typeof stack.config]]);
  Object.assign(stack.config, Object.fromEntries(bounds));
  const accepted = await ctx.api.post('/v1/orders', body);
  Object.assign(stack.config, Object.fromEntries(saved));
  await during?.(workflowId, accepted.body.id);
  await waitForTerminal(ctx.api, accepted.body.id, 60_000);
  const handle = stack.deps.temporal.workflow.getHandle(workflowId);
  await handle.result().catch(() => undefined); // cancelled ones fail; the history is what matters
  // HISTORY_LABEL names a shape recorded on a day that already has files (e.g. `lean`).
  const label = process.env.HISTORY_LABEL ? `${process.env.HISTORY_LABEL}-` : '';
  // A run continued as new is preceded by the runs it continued: each is a file, the first
  // under the scenario's name, the later ones `-continued`, `-continued-2`, ….
  const runs = [History.fromObject(await handle.fetchHistory())];
  for (;;) {
    const previous = runs[0]!.events[0]!.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) break;
    runs.unshift(History.fromObject(await stack.deps.temporal.workflow.getHandle(workflowId, previous).fetchHistory()));
  }
  for (const [i, history] of runs.entries()) {
    const suffix = i === 0 ? '' : i === 1 ? '-continued' : `-continued-${i}`;
    const file = path.join(DIR, `${new Date().toISOString().slice(0, 10)}-${label}${name}${suffix}.json`);
    const json = History.toObject(history, { enums: String, longs: String, bytes: String });
    writeFileSync(file, `${JSON.stringify(json, null, 1)}\n`);
  }
}

const History = temporal.api.history.v1.History;

/** A database fault for the recorded order: every `table` write raises 40001 until removed. */
async function recordFault(table: string, condition = 'true') {
  await stack.db.$executeRawUnsafe(`
    CREATE OR REPLACE FUNCTION record_fault() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF ${condition} THEN RAISE EXCEPTION 'recorded fault' USING ERRCODE = '40001'; END IF; RETURN NEW; END $$`);
  await stack.db.$executeRawUnsafe(
    `CREATE TRIGGER record_fault BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION record_fault()`,
  );
  return async () => {
    await stack.db.$executeRawUnsafe(`DROP TRIGGER record_fault ON ${table}`);
    await stack.db.$executeRawUnsafe('DROP FUNCTION record_fault()');
  };
}

/** Waits for the order to park under the fault, removes the fault, and resumes the order. */
async function parkThenResume(workflowId: string, table: string, condition?: string) {
  const removeFault = await recordFault(table, condition);
  const handle = stack.deps.temporal.workflow.getHandle(workflowId);
  await waitFor(
    async () => (await handle.query(statusQuery).catch(() => undefined))?.parked?.marked === true,
    'the parking',
    90_000,
  );
  await removeFault();
  await handle.executeUpdate(resumeUpdate, {
    args: [{ reason: 'recorded', actor: { clientId: null, name: 'recorder' } }],
  });
}

test('record order histories', async () => {
  await record('delivered-with-webhook', { stock: 3, topUp: 10 * PRICE, quantity: 2, webhook: true });
  await record('delivered-no-webhook', { stock: 1, topUp: 10 * PRICE });
  await record('refunded-out-of-stock', { stock: 1, topUp: 10 * PRICE, quantity: 2, webhook: true });
  await record('failed-insufficient-balance', { stock: 1, topUp: PRICE / 2, webhook: true });
  await record('cancelled-while-reserving', { stock: 1, topUp: 10 * PRICE, webhook: true }, async (workflowId) => {
    const held = gate.hold(workflowId, 'fulfilFromStock');
    await waitFor(held.reached, 'the reservation step');
    await stack.deps.temporal.workflow.getHandle(workflowId).cancel();
    await new Promise((r) => setTimeout(r, 10_000)); // the held local activity's workflow task heartbeats after ~8 s
    held.open();
  });
  await record('retried-step', { stock: 1, topUp: 10 * PRICE }, async (workflowId) => {
    const held = gate.hold(workflowId, 'fulfilFromStock');
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
  await record('supplier-fallback', {
    stock: 0,
    topUp: 10 * PRICE,
    webhook: true,
    suppliers: [{ stock: 10, faults: { rules: [{ kind: 'error_500', on: 'any' }] } }, { stock: 10 }],
  });
  await record('supplier-lost-answer-found', {
    stock: 0,
    topUp: 10 * PRICE,
    suppliers: [{ stock: 10, faults: { rules: [{ kind: 'lost_response', times: 1 }] } }],
  });
  await record('supplier-async-callback', {
    stock: 0,
    topUp: 10 * PRICE,
    suppliers: [{ stock: 10, faults: { rules: [{ kind: 'async_callback', callbackDelayMs: 200 }] } }],
  });
  await record('supplier-async-cancelled-then-next', {
    stock: 0,
    topUp: 10 * PRICE,
    suppliers: [{ stock: 10, faults: { rules: [{ kind: 'async_never' }] } }, { stock: 10 }],
  });
  await record('partially-delivered', {
    stock: 1,
    topUp: 10 * PRICE,
    quantity: 3,
    allowPartial: true,
    webhook: true,
    suppliers: [{ stock: 1 }],
  });
  await record('card-paid-delivered', { stock: 1, topUp: 0, card: true, webhook: true });
  await record('card-paid-out-of-stock-voided', { stock: 0, topUp: 0, card: true });
  await record('risk-blocked', {
    stock: 1,
    topUp: 10 * PRICE,
    webhook: true,
    riskPolicy: { thresholds: { review: 10, block: 20 } },
  });
  await record(
    'risk-review-approved',
    { stock: 1, topUp: 10 * PRICE, riskPolicy: { thresholds: { review: 20, block: 200 } } },
    async (workflowId, orderId) => {
      let reviewId: string | undefined;
      await waitFor(async () => {
        reviewId = (await stack.db.riskReview.findFirst({ where: { orderId, status: 'open' } }))?.id;
        return reviewId !== undefined;
      }, 'the review');
      await stack.deps.temporal.workflow.getHandle(workflowId).executeUpdate(reviewDecisionUpdate, {
        args: [
          { reviewId: reviewId!, decision: 'approve', note: 'recorded', actor: { clientId: null, name: 'recorder' } },
        ],
      });
    },
  );
  await record(
    'parked-then-resumed',
    { stock: 1, topUp: 10 * PRICE, bounds: { ORDER_RETRY_MAX_MS: 5, ORDER_PARK_HISTORY_EVENTS: 60 } },
    (workflowId) => parkThenResume(workflowId, 'card_keys'),
  );
  await record(
    'parked-by-time-resumed',
    { stock: 1, topUp: 10 * PRICE, bounds: { ORDER_RETRY_MAX_MS: 5, ORDER_PARK_AFTER_MS: 300 } },
    (workflowId) => parkThenResume(workflowId, 'card_keys'),
  );
  await record(
    'compensation-parked-then-resumed',
    { stock: 0, topUp: 10 * PRICE, bounds: { ORDER_RETRY_MAX_MS: 5, ORDER_PARK_HISTORY_EVENTS: 60 } },
    (workflowId) => parkThenResume(workflowId, 'order_status_history', "NEW.status = 'refunded'"),
  );
  await record('risk-review-deadline-rejected', {
    stock: 1,
    topUp: 10 * PRICE,
    riskPolicy: { thresholds: { review: 20, block: 200 }, review: { deadlineSeconds: 10 } },
  });
});
