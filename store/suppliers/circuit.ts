// Each supplier's circuit breaker, kept in PostgreSQL so every worker shares it: calls are
// logged in `supplier_calls` (the sliding window), the state lives on the supplier row, and
// moves happen under that row's lock or by a conditional update, so exactly one worker wins
// the half-open probe.
import { circuitAdmits, shouldOpen } from '../../domain/suppliers';
import type { Db } from '../../infra/db';

export type Admission = 'call' | 'probe' | 'skip';

export async function admitCall(db: Db, supplierId: string, now = new Date()): Promise<Admission> {
  const supplier = await db.supplier.findUniqueOrThrow({
    where: { id: supplierId },
    select: { circuitState: true, circuitChangedAt: true, circuitCooldownSeconds: true },
  });
  const decision = circuitAdmits(
    {
      state: supplier.circuitState,
      changedAt: supplier.circuitChangedAt,
      cooldownSeconds: supplier.circuitCooldownSeconds,
    },
    now,
  );
  if (decision !== 'probe') return decision;
  const { count } = await db.supplier.updateMany({
    where: { id: supplierId, circuitState: supplier.circuitState, circuitChangedAt: supplier.circuitChangedAt },
    data: { circuitState: 'half_open', circuitChangedAt: now },
  });
  return count === 1 ? 'probe' : 'skip';
}

/**
 * Logs a call's outcome and moves the circuit: a probe's success closes it and its failure
 * opens it again; on a closed circuit, enough failures in the window (counted since it last
 * closed) open it.
 */
export async function recordCall(db: Db, supplierId: string, ok: boolean, admission: Admission): Promise<void> {
  await db.$transaction(async (tx) => {
    const [supplier] = await tx.$queryRaw<
      { state: string; changed_at: Date; failures_to_open: number; window_seconds: number }[]
    >`SELECT circuit_state::text AS state, circuit_changed_at AS changed_at, circuit_failures AS failures_to_open,
             circuit_window_seconds AS window_seconds
        FROM suppliers WHERE id = ${supplierId}::uuid FOR UPDATE`;
    await tx.supplierCall.create({ data: { supplierId, ok } });
    if (!supplier) return;
    if (admission === 'probe' && supplier.state === 'half_open') {
      await tx.supplier.update({
        where: { id: supplierId },
        data: { circuitState: ok ? 'closed' : 'open', circuitChangedAt: new Date() },
      });
      return;
    }
    if (ok || supplier.state !== 'closed') return;
    const [window] = await tx.$queryRaw<{ calls: number; failures: number }[]>`
      SELECT count(*)::int AS calls, count(*) FILTER (WHERE NOT ok)::int AS failures
        FROM supplier_calls
       WHERE supplier_id = ${supplierId}::uuid
         AND at > greatest(now() - make_interval(secs => ${supplier.window_seconds}), ${supplier.changed_at})`;
    if (shouldOpen(window!, supplier.failures_to_open)) {
      await tx.supplier.update({
        where: { id: supplierId },
        data: { circuitState: 'open', circuitChangedAt: new Date() },
      });
    }
  });
}
