// Sales and margin per product or per channel (the order system, i.e. the client that placed
// the orders) over the orders created in a range, computed by PostgreSQL in one statement:
// the groups' rows and, by grouping sets, each currency's totals.
//
// Which orders: created in [from, to) and settled after being charged — delivered, partially
// delivered or refunded. Orders still in flight are not in it yet; failed and rejected ones
// moved no money (reconciliation checks that).
// Revenue is the ledger's: what the order's captures less its refunds left the platform, on
// the prepaid ledger and at the payment provider — the figure GET /v1/reports/reconciliation
// compares with the price of the units still delivered. An order of several products splits
// it in proportion to the price of each product's delivered units (whole minor units, the
// rest of the division to the product delivering the most; all to one product when nothing
// of the order is delivered any more, e.g. a provider refund not yet confirmed).
// Cost is what the platform paid for the units it obtained and did not put back (delivered,
// replaced after a bad key, refunded after delivery): the unit's recorded supplier cost, or
// for a key from own stock its import batch's cost. A unit with neither counts in
// `unitsWithoutCost` and adds no cost.
// Units delivered are those delivered now; units refunded, those whose price went back to the
// client (refunded after delivery, never obtained in a partial delivery, or released when a
// charged order was closed unfulfilled). docs/architecture.md, Orders, "Sales and margin".
import { Prisma } from '@prisma/client';
import type { DbTx } from '../../infra/db';

export const SALES_GROUPINGS = ['product', 'channel'] as const;
export type SalesGrouping = (typeof SALES_GROUPINGS)[number];

export interface SalesFigures {
  orders: number;
  unitsDelivered: number;
  unitsRefunded: number;
  revenueMinor: number;
  costMinor: number;
  marginMinor: number;
  /** margin ÷ revenue, 4 decimals; null when the revenue is 0. */
  marginRate: number | null;
  unitsWithoutCost: number;
}

export interface SalesRow extends SalesFigures {
  /** The product's SKU, or the client's id. */
  key: string;
  /** The product's name, or the client's name. */
  label: string;
  currency: string;
}

export interface SalesTotal extends Omit<SalesFigures, 'unitsWithoutCost'> {
  currency: string;
}

// The group of a line of the report, per grouping (fixed SQL, never the caller's text).
const GROUP_OF: Record<SalesGrouping, { key: Prisma.Sql; label: Prisma.Sql }> = {
  product: { key: Prisma.sql`p.sku`, label: Prisma.sql`p.name` },
  channel: { key: Prisma.sql`c.id::text`, label: Prisma.sql`c.name` },
};

interface Row {
  total: boolean;
  key: string | null;
  label: string | null;
  currency: string;
  orders: number;
  units_delivered: number;
  units_refunded: number;
  revenue_minor: number;
  cost_minor: number;
  margin_minor: number;
  margin_rate: number | null;
  units_without_cost: number;
}

