// Parked orders: a step kept failing until the order's workflow stopped retrying it and waits
// for support. One row per parking (the workflow numbers them), written when the database can
// take it; resumed by support, with an audit entry in the same transaction. A parked order
// keeps its status: parking is not an outcome, and every step still finds its own effects.
import type { Db, DbTx } from '../../infra/db';
import { type Actor, recordAuditInTx } from '../audit';

export interface Parking {
  orderId: string;
  /** The workflow's count of this order's parkings (1, 2, …): a retried record finds its row. */
  parking: number;
  step: string;
  attempts: number;
  lastError: string;
  historyLength: number;
}

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/gu;

/** An error message as a column can hold it: whatever a failure said (a NUL included), one line, bounded. */
function storable(message: string): string {
  return message.replace(INVISIBLE, ' ').slice(0, 2_000);
}

/** Records a parking once (a retried attempt, or a late one after the resume, changes nothing). */
export async function recordParking(db: Db, parking: Parking): Promise<void> {
  await db.$executeRaw`
    INSERT INTO order_parkings (order_id, parking, step, attempts, last_error, history_length)
    VALUES (${parking.orderId}::uuid, ${parking.parking}, ${parking.step}, ${parking.attempts},
            ${storable(parking.lastError)}, ${parking.historyLength})
    ON CONFLICT (order_id, parking) DO NOTHING`;
}

/**
 * Resolves the order's open parkings (a cancelled order's earlier one included) and audits the
 * resume, in one transaction. Returns how many it resolved.
 */
export function resumeParkings(db: Db, orderId: string, input: { reason: string; actor: Actor }): Promise<number> {
  return db.$transaction(async (tx) => {
    const resolved = await tx.orderParking.updateMany({
      where: { orderId, resumedAt: null },
      data: { resumedAt: new Date(), resumedBy: input.actor.name },
    });
    await recordAuditInTx(tx, {
      actorClientId: input.actor.clientId,
      actor: input.actor.name,
      action: 'order.resumed',
      subjectType: 'order',
      subjectId: orderId,
      reason: input.reason,
      details: { parkings: resolved.count },
    });
    return resolved.count;
  });
}

/** The latest open parking of each of these orders, by order id. */
export async function openParkings(db: Db, orderIds: string[]) {
  const rows = await db.orderParking.findMany({
    where: { orderId: { in: orderIds }, resumedAt: null },
    orderBy: { parking: 'asc' },
  });
  return new Map(rows.map((r) => [r.orderId, r]));
}

/**
 * Ends the order's open parkings without a resume: a cancellation took the order out of its
 * parked step and the close that follows undoes it (called inside that close's transaction).
 */
export async function endParkingsInTx(tx: DbTx, orderId: string, reason: string): Promise<void> {
  await tx.orderParking.updateMany({
    where: { orderId, resumedAt: null },
    data: { resumedAt: new Date(), resumedBy: `closed: ${storable(reason)}` },
  });
}

/** Orders parked now (a parking neither resumed nor ended by a close): the alert's figure. */
export async function parkedOrderCount(db: DbTx): Promise<number> {
  const [row] = await db.$queryRaw<{ parked: number }[]>`
    SELECT count(DISTINCT order_id)::int AS parked FROM order_parkings WHERE resumed_at IS NULL`;
  return row!.parked;
}
