// One round of catalog sync, started by the `catalog-sync` Temporal Schedule
// (workers/schedules.ts): every enabled supplier quotes its routes, a few suppliers at a time,
// so one that is slow or unreachable holds up neither the others nor any order.
import { proxyActivities } from '@temporalio/workflow';
import type { CatalogActivities } from '../activities/suppliers/catalog';
import { eachLimited } from './each-limited';

// A supplier's sync heartbeats after each route (and every few seconds while a quote is out),
// so a worker that dies is noticed within the heartbeat timeout, and the retry resumes after
// the last route synced: the whole sync may take as long as a supplier with many routes needs.
const catalog = proxyActivities<CatalogActivities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '1m',
  retry: { maximumAttempts: 3 },
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
