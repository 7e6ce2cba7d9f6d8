// Records histories of the scheduled workflows (catalog sync, supplier reconciliation) for
// tests/replay/schedule-histories.test.ts:
// `npx jest --runInBand --testMatch '**/tests/replay/record.schedule-histories.ts'`.
// Commit the new files beside the old ones when a change to these workflows is deliberate
// (docs/workflow-changes.md): old histories must keep replaying. RECORD=name,name records
// only those; HISTORY_LABEL names a shape recorded on a day that already has files.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { ReferenceCredentials } from '../../domain/suppliers';
import { signRequest } from '../../infra/request-signature';
import { startSupplierSim, type SupplierSim } from '../../scripts/lib/supplier-sim';
import { credentialsOf } from '../../store/suppliers/registry';
import { adminKey } from '../support/clients';
import { clientFor } from '../support/http';
import { shopWithStock } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { addRoute, addSupplier } from '../support/suppliers';

jest.setTimeout(120_000);

const DIR = path.join(__dirname, 'schedule-histories');
const History = temporal.api.history.v1.History;
let stack: TestStack;
let sim: SupplierSim;
beforeAll(async () => {
  stack = await startStack();
  sim = await startSupplierSim();
});
afterAll(async () => {
  await stack.close();
  await sim.close();
});

async function record(name: string, workflowType: string, args: unknown[]) {
  if (process.env.RECORD && !process.env.RECORD.split(',').includes(name)) return;
  const workflowId = `${name}-${randomUUID()}`;
  await stack.deps.temporal.workflow.execute(workflowType, { taskQueue: stack.taskQueue, workflowId, args });
  const history = History.fromObject(await stack.deps.temporal.workflow.getHandle(workflowId).fetchHistory());
  const label = process.env.HISTORY_LABEL ? `${process.env.HISTORY_LABEL}-` : '';
  const file = path.join(DIR, `${new Date().toISOString().slice(0, 10)}-${label}${name}.json`);
  const json = History.toObject(history, { enums: String, longs: String, bytes: String });
  writeFileSync(file, `${JSON.stringify(json, null, 1)}\n`);
}

test('record scheduled workflow histories', async () => {
  const admin = clientFor(stack.url, await adminKey(stack));
  const { sku } = await shopWithStock(stack, { stock: 0, topUp: 0 });
  const card = { kind: 'card_key' as const, costMinor: 1000, stock: 5 };
  const healthy = await addSupplier(sim.url, admin, { products: { P: card } });
  const failing = await addSupplier(sim.url, admin, { products: { P: card } });
  await addRoute(admin, sku, healthy, { productCode: 'P', costMinor: 1000 });
  await addRoute(admin, sku, failing, { productCode: 'P', costMinor: 1000 });
  await failing.setFaults({ rules: [{ kind: 'error_500', on: 'quote' }] });
  // One supplier synced, one degraded.
  await record('catalog-sync-round', 'catalogSyncWorkflow', []);

  // A sale under a reference the platform never issued: found, and disputed.
  const row = await stack.db.supplier.findUniqueOrThrow({ where: { id: healthy.id } });
  const { accountId, secret } = ReferenceCredentials.parse(credentialsOf(stack.deps.keyring, row));
  const target = `/ref/${healthy.name}/orders`;
  const body = JSON.stringify({ reference: randomUUID(), productCode: 'P', maxCostMinor: 1000, currency: 'CNY' });
  const sold = await clientFor(sim.url).post(target, undefined, {
    raw: body,
    headers: {
      'content-type': 'application/json',
      'x-rights-account': accountId,
      'x-rights-signature': signRequest(secret, { method: 'POST', path: target, body }, Math.floor(Date.now() / 1000)),
    },
  });
  expect(sold.status).toBe(200);
  await record('supplier-reconciliation-round', 'supplierReconciliationWorkflow', [
    { supplierIds: [healthy.id, failing.id] },
  ]);
});
