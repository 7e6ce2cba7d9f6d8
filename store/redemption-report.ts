// Redemption and bad-key figures over the keys delivered in a range, computed by PostgreSQL in
// one statement (grouping sets; only the figures come back). A key's source is the supplier
// that sold it, or for own inventory its batch's supplier label. Figures are as of `asOf`:
// whether a key is redeemed, still delivered or void is its state then (the report is run
// now), ages are `asOf` − delivered.
import type { DbTx } from '../infra/db';

export type ReportGrouping = 'product' | 'source' | 'product_source' | 'batch';
export type SourceKind = 'inventory' | 'supplier';

export interface RedemptionFigures {
  /** Which grouping the row belongs to; the fields it does not group by are null. */
  grouping: ReportGrouping;
  sku: string | null;
  sourceKind: SourceKind | null;
  /** The supplier's name, or the batch's supplier label (null when the batch has none). */
  source: string | null;
  batchId: string | null;
  batchQuarantinedAt: Date | null;
  delivered: number;
  redeemed: number;
  /** redeemed ÷ delivered, 4 decimals. */
  redemptionRate: number;
  /** Median of redeemed − delivered over the redeemed keys; null when none was redeemed. */
  medianSecondsToRedeem: number | null;
  /** Keys still delivered (neither redeemed nor void), by age. */
  unredeemed: { under1d: number; from1dTo7d: number; from7dTo30d: number; over30d: number };
  /** Keys voided with a reason (found bad); voids without one (refunds) are not bad keys. */
  bad: number;
  /** bad ÷ delivered, 4 decimals. */
  badKeyRate: number;
}

interface Row {
  grouping: ReportGrouping;
  sku: string | null;
  source_kind: SourceKind | null;
  source: string | null;
  batch_id: string | null;
  quarantined_at: Date | null;
  delivered: number;
  redeemed: number;
  redemption_rate: number;
  median_seconds: number | null;
  under_1d: number;
  from_1d_to_7d: number;
  from_7d_to_30d: number;
  over_30d: number;
  bad: number;
  bad_key_rate: number;
}

/**
 * Per product, per source, per product and source, and per own-inventory batch: delivered,
 * redeemed, the redemption rate, the median time to redeem, the still-unredeemed keys by age
 * and the bad-key rate, over keys delivered in [from, to).
 */
export async function redemptionReport(
  db: DbTx,
  range: { from: Date; to: Date; asOf: Date },
): Promise<RedemptionFigures[]> {
  const { from, to, asOf } = range;
  const rows = await db.$queryRaw<Row[]>`
    WITH cohort AS (
      SELECT p.sku,
             CASE WHEN k.batch_id IS NULL THEN 'supplier' ELSE 'inventory' END AS source_kind,
             CASE WHEN k.batch_id IS NULL THEN s.name ELSE b.supplier END AS source,
             k.batch_id, b.quarantined_at, k.status, k.delivered_at, k.redeemed_at, k.void_reason
        FROM card_keys k
        JOIN products p ON p.id = k.product_id
        LEFT JOIN key_batches b ON b.id = k.batch_id
        LEFT JOIN suppliers s ON s.id = k.source_supplier_id
       WHERE k.delivered_at >= ${from}::timestamptz AND k.delivered_at < ${to}::timestamptz
    )
    SELECT CASE WHEN GROUPING(batch_id) = 0 THEN 'batch'
                WHEN GROUPING(sku) = 1 THEN 'source'
                WHEN GROUPING(source_kind) = 1 THEN 'product'
                ELSE 'product_source' END AS grouping,
           sku, source_kind, source, batch_id::text, quarantined_at,
           count(*)::int AS delivered,
           count(*) FILTER (WHERE redeemed_at IS NOT NULL)::int AS redeemed,
           round(count(*) FILTER (WHERE redeemed_at IS NOT NULL)::numeric / count(*), 4)::float8 AS redemption_rate,
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM redeemed_at - delivered_at)::float8)
                   FILTER (WHERE redeemed_at IS NOT NULL))::numeric, 3)::float8 AS median_seconds,
           count(*) FILTER (WHERE status = 'delivered'
                              AND delivered_at > ${asOf}::timestamptz - interval '1 day')::int AS under_1d,
           count(*) FILTER (WHERE status = 'delivered'
                              AND delivered_at <= ${asOf}::timestamptz - interval '1 day'
                              AND delivered_at > ${asOf}::timestamptz - interval '7 days')::int AS from_1d_to_7d,
           count(*) FILTER (WHERE status = 'delivered'
                              AND delivered_at <= ${asOf}::timestamptz - interval '7 days'
                              AND delivered_at > ${asOf}::timestamptz - interval '30 days')::int AS from_7d_to_30d,
           count(*) FILTER (WHERE status = 'delivered'
                              AND delivered_at <= ${asOf}::timestamptz - interval '30 days')::int AS over_30d,
           count(*) FILTER (WHERE status = 'void' AND void_reason IS NOT NULL)::int AS bad,
           round(count(*) FILTER (WHERE status = 'void' AND void_reason IS NOT NULL)::numeric / count(*), 4)::float8
             AS bad_key_rate
      FROM cohort
     GROUP BY GROUPING SETS ((sku), (source_kind, source), (sku, source_kind, source),
                             (sku, source_kind, source, batch_id, quarantined_at))
    -- The batch grouping's row for keys without a batch (bought from suppliers) is not a batch.
    HAVING GROUPING(batch_id) = 1 OR batch_id IS NOT NULL
     ORDER BY 1, sku NULLS FIRST, source_kind NULLS FIRST, source NULLS FIRST, batch_id NULLS FIRST`;
  return rows.map((r) => ({
    grouping: r.grouping,
    sku: r.sku,
    sourceKind: r.source_kind,
    source: r.source,
    batchId: r.batch_id,
    batchQuarantinedAt: r.quarantined_at,
    delivered: r.delivered,
    redeemed: r.redeemed,
    redemptionRate: r.redemption_rate,
    medianSecondsToRedeem: r.median_seconds,
    unredeemed: {
      under1d: r.under_1d,
      from1dTo7d: r.from_1d_to_7d,
      from7dTo30d: r.from_7d_to_30d,
      over30d: r.over_30d,
    },
    bad: r.bad,
    badKeyRate: r.bad_key_rate,
  }));
}
