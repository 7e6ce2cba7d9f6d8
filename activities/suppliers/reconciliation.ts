// Supplier reconciliation (the `supplier-reconciliation` schedule): each supplier's own record
// of its sales is read page by page and every sale set beside the platform unit its reference
// names (domain/supplier-reconciliation.ts says what each case means). Findings are stored
// once; an orphan sale is cancelled or disputed where the supplier allows. The same round
// asks the supplier that sold each delivered, unredeemed key whether it was redeemed, for
// suppliers that answer lookups but send no redemption notices.
import { Context } from '@temporalio/activity';
import { findingsOf, orphanRemedy, type SaleFacts } from '../../domain/supplier-reconciliation';
import { parseAllowList } from '../../infra/outbound-url';
import { markRedeemedBySupplier } from '../../store/redemptions';
import {
  keysToAskAboutRedemption,
  markAskedAboutRedemption,
  type NewFinding,
  orphansToRemedy,
  recordFindings,
  recordRemedy,
  type Remedy,
  resolveSettled,
  unitOf,
  unitsByReference,
} from '../../store/suppliers/reconciliation';
import { credentialsOf } from '../../store/suppliers/registry';
import type { ActivityDeps } from '../deps';
import { adapterFor, type SupplierAdapter, SupplierUnavailable } from './adapters';

export interface SalesRoundInput {
  supplierId: string;
  /** ISO times: the window of sales to read. */
  from: string;
  to: string;
}

export interface SalesRoundResult {
  sales: number;
  /** Findings recorded for the first time. */
  found: number;
  /** Findings that no longer hold (the supplier stopped billing the sale, the cost matches now). */
  resolved: number;
  disputed: number;
  cancelled: number;
  /** Sales left for the next round: their unit is still being fulfilled. */
  unsettled: number;
  /** Entries of the supplier's record the platform could not read. */
  unreadable: number;
  /** Why the supplier was not reconciled (no listing, or it did not answer). */
  skipped?: string;
}

export interface RedemptionRoundInput {
  supplierId: string;
  /** ISO time: keys delivered since then are asked about. */
  since: string;
  limit: number;
}

export interface RedemptionRoundResult {
  asked: number;
  redeemed: number;
  skipped?: string;
}

/** What a retried sales round resumes from: where the listing had got to, and the counts so far. */
interface SalesProgress {
  cursor: string | null;
  result: SalesRoundResult;
}

const EMPTY: SalesRoundResult = {
  sales: 0,
  found: 0,
  resolved: 0,
  disputed: 0,
  cancelled: 0,
  unsettled: 0,
  unreadable: 0,
};

