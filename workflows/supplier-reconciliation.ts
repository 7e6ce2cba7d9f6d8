// One round of supplier reconciliation, started by the `supplier-reconciliation` Temporal
// Schedule (workers/schedules.ts): every enabled supplier's own record of sales over the last
// days is matched to the platform's units (findings stored once, orphans disputed or
// cancelled where the supplier allows), then the supplier is asked whether the keys it sold
// were redeemed. A few suppliers at a time; one that fails holds up no other.
import { proxyActivities } from '@temporalio/workflow';
import type {
  ReconciliationActivities,
  RedemptionRoundResult,
  SalesRoundResult,
} from '../activities/suppliers/reconciliation';
import { eachLimited } from './each-limited';
import { messageOf } from './failures';

// A supplier's record is read page by page: the activity heartbeats after each page and a
// retry resumes from the last one, so the heartbeat timeout (not the whole read) bounds how
// long a dead worker goes unnoticed. Two retries: a database outage, a worker restart.
const sales = proxyActivities<ReconciliationActivities>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '2m',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

const SUPPLIERS_AT_ONCE = 4;
const DAY_MS = 86_400_000;

export interface SupplierReconciliationInput {
  /** Only these suppliers (default: every enabled one). */
  supplierIds?: string[];
  /**
   * How far back each round reads the suppliers' sales. Every sale is read by many rounds:
   * a unit still being fulfilled is left for a later one, and findings are stored once.
   */
  lookbackMs?: number;
  /** Delivered keys younger than this are asked about their redemption. */
  redemptionLookbackMs?: number;
  /** Keys asked about per supplier and round (each is one lookup at the supplier). */
  redemptionChecks?: number;
}

export interface SupplierReconciliationResult {
  suppliers: {
    supplierId: string;
    sales: SalesRoundResult | { failed: string };
    redemptions: RedemptionRoundResult | { failed: string };
  }[];
}

const failedWith = (err: unknown) => ({ failed: messageOf(err) });

export async function supplierReconciliationWorkflow(
  input: SupplierReconciliationInput = {},
): Promise<SupplierReconciliationResult> {
  // Workflow time: the round's window is fixed in its history, the same on replay.
  const now = Date.now();
  const window = {
    from: new Date(now - (input.lookbackMs ?? 2 * DAY_MS)).toISOString(),
    to: new Date(now).toISOString(),
  };
  const since = new Date(now - (input.redemptionLookbackMs ?? 30 * DAY_MS)).toISOString();
  const ids = await sales.listReconcilableSuppliers(input.supplierIds);
  const result: SupplierReconciliationResult = { suppliers: [] };
  await eachLimited(ids, SUPPLIERS_AT_ONCE, async (supplierId) => {
    // One supplier whose round fails outright (its row gone, the database away for minutes)
    // must not end the round for the others: the next round tries again.
    const round = await sales.reconcileSupplierSales({ supplierId, ...window }).catch(failedWith);
    const redemptions = await sales
      .pollSupplierRedemptions({ supplierId, since, limit: input.redemptionChecks ?? 200 })
      .catch(failedWith);
    result.suppliers.push({ supplierId, sales: round, redemptions });
  });
  return result;
}
