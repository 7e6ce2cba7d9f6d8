// The one way an order's status changes outside the hot database functions: conditional on
// the status machine (domain/order-status.ts), with the history appended in the same statement.
import type { OrderStatus } from '@prisma/client';
import { sourcesOf } from '../../domain/order-status';
import type { DbTx } from '../../infra/db';

/**
 * Moves the order to `to` if its current status allows it, appending to the history.
 * Returns false (and writes nothing) when the order is already there or cannot move.
 */
export async function transitionOrderInTx(
  tx: DbTx,
  orderId: string,
  to: OrderStatus,
  reason?: string,
): Promise<boolean> {
  const moved = await tx.$executeRaw`
    WITH moved AS (
      UPDATE orders SET status = ${to}::order_status, status_reason = ${reason ?? null}, updated_at = now()
      WHERE id = ${orderId}::uuid AND status = ANY(${sourcesOf(to)}::order_status[])
      RETURNING id)
    INSERT INTO order_status_history (order_id, status, reason)
    SELECT id, ${to}::order_status, ${reason ?? null} FROM moved`;
  return moved > 0;
}
