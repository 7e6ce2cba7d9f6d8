// The platform's Temporal Schedules, ensured at worker start: created when missing, brought
// to the configured interval when present (several workers starting at once converge).
import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';

export const CATALOG_SYNC_SCHEDULE = 'catalog-sync';

export async function ensureCatalogSyncSchedule(
  client: Client,
  options: { taskQueue: string; everyMs: number; scheduleId?: string },
): Promise<string> {
  const scheduleId = options.scheduleId ?? CATALOG_SYNC_SCHEDULE;
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'catalogSyncWorkflow',
    workflowId: `${scheduleId}-round`,
    taskQueue: options.taskQueue,
  };
  const spec = { intervals: [{ every: options.everyMs }] };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      // A round still running when the next is due: skip the next, never run two at once.
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
  }
  return scheduleId;
}
