// GET /v1/reports/subscriptions?timeZone=&sku= (admin): renewals due per day for the next 30
// days with the revenue expected, renewal rate by period number per product (cohort
// retention), dunning recovery, and the day-of-month peak of next charges
// (store/subscriptions/reports.ts), as JSON or (Accept: text/csv) one CSV table.
import type { Request, Response } from 'express';
import { z } from 'zod';
import { TimeZoneSchema } from '../../domain/subscriptions/request';
import { Identifier } from '../../domain/text';
import type { Db } from '../../infra/db';
import { type SubscriptionFigures, subscriptionFigures } from '../../store/subscriptions/reports';
import { parseOr422 } from '../problem';
import { csvField } from './redemptions';

export const SubscriptionReportQuery = z.strictObject({
  /** Whose calendar the renewals-due days are counted in. */
  timeZone: TimeZoneSchema.default('Asia/Shanghai'),
  sku: Identifier(64).optional(),
});

const CSV_COLUMNS = [
  'figure',
  'date',
  'sku',
  'period',
  'day_of_month',
  'currency',
  'subscriptions',
  'expected_revenue_minor',
  'reached',
  'renewed',
  'rate',
  'entered',
  'recovered',
  'lost',
  'retrying',
] as const;
type CsvRow = Partial<Record<(typeof CSV_COLUMNS)[number], string | number | null>>;

/** Every figure as rows of one table, the figure named in the first column. */
export function subscriptionFiguresCsv(figures: SubscriptionFigures): string {
  const rows: CsvRow[] = [
    ...figures.renewalsDue.map((r) => ({
      figure: 'renewals_due',
      date: r.date,
      currency: r.currency,
      subscriptions: r.subscriptions,
      expected_revenue_minor: r.expectedRevenueMinor,
    })),
    ...figures.retention.map((r) => ({
      figure: 'retention',
      sku: r.sku,
      period: r.period,
      reached: r.reached,
      renewed: r.renewed,
      rate: r.rate,
    })),
    ...figures.dunning.map((r) => ({
      figure: 'dunning',
      sku: r.sku,
      entered: r.entered,
      recovered: r.recovered,
      lost: r.lost,
      retrying: r.retrying,
      rate: r.recoveryRate,
    })),
    ...figures.dayOfMonth.map((r) => ({ figure: 'day_of_month', day_of_month: r.day, subscriptions: r.subscriptions })),
  ];
  const lines = rows.map((row) => CSV_COLUMNS.map((c) => csvField(row[c] ?? null)).join(','));
  return [CSV_COLUMNS.join(','), ...lines].map((l) => `${l}\n`).join('');
}

export async function sendSubscriptionReport(db: Db, req: Request, res: Response): Promise<void> {
  const query = parseOr422(SubscriptionReportQuery, req.query);
  const asOf = new Date();
  const figures = await subscriptionFigures(db, { asOf, ...query });
  if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
    res.setHeader('content-type', 'text/csv; charset=utf-8');
    res.send(subscriptionFiguresCsv(figures));
    return;
  }
  const peak = figures.dayOfMonth.reduce<(typeof figures.dayOfMonth)[number] | undefined>(
    (top, d) => (top && top.subscriptions >= d.subscriptions ? top : d),
    undefined,
  );
  res.json({ asOf: asOf.toISOString(), timeZone: query.timeZone, ...figures, ...(peak ? { peakDay: peak } : {}) });
}
