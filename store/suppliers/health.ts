// How each supplier has been doing lately, for operators: calls and their success rate (the
// circuit breaker's own log, supplier_calls) and the 95th percentile of its sales' latency
// (sourcing_attempts), over one window ending now.
import type { DbTx } from '../../infra/db';

export interface SupplierHealth {
  calls: number;
  ok: number;
  p95LatencyMs: number | null;
}

/** Every supplier's figures since `since`; a supplier without calls in the window has zeros. */
export async function supplierHealth(db: DbTx, since: Date): Promise<Map<string, SupplierHealth>> {
  const rows = await db.$queryRaw<({ supplierId: string } & SupplierHealth)[]>`
    SELECT s.id::text AS "supplierId",
           coalesce(c.calls, 0)::int AS calls,
           coalesce(c.ok, 0)::int AS ok,
           l.p95::int AS "p95LatencyMs"
    FROM suppliers s
    LEFT JOIN LATERAL (
      SELECT count(*) AS calls, count(*) FILTER (WHERE ok) AS ok
      FROM supplier_calls WHERE supplier_id = s.id AND at >= ${since}
    ) c ON true
    LEFT JOIN LATERAL (
      SELECT percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95
      FROM sourcing_attempts WHERE supplier_id = s.id AND at >= ${since} AND latency_ms IS NOT NULL
    ) l ON true`;
  return new Map(rows.map(({ supplierId, ...health }) => [supplierId, health]));
}
