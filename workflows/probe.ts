import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { recordProbe } = proxyActivities<Activities>({
  // A probe that cannot reach the database should fail fast, not retry for minutes.
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3 },
});

/** Proves the whole path API → Temporal → worker → PostgreSQL; /v1/probes runs it. */
export async function probeWorkflow(): Promise<{ probeId: string; workerIdentity: string }> {
  return recordProbe();
}
