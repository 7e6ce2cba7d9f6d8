// An order as the API shows it: its items and units (what the platform paid a supplier only
// to staff), each unit's supplier attempts and compensations, its status history.
import { money } from '../../domain/money';
import type { OrderDetail } from '../../store/orders/queries';
import { compensationView } from './compensations';

type UnitDetail = OrderDetail['items'][number]['units'][number];

/** A unit as the API shows it; what the platform paid a supplier only to staff (`withCosts`). */
function unitView(unit: UnitDetail, withCosts: boolean) {
  return {
    id: unit.id,
    status: unit.status,
    ...(unit.source
      ? { source: unit.supplier ? { kind: unit.source, supplier: unit.supplier.name } : { kind: unit.source } }
      : {}),
    ...(unit.supplierRef ? { supplierTransactionId: unit.supplierRef } : {}),
    ...(unit.reason ? { reason: unit.reason } : {}),
    ...(unit.replacesUnitId ? { replacesUnitId: unit.replacesUnitId } : {}),
    ...(unit.attempts.length > 0
      ? {
          attempts: unit.attempts.map((a) => ({
            supplier: a.supplier?.name ?? a.source,
            outcome: a.outcome,
            ...(a.detail ? { detail: a.detail } : {}),
            ...(a.latencyMs !== null ? { latencyMs: a.latencyMs } : {}),
            ...(withCosts && a.costMinor !== null ? { costMinor: a.costMinor } : {}),
            at: a.at.toISOString(),
          })),
        }
      : {}),
    // Staff (the same callers who see costs) also see who asked for each compensation.
    ...(unit.compensations.length > 0
      ? { compensations: unit.compensations.map((c) => compensationView(c, withCosts)) }
      : {}),
  };
}

export function orderView(order: OrderDetail, claimUrl?: string, withCosts = false) {
  return {
    id: order.id,
    externalOrderId: order.externalOrderId,
    status: order.status,
    amount: money(order.amountMinor, order.currency),
    ...(order.allowPartial ? { allowPartial: true } : {}),
    items: order.items.map((item) => ({
      sku: item.sku,
      quantity: item.quantity,
      ...(item.account ? { account: item.account } : {}),
      units: item.units.map((u) => unitView(u, withCosts)),
    })),
    ...(claimUrl ? { claimUrl } : {}),
    history: order.history.map((h) => ({
      status: h.status,
      at: h.at.toISOString(),
      ...(h.reason ? { reason: h.reason } : {}),
    })),
    createdAt: order.createdAt.toISOString(),
  };
}
