// A sale the platform did not take (an unusable key or one it already holds, a cost above
// the price, a unit that moved on) is disputed at the supplier that made it: the platform
// holds no key from it, and the supplier would otherwise bill it. One function for every
// path a sale arrives by: the purchase itself (best effort, inline) and a callback (its own
// workflow, retried, since the API makes no supplier calls).
import { ApplicationFailure } from '@temporalio/activity';
import { RetryableFailure } from '../../domain/failures';
import { parseAllowList } from '../../infra/outbound-url';
import type { Db } from '../../infra/db';
import { credentialsOf } from '../../store/suppliers/registry';
import { recordAttempt } from '../../store/suppliers/sourcing';
import type { ActivityDeps } from '../deps';
import { adapterFor, type SupplierAdapter, SupplierUnavailable } from './adapters';

export interface RefusedSale {
  /** The unit's id: the reference the supplier sold under. */
  unitId: string;
  supplierId: string;
  source: string;
  /** Why the platform did not take it; sent to the supplier and recorded. */
  reason: string;
}

/**
 * Disputes the sale and records the answer on the unit: `disputed`, or `failed` when the
 * supplier refuses the dispute. False when it was not disputed, or the protocol has no
 * dispute (Reloadly: nothing recorded). Throws SupplierUnavailable when the call failed.
 */
export async function disputeSale(db: Db, adapter: SupplierAdapter, sale: RefusedSale): Promise<boolean> {
  if (!adapter.dispute) return false;
  const disputed = await adapter.dispute(sale.unitId, sale.reason);
  await recordAttempt(db, {
    ...sale,
    ...(disputed
      ? { outcome: 'disputed', detail: sale.reason }
      : { outcome: 'failed', detail: `dispute refused by the supplier: ${sale.reason}` }),
  });
  return disputed;
}

/** The dispute did not get through: on record, so the sale shows in the unit's history (and reconciliation). */
export function recordDisputeUndelivered(db: Db, sale: RefusedSale, error: string): Promise<void> {
  return recordAttempt(db, { ...sale, outcome: 'failed', detail: `dispute not delivered (${error}): ${sale.reason}` });
}

export function disputeActivities({ db, keyring, config, logger }: ActivityDeps) {
  const allow = parseAllowList(config.OUTBOUND_URL_ALLOWLIST);
  return {
    /** Disputes a sale a callback delivered and the platform refused. Retryable while the supplier cannot be reached. */
    async disputeRefusedSale(sale: RefusedSale): Promise<boolean> {
      const [supplier, unit] = await Promise.all([
        db.supplier.findUniqueOrThrow({ where: { id: sale.supplierId } }),
        db.orderUnit.findUniqueOrThrow({
          where: { id: sale.unitId },
          select: { item: { select: { product: { select: { currency: true } } } } },
        }),
      ]);
      const adapter = adapterFor(supplier, credentialsOf(keyring, supplier), allow, unit.item.product.currency);
      try {
        const disputed = await disputeSale(db, adapter, sale);
        logger.info(
          { unitId: sale.unitId, supplier: supplier.name, disputed },
          'refused sale disputed at the supplier',
        );
        return disputed;
      } catch (err) {
        if (!(err instanceof SupplierUnavailable)) throw err;
        throw ApplicationFailure.retryable(`dispute: ${err.message}`, RetryableFailure.SupplierUnavailable);
      }
    },

    async recordDisputeUndelivered(input: RefusedSale & { error: string }): Promise<void> {
      const { error, ...sale } = input;
      await recordDisputeUndelivered(db, sale, error);
    },
  };
}

export type DisputeActivities = ReturnType<typeof disputeActivities>;
