// Supplier reconciliation's rules, on given facts: what one sale in a supplier's own record
// means once it is set beside the platform unit its reference names. Pure, so the rules read
// in one place and can be tested without a supplier.

export type FindingKind = 'orphan' | 'unit_refunded' | 'cost_differs';

/** A sale as the supplier lists it (the adapters' ListedSale, keys never included). */
export interface SaleFacts {
  reference: string;
  transactionId: string;
  state: 'succeeded' | 'pending' | 'void';
  status: string;
  costMinor?: number | undefined;
  currency?: string | undefined;
  soldAt?: Date | undefined;
}

/** The unit a sale's reference names, as the platform holds it. */
export interface UnitFacts {
  unitId: string;
  orderId: string;
  status: 'pending' | 'reserved' | 'delivered' | 'released' | 'refunded' | 'replaced';
  supplierId: string | null;
  /** The supplier's transaction id bound to the unit (null: no supplier sale bound). */
  supplierRef: string | null;
  costMinor: number | null;
  kind: 'card_key' | 'direct_topup';
  currency: string;
}

export interface Finding {
  kind: FindingKind;
  detail: string;
}

/**
 * What a sale means:
 * - `null`: not settled yet — the unit is still being fulfilled (pending or reserved), and
 *   its workflow may yet bind this very sale; the next round looks again;
 * - `[]`: nothing wrong (or nothing billed: a failed, cancelled or refunded sale);
 * - otherwise the findings: an **orphan** (the supplier sold under a reference no unit
 *   holds — the platform lost the answer and the unit moved on, or the sale came after it
 *   had), a sale bound to a unit whose money went back (**unit_refunded**), a cost other
 *   than the one recorded (**cost_differs**).
 * A card key bought for an order that then failed went back to stock (released): it is
 * paid-for stock, not a loss, so a released card-key unit is no finding.
 */
export function findingsOf(sale: SaleFacts, unit: UnitFacts | undefined, supplierId: string): Finding[] | null {
  if (sale.state === 'void') return [];
  if (!unit) return [{ kind: 'orphan', detail: 'no unit of the platform has this reference' }];
  if (unit.status === 'pending' || unit.status === 'reserved') return null;
  const holds = unit.supplierId === supplierId && unit.supplierRef === sale.transactionId;
  if (!holds) {
    const held =
      unit.supplierRef === null
        ? 'holds no supplier sale'
        : unit.supplierId === supplierId
          ? `holds this supplier's sale ${unit.supplierRef}`
          : 'holds another supplier’s sale';
    return [{ kind: 'orphan', detail: `the unit is ${unit.status} and ${held}` }];
  }
  const findings: Finding[] = [];
  if (unit.status === 'refunded' || (unit.status === 'released' && unit.kind === 'direct_topup')) {
    findings.push({ kind: 'unit_refunded', detail: `the unit it was bought for is ${unit.status}` });
  }
  const comparable = sale.currency === undefined || sale.currency === unit.currency;
  if (comparable && sale.costMinor !== undefined && unit.costMinor !== null && sale.costMinor !== unit.costMinor) {
    findings.push({
      kind: 'cost_differs',
      detail: `the supplier bills ${sale.costMinor}, the platform recorded ${unit.costMinor}`,
    });
  }
  return findings;
}

/**
 * What to do about an orphan by itself, where the supplier allows: a pending sale is
 * cancelled (nothing is sold then); a sold card key that reached no buyer is disputed, so the
 * supplier refunds it. A direct top-up credited an account: it cannot be taken back, and
 * saying otherwise to the supplier would be untrue — it is left to a person.
 */
export function orphanRemedy(sale: SaleFacts, unit: UnitFacts | undefined): 'cancel' | 'dispute' | 'none' {
  if (sale.state === 'pending') return 'cancel';
  if (sale.state === 'succeeded' && unit?.kind !== 'direct_topup') return 'dispute';
  return 'none';
}
