// Subscription figures for operators, each one SQL statement over subscriptions and their
// periods (PostgreSQL computes; only the figures come back). As of `asOf`; `sku` narrows every
// figure to subscriptions that started on that product.
//
// - renewals due: the next charge of every open subscription (active or past due) in the next
//   30 days, per day in `timeZone`, with the revenue expected from the plan it will be charged
//   under (a pending plan change included);
// - retention: per product and period number n ≥ 2, of the subscriptions that paid period n − 1
//   and whose period n has started, how many paid it (a cohort's renewal rate);
// - dunning: periods whose first charge failed — recovered (paid in the end), lost (the
//   subscription was suspended, expired or cancelled without paying it), still retrying;
// - day of month: open subscriptions by the day of month (in their own zone) of their next
//   charge: the peak a first-of-the-month run must absorb.
import type { DbTx } from '../../infra/db';

export interface RenewalsDue {
  date: string;
  currency: string;
  subscriptions: number;
  expectedRevenueMinor: number;
}
export interface Retention {
  sku: string;
  period: number;
  reached: number;
  renewed: number;
  rate: number;
}
export interface DunningFigures {
  sku: string;
  entered: number;
  recovered: number;
  lost: number;
  retrying: number;
  /** recovered ÷ (recovered + lost), 4 decimals; null when none has ended. */
  recoveryRate: number | null;
}
export interface DayOfMonth {
  day: number;
  subscriptions: number;
}

export interface SubscriptionFigures {
  renewalsDue: RenewalsDue[];
  retention: Retention[];
  dunning: DunningFigures[];
  dayOfMonth: DayOfMonth[];
}

const OPEN = `s.status IN ('active', 'past_due')`;

export async function subscriptionFigures(
  db: DbTx,
  options: { asOf: Date; timeZone: string; sku?: string | undefined },
): Promise<SubscriptionFigures> {
  const { asOf, timeZone } = options;
  const sku = options.sku ?? null;
  // The product a subscription started on names its cohort.
  const started = `(SELECT p1.product_id FROM subscription_periods p1 WHERE p1.subscription_id = s.id AND p1.number = 1)`;
  /** The subscription's cohort is `sku` (parameter $n), or any when it is null. */
  const skuFilter = (n: number) =>
    `($${n}::text IS NULL OR (SELECT sku FROM products WHERE id = COALESCE(${started}, s.product_id)) = $${n})`;

  const renewalsDue = await db.$queryRawUnsafe<RenewalsDue[]>(
    `SELECT to_char((s.next_charge_at AT TIME ZONE $3)::date, 'YYYY-MM-DD') AS date, p.currency,
            count(*)::int AS subscriptions, sum(p.price_minor)::float8 AS "expectedRevenueMinor"
       FROM subscriptions s
       JOIN products p ON p.id = CASE WHEN s.pending_product_id IS NOT NULL
                                       AND s.pending_from_period <= s.current_period + 1
                                      THEN s.pending_product_id ELSE s.product_id END
      WHERE ${OPEN} AND s.next_charge_at >= $1 AND s.next_charge_at < $1::timestamptz + interval '30 days'
        AND ${skuFilter(2)}
      GROUP BY 1, 2 ORDER BY 1, 2`,
    asOf,
    sku,
    timeZone,
  );

  const retention = await db.$queryRawUnsafe<Retention[]>(
    `SELECT pr.sku, cur.number + 1 AS period,
            count(*)::int AS reached,
            count(*) FILTER (WHERE nxt.outcome = 'paid')::int AS renewed,
            round(count(*) FILTER (WHERE nxt.outcome = 'paid')::numeric / count(*), 4)::float8 AS rate
       FROM subscriptions s
       JOIN subscription_periods first ON first.subscription_id = s.id AND first.number = 1
       JOIN products pr ON pr.id = first.product_id
       JOIN subscription_periods cur ON cur.subscription_id = s.id AND cur.outcome = 'paid' AND cur.ends_at <= $1
       LEFT JOIN subscription_periods nxt ON nxt.subscription_id = s.id AND nxt.number = cur.number + 1
      WHERE ($2::text IS NULL OR pr.sku = $2)
      GROUP BY 1, 2 ORDER BY 1, 2`,
    asOf,
    sku,
  );

  const dunning = await db.$queryRawUnsafe<DunningFigures[]>(
    `WITH failed AS (
       SELECT DISTINCT e.subscription_id, e.period_number
         FROM subscription_events e
        WHERE e.type = 'renewal_failed' AND e.at <= $1
     ), judged AS (
       SELECT pr.sku,
              CASE WHEN p.outcome = 'paid' THEN 'recovered'
                   WHEN s.status IN ('suspended', 'expired', 'cancelled') OR s.current_period > f.period_number
                     THEN 'lost'
                   ELSE 'retrying' END AS fate
         FROM failed f
         JOIN subscriptions s ON s.id = f.subscription_id
         JOIN subscription_periods p ON p.subscription_id = f.subscription_id AND p.number = f.period_number
         JOIN subscription_periods first ON first.subscription_id = s.id AND first.number = 1
         JOIN products pr ON pr.id = first.product_id
        WHERE ($2::text IS NULL OR pr.sku = $2)
     )
     SELECT sku, count(*)::int AS entered,
            count(*) FILTER (WHERE fate = 'recovered')::int AS recovered,
            count(*) FILTER (WHERE fate = 'lost')::int AS lost,
            count(*) FILTER (WHERE fate = 'retrying')::int AS retrying,
            CASE WHEN count(*) FILTER (WHERE fate <> 'retrying') = 0 THEN NULL
                 ELSE round(count(*) FILTER (WHERE fate = 'recovered')::numeric
                            / count(*) FILTER (WHERE fate <> 'retrying'), 4)::float8 END AS "recoveryRate"
       FROM judged GROUP BY sku ORDER BY sku`,
    asOf,
    sku,
  );

  const dayOfMonth = await db.$queryRawUnsafe<DayOfMonth[]>(
    `SELECT extract(day FROM s.next_charge_at AT TIME ZONE s.time_zone)::int AS day, count(*)::int AS subscriptions
       FROM subscriptions s
      WHERE ${OPEN} AND s.next_charge_at IS NOT NULL AND ${skuFilter(1)}
      GROUP BY 1 ORDER BY 1`,
    sku,
  );

  return { renewalsDue, retention, dunning, dayOfMonth };
}