/** One row per group and currency, and each currency's totals (an order counted once). */
export async function salesReport(
  db: DbTx,
  range: { from: Date; to: Date; groupBy: SalesGrouping },
): Promise<{ rows: SalesRow[]; totals: SalesTotal[] }> {
  const { from, to } = range;
  const group = GROUP_OF[range.groupBy];
  const rows = await db.$queryRaw<Row[]>`
    WITH sold AS (
      SELECT o.id, o.client_id, o.currency
        FROM orders o
       WHERE o.created_at >= ${from}::timestamptz AND o.created_at < ${to}::timestamptz
         AND o.status IN ('delivered', 'partially_delivered', 'refunded')
    ), kept AS (
      -- Captures less refunds (a release returns a hold that was never captured).
      SELECT s.id AS order_id,
             COALESCE((SELECT sum(CASE WHEN t.kind = 'capture' THEN t.amount_minor ELSE -t.amount_minor END)
                         FROM ledger_transactions t
                        WHERE t.order_id = s.id AND t.kind IN ('capture', 'refund')), 0)
             + COALESCE((SELECT p.captured_minor - p.refunded_minor FROM provider_payments p WHERE p.order_id = s.id), 0)
               AS kept
        FROM sold s
    ), lines AS (
      SELECT u.order_id, i.product_id,
             count(*) FILTER (WHERE u.status = 'delivered') AS delivered,
             -- A refunded order closed unfulfilled released its units (no replacement's: it was never charged).
             count(*) FILTER (WHERE u.status = 'refunded'
                                 OR (u.status = 'released' AND u.replaces_unit_id IS NULL)) AS refunded,
             COALESCE(sum(i.unit_price_minor) FILTER (WHERE u.status = 'delivered'), 0)::numeric AS delivered_value,
             COALESCE(sum(COALESCE(u.cost_minor, b.cost_minor)) FILTER (WHERE u.source IS NOT NULL
                        AND u.status IN ('delivered', 'replaced', 'refunded')), 0) AS cost,
             count(*) FILTER (WHERE u.source IS NOT NULL AND u.status IN ('delivered', 'replaced', 'refunded')
                                AND COALESCE(u.cost_minor, b.cost_minor) IS NULL) AS without_cost
        FROM sold s
        JOIN order_units u ON u.order_id = s.id
        JOIN order_items i ON i.id = u.item_id
        LEFT JOIN card_keys k ON k.id = u.card_key_id
        LEFT JOIN key_batches b ON b.id = k.batch_id
       GROUP BY u.order_id, i.product_id
    ), shares AS (
      SELECT l.*, s.client_id, s.currency, m.kept,
             CASE WHEN sum(l.delivered_value) OVER per_order = 0 THEN 0
                  ELSE floor(m.kept * l.delivered_value / sum(l.delivered_value) OVER per_order) END AS share,
             row_number() OVER (PARTITION BY l.order_id ORDER BY l.delivered_value DESC, l.product_id) AS rank
        FROM lines l
        JOIN sold s ON s.id = l.order_id
        JOIN kept m ON m.order_id = l.order_id
      WINDOW per_order AS (PARTITION BY l.order_id)
    ), grouped AS (
      SELECT ${group.key} AS key, ${group.label} AS label, sh.currency, sh.order_id,
             sh.delivered, sh.refunded, sh.cost, sh.without_cost,
             sh.share + CASE WHEN sh.rank = 1 THEN sh.kept - sum(sh.share) OVER (PARTITION BY sh.order_id) ELSE 0 END
               AS revenue
        FROM shares sh
        JOIN products p ON p.id = sh.product_id
        JOIN clients c ON c.id = sh.client_id
    )
    SELECT GROUPING(key) = 1 AS total, key, label, currency,
           count(DISTINCT order_id)::int AS orders,
           sum(delivered)::int AS units_delivered,
           sum(refunded)::int AS units_refunded,
           sum(revenue)::float8 AS revenue_minor,
           sum(cost)::float8 AS cost_minor,
           (sum(revenue) - sum(cost))::float8 AS margin_minor,
           CASE WHEN sum(revenue) = 0 THEN NULL
                ELSE round((sum(revenue) - sum(cost)) / sum(revenue), 4)::float8 END AS margin_rate,
           sum(without_cost)::int AS units_without_cost
      FROM grouped
     GROUP BY GROUPING SETS ((key, label, currency), (currency))
     ORDER BY 1, label NULLS FIRST, key NULLS FIRST, currency`;
  const figures = (r: Row): Omit<SalesFigures, 'unitsWithoutCost'> => ({
    orders: r.orders,
    unitsDelivered: r.units_delivered,
    unitsRefunded: r.units_refunded,
    revenueMinor: r.revenue_minor,
    costMinor: r.cost_minor,
    marginMinor: r.margin_minor,
    marginRate: r.margin_rate,
  });
  return {
    rows: rows
      .filter((r) => !r.total)
      .map((r) => ({
        key: r.key!,
        label: r.label!,
        currency: r.currency,
        ...figures(r),
        unitsWithoutCost: r.units_without_cost,
      })),
    totals: rows.filter((r) => r.total).map((r) => ({ currency: r.currency, ...figures(r) })),
  };
}