export function reconciliationActivities({ db, keyring, config, logger }: ActivityDeps) {
  const allow = parseAllowList(config.OUTBOUND_URL_ALLOWLIST);

  /** The supplier's adapter, and the kinds of product it sells the platform. */
  async function supplierOf(supplierId: string) {
    const supplier = await db.supplier.findUniqueOrThrow({
      where: { id: supplierId },
      include: { routes: { select: { product: { select: { kind: true, currency: true } } } } },
    });
    const products = supplier.routes.map((r) => r.product);
    const kinds = [...new Set(products.map((p) => p.kind))];
    // Reloadly's amounts are decimals: its routes' currency converts them (the reference protocol states its own).
    const currency = products[0]?.currency ?? 'CNY';
    const adapter = adapterFor(supplier, credentialsOf(keyring, supplier), allow, currency);
    return { supplier, adapter, kinds: kinds.length > 0 ? kinds : (['card_key'] as const) };
  }

  /** Cancels or disputes an orphan sale where the supplier allows; says what happened. */
  async function remedy(adapter: SupplierAdapter, sale: SaleFacts, kind: 'cancel' | 'dispute', why: string) {
    const outcome = async (): Promise<{ remedy: Remedy; detail: string }> => {
      if (kind === 'cancel') {
        if (!adapter.cancel) return { remedy: 'none', detail: 'the supplier offers no cancel' };
        const after = await adapter.cancel(sale.reference);
        if (after.kind !== 'succeeded' && after.kind !== 'pending') return { remedy: 'cancelled', detail: why };
        if (after.kind === 'pending') return { remedy: 'cancel_failed', detail: 'still pending after the cancel' };
        // It completed meanwhile: a sold orphan, disputed like any other.
      }
      if (!adapter.dispute) return { remedy: 'none', detail: 'the supplier offers no dispute: settle it with them' };
      // A refused dispute stays an open finding: the sale is still to be settled with them.
      if (!(await adapter.dispute(sale.reference, `supplier reconciliation: ${why}`))) {
        return { remedy: 'dispute_failed', detail: `the supplier refused the dispute: ${why}` };
      }
      return { remedy: 'disputed', detail: why };
    };
    try {
      return await outcome();
    } catch (err) {
      if (!(err instanceof SupplierUnavailable)) throw err;
      return { remedy: kind === 'cancel' ? 'cancel_failed' : 'dispute_failed', detail: err.message } as const;
    }
  }

  /** One page of the supplier's record: findings stored once, settled ones resolved, orphans remedied. */
  async function reconcilePage(
    supplierId: string,
    adapter: SupplierAdapter,
    sales: SaleFacts[],
    into: SalesRoundResult,
    alive: () => void,
  ) {
    const units = await unitsByReference(
      db,
      sales.map((s) => s.reference),
    );
    const findings: NewFinding[] = [];
    const current: { sale: SaleFacts; kinds: NewFinding['kind'][] }[] = [];
    for (const sale of sales) {
      const unit = unitOf(units, sale.reference);
      const shown = findingsOf(sale, unit, supplierId);
      if (shown === null) {
        into.unsettled += 1;
        continue;
      }
      current.push({ sale, kinds: shown.map((f) => f.kind) });
      for (const f of shown) findings.push({ kind: f.kind, sale, unit, detail: f.detail });
    }
    into.sales += sales.length;
    into.found += await recordFindings(db, supplierId, findings);
    into.resolved += await resolveSettled(db, supplierId, current);
    // New orphans, and older ones whose remedy failed last time.
    const orphans = findings.filter((f) => f.kind === 'orphan').map((f) => f.sale);
    for (const open of await orphansToRemedy(db, supplierId, orphans)) {
      const finding = findings.find(
        (f) => f.sale.transactionId === open.transactionId && f.sale.reference === open.reference,
      )!;
      const how = orphanRemedy(finding.sale, finding.unit);
      const done =
        how === 'none'
          ? { remedy: 'none' as const, detail: 'a direct top-up credited an account: settle it with the supplier' }
          : await remedy(adapter, finding.sale, how, finding.detail);
      await recordRemedy(db, open.id, done.remedy, done.detail);
      if (done.remedy === 'disputed') into.disputed += 1;
      if (done.remedy === 'cancelled') into.cancelled += 1;
      alive(); // each remedy is a call to the supplier: a page of them may take minutes
      logger.info(
        { supplierId, reference: open.reference, transactionId: open.transactionId, remedy: done.remedy },
        'orphan supplier sale',
      );
    }
  }

  return {
    /** Enabled suppliers, or those of `only` (a test's own), by name. */
    async listReconcilableSuppliers(only?: string[]): Promise<string[]> {
      const suppliers = await db.supplier.findMany({
        where: { enabled: true, ...(only ? { id: { in: only } } : {}) },
        select: { id: true },
        orderBy: { name: 'asc' },
      });
      return suppliers.map((s) => s.id);
    },

    /**
     * Reads the supplier's sales in the window and reconciles them, heartbeating after each page
     * with where it got to: a retry (a worker that died, a database that went away) resumes there.
     * A supplier that does not answer is skipped for this round, with the reason.
     */
    async reconcileSupplierSales(input: SalesRoundInput): Promise<SalesRoundResult> {
      const { supplier, adapter, kinds } = await supplierOf(input.supplierId);
      if (!adapter.listSales) return { ...EMPTY, skipped: 'the supplier offers no record of its sales' };
      const resumed = Context.current().info.heartbeatDetails as SalesProgress | undefined;
      const result: SalesRoundResult = { ...EMPTY, ...resumed?.result };
      let cursor = resumed?.cursor ?? null;
      const window = { from: new Date(input.from), to: new Date(input.to), kinds };
      do {
        const atPageStart: SalesProgress = { cursor, result: { ...result } };
        let page;
        try {
          page = await adapter.listSales({ ...window, cursor });
        } catch (err) {
          if (!(err instanceof SupplierUnavailable)) throw err;
          logger.warn({ supplier: supplier.name, error: err.message }, 'supplier sales not read');
          return { ...result, skipped: `the supplier's sales could not be read: ${err.message}` };
        }
        if (page.unreadable.length > 0) {
          logger.warn(
            { supplier: supplier.name, unreadable: page.unreadable.slice(0, 5) },
            'unreadable supplier sales',
          );
          result.unreadable += page.unreadable.length;
        }
        // A retry in the middle of a page does the page again: its findings are stored once.
        await reconcilePage(supplier.id, adapter, page.sales, result, () => Context.current().heartbeat(atPageStart));
        cursor = page.nextCursor;
        Context.current().heartbeat({ cursor, result } satisfies SalesProgress);
      } while (cursor);
      return result;
    },

    /**
     * Asks the supplier, key by key, whether the delivered keys it sold were redeemed (its
     * lookup's `redeemedAt`), and marks the redeemed ones as a redemption notice would. A key
     * asked about goes to the back of the line, so a retry does not ask it again first.
     */
    async pollSupplierRedemptions(input: RedemptionRoundInput): Promise<RedemptionRoundResult> {
      const { supplier, adapter } = await supplierOf(input.supplierId);
      if (!adapter.redemptionOf) return { asked: 0, redeemed: 0, skipped: 'the supplier answers no redemption lookup' };
      const keys = await keysToAskAboutRedemption(db, supplier.id, {
        since: new Date(input.since),
        limit: input.limit,
      });
      const result: RedemptionRoundResult = { asked: 0, redeemed: 0 };
      for (const key of keys) {
        let redeemedAt: Date | null;
        try {
          redeemedAt = await adapter.redemptionOf(key.unitId);
        } catch (err) {
          if (!(err instanceof SupplierUnavailable)) throw err;
          return { ...result, skipped: `the supplier did not answer: ${err.message}` };
        }
        if (redeemedAt) {
          const marked = await markRedeemedBySupplier(db, { supplier, unitId: key.unitId, reportedAt: redeemedAt });
          if (marked?.outcome === 'redeemed') result.redeemed += 1;
        }
        await markAskedAboutRedemption(db, key.cardKeyId);
        result.asked += 1;
        Context.current().heartbeat(result);
      }
      return result;
    },
  };
}

export type ReconciliationActivities = ReturnType<typeof reconciliationActivities>;
