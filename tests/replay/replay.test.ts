// Histories of real orders, recorded by earlier versions of the workflow and committed, must
// replay on today's code: a change that would break orders in flight fails here, in CI,
// before it is deployed. A deliberately non-deterministic variant proves the test can fail.
import { readdirSync, readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ROOT, workflowBundle } from '../support/stack';

jest.setTimeout(120_000);

const DIR = path.join(__dirname, 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

function histories() {
  return files.map((file) => {
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(path.join(DIR, file), 'utf8')));
    return { workflowId: file, history };
  });
}

async function replayAll(bundle: WorkflowBundleWithSourceMap) {
  const failures: { file: string; error: string }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories())) {
    if (result.error) failures.push({ file: result.workflowId, error: String(result.error) });
  }
  return failures;
}

test('the committed histories cover delivered, refunded, failed, cancelled and retried orders', () => {
  for (const kind of ['delivered', 'refunded', 'failed', 'cancelled', 'retried']) {
    expect(files.some((f) => f.includes(kind))).toBe(true);
  }
});

test('every committed order history replays on the current workflow code', async () => {
  expect(await replayAll(await workflowBundle())).toEqual([]);
});

/** Whether a history carries the marker of a patch (whose id is base64 inside the marker's payload). */
function hasPatch(file: string, patchId: string): boolean {
  const json = `{"id":"${patchId}"`;
  const prefix = Buffer.from(json.slice(0, json.length - (json.length % 3))).toString('base64');
  return readFileSync(path.join(DIR, file), 'utf8').includes(prefix);
}

/** The order workflow version a history's order was started with (1 when its input names none). */
function startedVersion(file: string): number {
  const history = JSON.parse(readFileSync(path.join(DIR, file), 'utf8'));
  const payload = history.events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
  return JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')).version ?? 1;
}

/** Replays every history on a variant of today's workflow code, bundled from a temp copy. */
async function replayVariant(change: (source: string) => string) {
  const source = readFileSync(path.join(ROOT, 'workflows/order.ts'), 'utf8');
  const changed = change(source)
    .replace(/from '\.\.\//g, `from '${ROOT}/`)
    .replace(/from '\.\//g, `from '${ROOT}/workflows/`);
  expect(changed).not.toBe(source);
  const dir = mkdtempSync(path.join(ROOT, 'tests/replay/.nondeterministic-'));
  try {
    writeFileSync(path.join(dir, 'index.ts'), changed);
    const bundle = await bundleWorkflowCode({ workflowsPath: path.join(dir, 'index.ts'), logger: quiet });
    return await replayAll(bundle);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a non-deterministic change (a step reordered) fails the replay', async () => {
  const reserve = 'const { reserved, missing, plan } = await durably(';
  const deliver = "await durably('delivering', () => steps.deliverOrder(orderId));";
  const failures = await replayVariant((source) => {
    expect(source).toContain(reserve);
    expect(source).toContain(deliver);
    return source.replace(reserve, `${deliver}\n    ${reserve}`);
  });
  expect(failures.length).toBeGreaterThan(0);
  expect(failures.map((f) => f.error).join('\n')).toMatch(/[Nn]ondeterminis/);
});

test('risk control without its patch guard would break every order recorded before it', async () => {
  const guard = "if (patched('risk-control')) {";
  const failures = await replayVariant((source) => {
    expect(source).toContain(guard);
    return source.replace(guard, 'if (true) {');
  });
  // Histories recorded before risk control carry no marker of its patch; version 2 orders
  // (which assess in their admit step, unpatched) are not among them.
  const preRisk = files.filter((f) => !hasPatch(f, 'risk-control') && startedVersion(f) < 2);
  expect(preRisk.length).toBeLessThan(files.length);
  expect(preRisk.length).toBeGreaterThan(0);
  expect(failures.map((f) => f.file).sort()).toEqual(expect.arrayContaining(preRisk));
  expect(failures.map((f) => f.error).join('\n')).toMatch(/[Nn]ondeterminis/);
});

test("sourcing that ignored the stock step's plan would break every order recorded since", async () => {
  const given = 'const plan: SourcingPlan = planned ??';
  const failures = await replayVariant((source) => {
    expect(source).toContain(given);
    return source.replace(given, 'const plan: SourcingPlan = undefined ??');
  });
  // Orders that reached the routes since the stock step plans: their plan came with it.
  const plannedInStock = files.filter((f) => f.includes('-stock-plan-'));
  expect(plannedInStock.length).toBeGreaterThanOrEqual(5);
  expect(failures.map((f) => f.file).sort()).toEqual(plannedInStock.sort());
});

test('a delivering step after a purchase that delivered would break every order recorded since', async () => {
  const guard = "if (!delivered) await durably('delivering'";
  const failures = await replayVariant((source) => {
    expect(source).toContain(guard);
    return source.replace(guard, "await durably('delivering'");
  });
  // Orders whose last unit a synchronous purchase bought (and delivered); the earlier supplier
  // orders, and those delivered after a callback, took the delivering step and replay it.
  const deliveredByPurchase = files.filter((f) => f.includes('-purchase-delivers-'));
  expect(deliveredByPurchase.length).toBeGreaterThanOrEqual(2);
  expect(failures.map((f) => f.file).sort()).toEqual(deliveredByPurchase.sort());
});

test('version 2 without its version check would break every order started before it', async () => {
  const guard = 'const lean = version >= 2;';
  const failures = await replayVariant((source) => {
    expect(source).toContain(guard);
    return source.replace(guard, 'const lean = true;');
  });
  const before = files.filter((f) => startedVersion(f) < 2);
  expect(before.length).toBeLessThan(files.length);
  expect(before.length).toBeGreaterThan(0);
  expect(failures.map((f) => f.file).sort()).toEqual(expect.arrayContaining(before));
  expect(failures.map((f) => f.error).join('\n')).toMatch(/[Nn]ondeterminis/);
});

test('bounded retries without their patch would break every order recorded parking', async () => {
  const guard = "if (!patched('bounded-retries')) {";
  const failures = await replayVariant((source) => {
    expect(source).toContain(guard);
    return source.replace(guard, 'if (true) {');
  });
  // Orders whose step failed carry the patch's marker; the failures of the older ones
  // (retried-step) are too short to park, so only the parked ones take another path.
  const parked = files.filter((f) => f.includes('parked') && hasPatch(f, 'bounded-retries'));
  expect(parked.length).toBeGreaterThanOrEqual(3);
  expect(failures.map((f) => f.file).sort()).toEqual(expect.arrayContaining(parked));
  expect(failures.map((f) => f.error).join('\n')).toMatch(/[Nn]ondeterminis/);
});

test('a run continued from a parked one that ignored its carried position would break', async () => {
  const carried = 'const from = carried?.position;';
  const failures = await replayVariant((source) => {
    expect(source).toContain(carried);
    return source.replace(carried, 'const from = undefined as OrderPosition | undefined;');
  });
  const continued = files.filter((f) => f.includes('-continued'));
  expect(continued.length).toBeGreaterThanOrEqual(2);
  expect(failures.map((f) => f.file).sort()).toEqual(continued.sort());
});

const noop = () => undefined;
const quiet = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
