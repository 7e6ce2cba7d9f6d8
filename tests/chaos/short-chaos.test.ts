// Issue 16: the short chaos run (a minute): mixed orders while a worker and the API are
// SIGKILLed, the Temporal dev server restarts and PostgreSQL connections drop; every invariant holds.
import { formatVerdict, runChaos, SHORT } from '../../scripts/lib/chaos';

jest.setTimeout(240_000);

test('orders under worker and API kills, a Temporal restart and dropped connections keep every invariant', async () => {
  const seed = Number(process.env.CHAOS_SEED ?? 20261124);
  const verdict = await runChaos({ ...SHORT, seed });
  process.stderr.write(formatVerdict(verdict));
  expect(verdict.checks.filter((c) => !c.ok)).toEqual([]);
  expect(verdict.orders).toBe(SHORT.orders);
  expect(verdict.faults.workerKills).toBeGreaterThanOrEqual(1);
  expect(verdict.faults.apiKills).toBeGreaterThanOrEqual(1);
  expect(verdict.faults.temporalRestarts).toBeGreaterThanOrEqual(1);
  expect(verdict.faults.droppedConnections).toBeGreaterThanOrEqual(3);
});
