// GET /v1/reports/supplier-reconciliation?from=&to= (admin), served by the reports router:
// what supplier reconciliation found in the range (by when it was found), as JSON or
// (Accept: text/csv) CSV. Costs are the platform's own staff information, like attempts'.
import type { Request, Response } from 'express';
import type { FindingRow } from '../../store/suppliers/reconciliation';
import { csvField } from './redemptions';

const iso = (d: Date | null) => d?.toISOString() ?? null;

function findingView(f: FindingRow) {
  return {
    id: f.id,
    foundAt: f.foundAt.toISOString(),
    supplier: { id: f.supplierId, name: f.supplier.name },
    kind: f.kind,
    reference: f.reference,
    transactionId: f.transactionId,
    unitId: f.unitId,
    orderId: f.orderId,
    sale: { status: f.saleStatus, costMinor: f.saleCostMinor, currency: f.currency, soldAt: iso(f.soldAt) },
    recordedCostMinor: f.recordedCostMinor,
    detail: f.detail,
    action: f.action,
    actionDetail: f.actionDetail,
    actedAt: iso(f.actedAt),
    resolvedAt: iso(f.resolvedAt),
  };
}

const CSV_COLUMNS = [
  'found_at',
  'supplier',
  'kind',
  'reference',
  'transaction_id',
  'unit_id',
  'order_id',
  'sale_status',
  'sale_cost_minor',
  'recorded_cost_minor',
  'currency',
  'sold_at',
  'detail',
  'action',
  'action_detail',
  'acted_at',
  'resolved_at',
] as const;

function findingsCsv(rows: FindingRow[]): string {
  const lines = rows.map((f) =>
    [
      f.foundAt.toISOString(),
      f.supplier.name,
      f.kind,
      f.reference,
      f.transactionId,
      f.unitId,
      f.orderId,
      f.saleStatus,
      f.saleCostMinor,
      f.recordedCostMinor,
      f.currency,
      iso(f.soldAt),
      f.detail,
      f.action,
      f.actionDetail,
      iso(f.actedAt),
      iso(f.resolvedAt),
    ]
      .map(csvField)
      .join(','),
  );
  return [CSV_COLUMNS.join(','), ...lines].map((l) => `${l}\n`).join('');
}

export function sendSupplierReconciliationReport(
  req: Request,
  res: Response,
  range: { from: Date; to: Date },
  rows: FindingRow[],
): void {
  if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
    res.setHeader('content-type', 'text/csv; charset=utf-8');
    res.send(findingsCsv(rows));
    return;
  }
  const open = rows.filter((f) => f.resolvedAt === null);
  res.json({
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    counts: {
      orphan: rows.filter((f) => f.kind === 'orphan').length,
      unit_refunded: rows.filter((f) => f.kind === 'unit_refunded').length,
      cost_differs: rows.filter((f) => f.kind === 'cost_differs').length,
      open: open.length,
    },
    findings: rows.map(findingView),
  });
}
