// Histories of real renewal workflows (tests/replay/histories/subscriptions/, recorded by
// record.subscription-histories.ts) must replay on today's code: a subscription lives for
// years, so a change that would break the renewals in flight fails here, in CI. A
// deliberately non-deterministic variant proves the test can fail.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ROOT, workflowBundle } from '../support/stack';

jest.setTimeout(120_000);

const DIR = path.join(__dirname, 'histories', 'subscriptions');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

async function replayAll(bundle: WorkflowBundleWithSourceMap) {
  const histories = files.map((file) => ({
    workflowId: file,
    history: temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(path.join(DIR, file), 'utf8'))),
  }));
  const failures: { file: string; error: string }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    if (result.error) failures.push({ file: result.workflowId, error: String(result.error) });
  }
  return failures;
}

/** The workflow's event types in a history, to check what the committed files cover. */
function eventTypes(file: string): string[] {
  const history = JSON.parse(readFileSync(path.join(DIR, file), 'utf8'));
  return history.events.map((e: { eventType: string }) => e.eventType);
}

test('the committed renewal histories cover renewals, dunning, expiry, cancels, Updates and continue-as-new', () => {
  for (const kind of ['renewed', 'dunning', 'expired', 'cancelled', 'continued', 'paused', 'price-changed']) {
    expect(files.some((f) => f.includes(kind))).toBe(true);
  }
  const all = files.flatMap(eventTypes);
  for (const type of [
    'EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED',
    'EVENT_TYPE_TIMER_FIRED',
    'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
    'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
    'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED',
  ]) {
    expect(all).toContain(type);
  }
});

test('every committed renewal history replays on the current workflow code', async () => {
  expect(await replayAll(await workflowBundle())).toEqual([]);
});

test('a non-deterministic change (the renewal notice no longer waits for its time) fails the replay', async () => {
  const wait = 'if (await waitUntil(due.at - noticeLeadMs)) continue;';
  const source = readFileSync(path.join(ROOT, 'workflows/subscription.ts'), 'utf8');
  expect(source).toContain(wait);
  const changed = source
    .replace(wait, '')
    .replace(/from '\.\.\//g, `from '${ROOT}/`)
    .replace(/from '\.\//g, `from '${ROOT}/workflows/`);
  const dir = mkdtempSync(path.join(ROOT, 'tests/replay/.nondeterministic-'));
  try {
    writeFileSync(path.join(dir, 'index.ts'), changed);
    const bundle = await bundleWorkflowCode({ workflowsPath: path.join(dir, 'index.ts'), logger: quiet });
    const failures = await replayAll(bundle);
    // Every first run waited for a renewal notice; each of them breaks.
    const firstRuns = files.filter((f) => !f.includes('-continued'));
    expect(failures.map((f) => f.file).sort()).toEqual(expect.arrayContaining(firstRuns));
    expect(failures.map((f) => f.error).join('\n')).toMatch(/[Nn]ondeterminis/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const noop = () => undefined;
const quiet = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
