// Acceptance: a workflow started through the API's Temporal client runs an activity that
// writes to PostgreSQL; we read the row back and the workflow result.
import { adminKey } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { startStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

test('POST /v1/probes runs a workflow whose activity writes a row we can read back', async () => {
  const admin = clientFor(stack.url, await adminKey(stack));
  const res = await admin.post('/v1/probes');
  expect(res.status).toBe(201);

  const row = await stack.db.probeRun.findUniqueOrThrow({ where: { workflowId: res.body.workflowId } });
  expect(res.body.probeId).toBe(row.id);
  expect(res.body.workerIdentity).toBe(row.workerIdentity);
  expect(row.workerIdentity).toMatch(/:test$/);

  const handle = stack.deps.temporal.workflow.getHandle(res.body.workflowId);
  await expect(handle.result()).resolves.toEqual({ probeId: row.id, workerIdentity: row.workerIdentity });
  expect((await handle.describe()).status.name).toBe('COMPLETED');
});

test('/readyz reports the database and Temporal reachable; /healthz answers without either', async () => {
  const ready = await clientFor(stack.url).get('/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok' } });
  expect((await clientFor(stack.url).get('/healthz')).status).toBe(200);
});

test('probes need an API key', async () => {
  const res = await clientFor(stack.url).post('/v1/probes');
  expectProblem(res, 401, 'unauthenticated');
});
