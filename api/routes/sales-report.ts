// GET /v1/reports/sales?from=&to=&groupBy=product|channel (admin), served by the reports router:
// sales and margin per product (key: SKU) or per channel (key: the client id of the order
// system that placed the orders) and currency, with each currency's totals
// (store/orders/sales-report.ts says what each figure counts), as JSON or (Accept: text/csv) CSV.
import type { Request, Response } from 'express';
import { z } from 'zod';
import { SALES_GROUPINGS, type SalesGrouping, type SalesRow, type SalesTotal } from '../../store/orders/sales-report';
import { DateParam, inDateOrder } from '../date-range';
import { csvField } from './redemptions';

export const SalesReportQuery = inDateOrder(
  z.strictObject({ from: DateParam, to: DateParam, groupBy: z.enum(SALES_GROUPINGS).default('product') }),
);

export interface SalesReport {
  range: { from: Date; to: Date; groupBy: SalesGrouping };
  rows: SalesRow[];
  totals: SalesTotal[];
}

const CSV_COLUMNS = [
  'key',
  'label',
  'currency',
  'orders',
  'units_delivered',
  'units_refunded',
  'revenue_minor',
  'cost_minor',
  'margin_minor',
  'margin_rate',
  'units_without_cost',
] as const;

/** One line per group and currency; the totals are the JSON's (a spreadsheet sums the lines). */
export function salesReportCsv(rows: SalesRow[]): string {
  const lines = rows.map((r) =>
    [
      r.key,
      r.label,
      r.currency,
      r.orders,
      r.unitsDelivered,
      r.unitsRefunded,
      r.revenueMinor,
      r.costMinor,
      r.marginMinor,
      r.marginRate,
      r.unitsWithoutCost,
    ]
      .map(csvField)
      .join(','),
  );
  return [CSV_COLUMNS.join(','), ...lines].map((l) => `${l}\n`).join('');
}

/** Answers with JSON, or CSV when the caller prefers `text/csv` (as the redemption report does). */
export function sendSalesReport(req: Request, res: Response, report: SalesReport): void {
  if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
    res.setHeader('content-type', 'text/csv; charset=utf-8');
    res.send(salesReportCsv(report.rows));
    return;
  }
  const { from, to, groupBy } = report.range;
  res.json({ from: from.toISOString(), to: to.toISOString(), groupBy, rows: report.rows, totals: report.totals });
}
