// Asking for a compensation from the API (support's request, a supplier's invalid-key notice):
// the incident is recorded once (store/compensation/requests.ts), a refusal becomes its
// problem, and unless the incident waits for confirmation its workflow is started once.
import type { Compensation } from '@prisma/client';
import { startOnce } from '../infra/temporal';
import type { Actor } from '../store/audit';
import { type CompensationRequest, CompensationRefused, requestCompensation } from '../store/compensation/requests';
import type { compensationWorkflow } from '../workflows/compensation';
import type { ApiDeps } from './deps';
import { Problem, problems } from './problem';

export async function requestAndStartCompensation(
  { db, temporal, config }: Pick<ApiDeps, 'db' | 'temporal' | 'config'>,
  input: CompensationRequest,
  actor: Actor,
  /** What a missing unit is called in the 404. */
  unitLabel: string,
): Promise<{ compensation: Compensation; created: boolean }> {
  let requested: Awaited<ReturnType<typeof requestCompensation>>;
  try {
    requested = await requestCompensation(db, input, actor);
  } catch (err) {
    if (!(err instanceof CompensationRefused)) throw err;
    if (err.code === 'unit_not_found') throw problems.notFound(unitLabel);
    throw new Problem(409, err.code, err.message);
  }
  const { compensation } = requested;
  if (compensation.status !== 'awaiting_confirmation') {
    const args: Parameters<typeof compensationWorkflow> = [{ compensationId: compensation.id }];
    await startOnce(temporal, 'compensationWorkflow', {
      workflowId: compensation.workflowId,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args,
    });
  }
  return requested;
}
