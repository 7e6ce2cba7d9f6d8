// Histories of the scheduled workflows (catalog sync, supplier reconciliation), recorded by
// earlier versions and committed (tests/replay/record.schedule-histories.ts), must replay on
// today's code, as the order histories do (replay.test.ts). The catalog sync's heartbeats
// changed only its activities' options, not its commands: the round recorded before them
// replays unpatched. A variant that changes the commands proves the check can fail.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ROOT, workflowBundle } from '../support/stack';

jest.setTimeout(120_000);

const DIR = path.join(__dirname, 'schedule-histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

async function replayAll(bundle: WorkflowBundleWithSourceMap, which = files) {
  const histories = which.map((file) => ({
    workflowId: file,
    history: temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(path.join(DIR, file), 'utf8'))),
  }));
  const failures: { file: string; error: string }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    if (result.error) failures.push({ file: result.workflowId, error: String(result.error) });
  }
  return failures;
}

const workflowTypeOf = (file: string): string =>
  JSON.parse(readFileSync(path.join(DIR, file), 'utf8')).events[0].workflowExecutionStartedEventAttributes.workflowType
    .name;

test('the committed histories cover both scheduled workflows, and a catalog sync from before its heartbeats', () => {
  expect(new Set(files.map(workflowTypeOf))).toEqual(
    new Set(['catalogSyncWorkflow', 'supplierReconciliationWorkflow']),
  );
  expect(files.some((f) => f.includes('before-heartbeats') && workflowTypeOf(f) === 'catalogSyncWorkflow')).toBe(true);
});

test('every committed scheduled-workflow history replays on the current workflow code', async () => {
  expect(await replayAll(await workflowBundle())).toEqual([]);
});

test('a catalog sync that syncs its suppliers one after another instead would break the recorded rounds', async () => {
  const source = readFileSync(path.join(ROOT, 'workflows/catalog-sync.ts'), 'utf8');
  const concurrent = 'await eachLimited(ids, SUPPLIERS_AT_ONCE, async (id) => {';
  expect(source).toContain(concurrent);
  const changed = source
    .replace(concurrent, 'await eachLimited(ids, 1, async (id) => {\n    await catalog.listSyncableSuppliers();')
    .replace(/from '\.\.\//g, `from '${ROOT}/`)
    .replace(/from '\.\//g, `from '${ROOT}/workflows/`);
  const dir = mkdtempSync(path.join(ROOT, 'tests/replay/.nondeterministic-'));
  try {
    writeFileSync(path.join(dir, 'index.ts'), changed);
    const bundle = await bundleWorkflowCode({ workflowsPath: path.join(dir, 'index.ts'), logger: quiet });
    // The variant bundle holds the catalog sync only.
    const catalogFiles = files.filter((f) => workflowTypeOf(f) === 'catalogSyncWorkflow');
    const failures = await replayAll(bundle, catalogFiles);
    expect(failures.map((f) => f.file).sort()).toEqual(catalogFiles.sort());
    expect(failures.map((f) => f.error).join('\n')).toMatch(/[Nn]ondeterminis/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const noop = () => undefined;
const quiet = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
