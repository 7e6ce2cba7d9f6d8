// The platform's Temporal Schedules, ensured at worker start: created when missing, brought
// to the configured interval when present (several workers starting at once converge).
import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';

export const CATALOG_SYNC_SCHEDULE = 'catalog-sync';
export const SUPPLIER_RECONCILIATION_SCHEDULE = 'supplier-reconciliation';

interface ScheduleOptions {
  taskQueue: string;
  everyMs: number;
  scheduleId?: string;
}

/** A schedule that starts one round of `workflowType` every `everyMs`. */
async function ensureIntervalSchedule(
  client: Client,
  workflowType: string,
  options: ScheduleOptions & { scheduleId: string },
): Promise<string> {
  const { scheduleId } = options;
  const action = {
    type: 'startWorkflow' as const,
    workflowType,
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

export function ensureCatalogSyncSchedule(client: Client, options: ScheduleOptions): Promise<string> {
  return ensureIntervalSchedule(client, 'catalogSyncWorkflow', {
    ...options,
    scheduleId: options.scheduleId ?? CATALOG_SYNC_SCHEDULE,
  });
}

/** Suppliers' own records of sales matched to the platform's units (workflows/supplier-reconciliation.ts). */
export function ensureSupplierReconciliationSchedule(client: Client, options: ScheduleOptions): Promise<string> {
  return ensureIntervalSchedule(client, 'supplierReconciliationWorkflow', {
    ...options,
    scheduleId: options.scheduleId ?? SUPPLIER_RECONCILIATION_SCHEDULE,
  });
}
