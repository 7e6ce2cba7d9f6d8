// Each supplier's circuit breaker, kept in PostgreSQL so every worker shares it: calls are
// logged in `supplier_calls` (the sliding window), the state lives on the supplier row, and
// moves happen under that row's lock or by a conditional update, so exactly one worker wins
// the half-open probe.
import { type CircuitFacts, circuitAdmits, shouldOpen } from '../../domain/suppliers';
import { type Db, sqlOf } from '../../infra/db';

export type Admission = 'call' | 'probe' | 'skip';

/**
 * Whether a call may go to the supplier, from its circuit as just read (unitAtRoute reads it
 * with the rest of the call's context). Only the move to half-open writes: a conditional
 * update, so of the workers that find the cool-down over, one probes.
 */
export async function admitCall(
  db: Db,
  supplierId: string,
  circuit: CircuitFacts,
  now = new Date(),
): Promise<Admission> {
  const decision = circuitAdmits(circuit, now);
  if (decision !== 'probe') return decision;
  const { count } = await db.supplier.updateMany({
    where: { id: supplierId, circuitState: circuit.state, circuitChangedAt: circuit.changedAt },
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
  if (ok && admission !== 'probe') {
    // A success moves no circuit but a probe's: logged without the supplier row's lock, so
    // concurrent calls to one supplier do not queue behind each other.
    await sqlOf(db).rows(
      'INSERT INTO supplier_calls (supplier_id, ok) VALUES ($1::uuid, true)',
      [supplierId],
      'log_supplier_call',
    );
    return;
  }
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
