// One round of catalog sync, started by the `catalog-sync` Temporal Schedule
// (workers/schedules.ts): every enabled supplier quotes its routes, one supplier at a time so
// a slow one delays only the round, never an order.
import { proxyActivities } from '@temporalio/workflow';
import type { CatalogActivities } from '../activities/suppliers/catalog';

const catalog = proxyActivities<CatalogActivities>({
  startToCloseTimeout: '5m',
  retry: { maximumAttempts: 2 },
});

export async function catalogSyncWorkflow(): Promise<{ suppliers: number; degraded: number }> {
  const ids = await catalog.listSyncableSuppliers();
  let degraded = 0;
  for (const id of ids) {
    const result = await catalog.syncSupplierCatalog(id);
    if (result.degraded) degraded += 1;
  }
  return { suppliers: ids.length, degraded };
}
