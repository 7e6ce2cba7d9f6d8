// One round of catalog sync, started by the `catalog-sync` Temporal Schedule
// (workers/schedules.ts): every enabled supplier quotes its routes, a few suppliers at a time,
// so one that is slow or unreachable holds up neither the others nor any order.
import { proxyActivities } from '@temporalio/workflow';
import type { CatalogActivities } from '../activities/suppliers/catalog';
import { eachLimited } from './each-limited';

const catalog = proxyActivities<CatalogActivities>({
  startToCloseTimeout: '5m',
  retry: { maximumAttempts: 2 },
});

const SUPPLIERS_AT_ONCE = 8;

export async function catalogSyncWorkflow(): Promise<{ suppliers: number; degraded: number }> {
  const ids = await catalog.listSyncableSuppliers();
  let degraded = 0;
  await eachLimited(ids, SUPPLIERS_AT_ONCE, async (id) => {
    // One supplier whose sync fails outright (its row gone, the database away) must not end
    // the round for the others: it counts as degraded, and the next round tries again.
    const result = await catalog.syncSupplierCatalog(id).catch(() => ({ degraded: 'sync failed' }));
    if (result.degraded) degraded += 1;
  });
  return { suppliers: ids.length, degraded };
}
