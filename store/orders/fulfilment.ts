// The order's settle steps. Each is one transaction that locks the order row first and acts
// only from the statuses it expects, so a retried, replayed or stale attempt finds its own
// earlier effect, or a later status, and does nothing more. The hot ones are database
// functions (prisma/functions/, one file each): one round trip, plans cached.
// Names ending in InTx run inside the caller's transaction; the others open their own.
import type { OrderStatus } from '@prisma/client';
import { type Db, type DbTx, sqlOf } from '../../infra/db';
import { newClaimToken } from '../claims';
import { releaseKeysInTx } from '../inventory';
import { settleOrderMoneyInTx } from '../ledger';
import { closeOpenReviewsInTx } from '../risk/reviews';
import { endParkingsInTx } from './parking';
import { transitionOrderInTx } from './transitions';

export interface Begun {
  status: OrderStatus;
  reason?: string;
  units: number;
  /** Whether anyone is to be told of the outcome: the order's callbackUrl or its client's webhookUrl. */
  notify: boolean;
  /** Whether this call moved the order (false on a retry that found it done). */
  moved: boolean;
}

/**
 * received → fulfilling with the order's amount held (authorized) once under `debitKey`, or
 * received → failed when the balance is short: one call of the `begin_order` database
 * function (prisma/functions/begin_order.sql), which locks the order row and holds through
 * the ledger (the client account's row lock and CHECK keep available from going negative).
 * Null when the order does not exist.
 */
export async function beginOrder(db: Db, orderId: string, debitKey: string): Promise<Begun | null> {
  const [row] = await sqlOf(db).rows<{
    status: OrderStatus;
    reason: string | null;
    units: number;
    notify: boolean;
    moved: boolean;
  }>('SELECT * FROM begin_order($1, $2)', [orderId, debitKey]);
  if (!row) return null;
  const { reason, ...rest } = row;
  return { ...rest, ...(reason ? { reason } : {}) };
}

/**
 * fulfilling → delivered once every unit holds a key: one call of the `deliver_order`
 * database function. The claim token is made here (its secret never reaches the database);
 * an order that has one keeps it. Returns whether it moved the order.
 */
export async function deliverOrder(db: Db, claimSecret: string, orderId: string): Promise<boolean> {
  const { nonce, tokenHash } = newClaimToken(claimSecret, orderId);
  const [row] = await sqlOf(db).rows<{ moved: boolean }>('SELECT deliver_order($1, $2, $3) AS moved', [
    orderId,
    nonce,
    tokenHash,
  ]);
  return row!.moved;
}

/**
 * An own-stock order's reservation and delivery in one round trip (the `fulfil_from_stock`
 * database function): a key bound to every pending unit, then, when none is missing, the
 * order delivered as `deliverOrder` does. Returns how many units hold a key, the ids of
 * those still without one, and whether this call delivered the order (false on a retry
 * that finds it delivered).
 */
export async function fulfilFromStock(
  db: Db,
  claimSecret: string,
  orderId: string,
): Promise<{ reserved: number; missing: string[]; delivered: boolean }> {
  const { nonce, tokenHash } = newClaimToken(claimSecret, orderId);
  const [row] = await sqlOf(db).rows<{ reserved: number; missing: string[]; delivered: boolean }>(
    'SELECT * FROM fulfil_from_stock($1, $2, $3)',
    [orderId, nonce, tokenHash],
  );
  return row!;
}

type Settled = { status: OrderStatus; moved: boolean };

/** Statuses of an order its workflow has not ended yet. */
const OPEN: readonly OrderStatus[] = ['received', 'in_review', 'fulfilling'];

/**
 * Runs `settle` in one transaction on an order that is still open (received, in review or fulfilling),
 * its rows locked first; an order already terminal — delivered included — is left as it is
 * and its status returned.
 */
function settleOpenOrder(
  db: Db,
  orderId: string,
  settle: (tx: DbTx, status: OrderStatus) => Promise<Settled>,
): Promise<Settled> {
  return db.$transaction(async (tx) => {
    const status = await lockOpenOrderInTx(tx, orderId);
    if (!OPEN.includes(status)) return { status, moved: false };
    return settle(tx, status);
  });
}

/**
 * Ends an order that will not be delivered, in one transaction: its reserved keys go back
 * on the shelf, its hold is released once under `refundKey`, and the order becomes
 * `refunded` (if it was charged) or `failed` (if not), with the reason.
 */
export async function closeUnfulfilled(
  db: Db,
  orderId: string,
  input: { debitKey: string; refundKey: string; reason: string },
): Promise<Settled> {
  return settleOpenOrder(db, orderId, (tx) => closeUnfulfilledInTx(tx, orderId, input));
}

/**
 * Locks the order row, then (when it is still open) its unit rows: a reservation still
 * running (a stale attempt) holds unit rows, so waiting for it lets what follows see its
 * keys. Returns the order's status.
 */
async function lockOpenOrderInTx(tx: DbTx, orderId: string): Promise<OrderStatus> {
  const [order] = await tx.$queryRaw<{ status: OrderStatus }[]>`
    SELECT status FROM orders WHERE id = ${orderId}::uuid FOR UPDATE`;
  if (!order) throw new Error(`order ${orderId} not found`);
  if (OPEN.includes(order.status)) {
    await tx.$queryRaw`SELECT id FROM order_units WHERE order_id = ${orderId}::uuid FOR UPDATE`;
  }
  return order.status;
}

async function closeUnfulfilledInTx(
  tx: DbTx,
  orderId: string,
  input: { debitKey: string; refundKey: string; reason: string },
): Promise<Settled> {
  await releaseKeysInTx(tx, orderId);
  await closeOpenReviewsInTx(tx, orderId);
  // A cancellation that took the order out of a parked step leaves it for this close to end.
  await endParkingsInTx(tx, orderId, input.reason);
  const charged = await settleOrderMoneyInTx(tx, orderId, 0n, { refund: input.refundKey });
  const status: OrderStatus = charged ? 'refunded' : 'failed';
  return { status, moved: await transitionOrderInTx(tx, orderId, status, input.reason) };
}

/**
 * Ends a fulfilling order some of whose units could not be obtained. When the order allows
 * partial delivery, or a unit is a direct top-up already credited (that cannot be taken
 * back), the obtained units are delivered and captured, the others released at their price under
 * `refundKey`, each with the reason, and the order becomes `partially_delivered`.
 * Otherwise it is closed as unfulfilled: keys back on the shelf (supplier-bought ones
 * included: they are paid for), the whole hold released.
 */
export async function settleShortfall(
  db: Db,
  claimSecret: string,
  orderId: string,
  input: { debitKey: string; refundKey: string; reason: string },
): Promise<Settled> {
  return settleOpenOrder(db, orderId, async (tx, status) => {
    const [shape] = await tx.$queryRaw<{ allow_partial: boolean; obtained: number; credited_topups: number }[]>`
      SELECT o.allow_partial,
             count(u.id) FILTER (WHERE u.status = 'reserved')::int AS obtained,
             count(u.id) FILTER (WHERE u.status = 'reserved' AND u.card_key_id IS NULL)::int AS credited_topups
        FROM orders o JOIN order_units u ON u.order_id = o.id
       WHERE o.id = ${orderId}::uuid
       GROUP BY o.allow_partial`;
    if (
      status !== 'fulfilling' ||
      !shape ||
      shape.obtained === 0 ||
      !(shape.allow_partial || shape.credited_topups > 0)
    ) {
      return closeUnfulfilledInTx(tx, orderId, input);
    }
    await tx.$executeRaw`
      UPDATE order_units SET status = 'refunded', reason = ${input.reason}
       WHERE order_id = ${orderId}::uuid AND status = 'pending'`;
    // Capture what is delivered; the rest of the hold goes back to the client.
    const [delivered] = await tx.$queryRaw<{ minor: bigint }[]>`
      SELECT COALESCE(sum(i.unit_price_minor), 0)::bigint AS minor
        FROM order_units u JOIN order_items i ON i.id = u.item_id
       WHERE u.order_id = ${orderId}::uuid AND u.status = 'reserved'`;
    await settleOrderMoneyInTx(tx, orderId, delivered!.minor, { refund: input.refundKey });
    await tx.$executeRaw`
      WITH units AS (
        UPDATE order_units SET status = 'delivered' WHERE order_id = ${orderId}::uuid AND status = 'reserved'
        RETURNING card_key_id
      )
      UPDATE card_keys SET status = 'delivered', delivered_at = now()
       WHERE id IN (SELECT card_key_id FROM units) AND status = 'reserved'`;
    const { nonce, tokenHash } = newClaimToken(claimSecret, orderId);
    await tx.order.update({ where: { id: orderId }, data: { claimNonce: nonce, claimTokenHash: tokenHash } });
    return {
      status: 'partially_delivered',
      moved: await transitionOrderInTx(tx, orderId, 'partially_delivered', input.reason),
    };
  });
}
