// The order's settle steps. Each is one transaction (or one statement) that locks the order
// row first and acts only from the statuses it expects, so a retried, replayed or stale
// attempt finds its own earlier effect, or a later status, and does nothing more.
// Names ending in InTx run inside the caller's transaction; the others open their own.
import { randomBytes } from 'node:crypto';
import type { OrderStatus } from '@prisma/client';
import { sourcesOf } from '../../domain/order-status';
import { sha256Hex } from '../../infra/crypto';
import type { Db, DbTx } from '../../infra/db';
import { claimTokenFor } from '../claims';
import { releaseKeysInTx } from '../inventory';
import { debitOrderInTx, refundOrderInTx } from '../ledger';

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
 * received → fulfilling with the order's amount debited once under `debitKey`, or
 * received → failed when the balance is short; one transaction holding the order's and
 * the client's row locks.
 */
export async function beginOrder(db: Db, orderId: string, debitKey: string): Promise<Begun | null> {
  return db.$transaction(async (tx) => {
    const [order] = await tx.$queryRaw<
      {
        status: OrderStatus;
        client_id: string;
        amount_minor: bigint;
        currency: string;
        status_reason: string | null;
        notify: boolean;
        units: number;
      }[]
    >`
      SELECT o.status, o.client_id, o.amount_minor, o.currency, o.status_reason,
             (o.callback_url IS NOT NULL OR c.webhook_url IS NOT NULL) AS notify,
             (SELECT count(*) FROM order_units u WHERE u.order_id = o.id)::int AS units
      FROM orders o JOIN clients c ON c.id = o.client_id
      WHERE o.id = ${orderId}::uuid
      FOR UPDATE`;
    if (!order) return null;
    const { units, notify } = order;
    if (order.status !== 'received' && order.status !== 'fulfilling') {
      return {
        status: order.status,
        ...(order.status_reason ? { reason: order.status_reason } : {}),
        units,
        notify,
        moved: false,
      };
    }
    const debit = await debitOrderInTx(
      tx,
      { id: orderId, clientId: order.client_id, amountMinor: order.amount_minor, currency: order.currency },
      debitKey,
    );
    if (!debit.ok) {
      const reason = 'insufficient balance';
      const moved = await transitionOrderInTx(tx, orderId, 'failed', reason);
      return { status: 'failed', reason, units, notify, moved };
    }
    const moved = await transitionOrderInTx(tx, orderId, 'fulfilling');
    return { status: 'fulfilling', units, notify, moved };
  });
}

/**
 * fulfilling → delivered in one statement: the reserved units and their keys become
 * delivered and the order gets its claim token (kept if it has one). Only when every unit
 * holds a key; returns whether it moved the order.
 */
export async function deliverOrder(db: Db, claimSecret: string, orderId: string): Promise<boolean> {
  const nonce = randomBytes(16).toString('hex');
  const tokenHash = sha256Hex(claimTokenFor(claimSecret, orderId, nonce));
  const [row] = await db.$queryRaw<{ moved: boolean }[]>`
    WITH moved AS (
      UPDATE orders SET status = 'delivered', status_reason = NULL, updated_at = now(),
        claim_nonce = COALESCE(claim_nonce, ${nonce}),
        claim_token_hash = COALESCE(claim_token_hash, ${tokenHash})
      WHERE id = ${orderId}::uuid AND status = 'fulfilling'
        AND NOT EXISTS (SELECT 1 FROM order_units WHERE order_id = ${orderId}::uuid AND status <> 'reserved')
      RETURNING id
    ), units AS (
      UPDATE order_units SET status = 'delivered'
      WHERE order_id IN (SELECT id FROM moved) AND status = 'reserved' RETURNING card_key_id
    ), keys AS (
      UPDATE card_keys SET status = 'delivered', delivered_at = now()
      WHERE id IN (SELECT card_key_id FROM units) AND status = 'reserved'
    ), history AS (
      INSERT INTO order_status_history (order_id, status) SELECT id, 'delivered' FROM moved
    )
    SELECT EXISTS (SELECT 1 FROM moved) AS moved`;
  return row!.moved;
}

/**
 * Ends an order that will not be delivered, in one transaction: its reserved keys go back
 * on the shelf, a debit is refunded once under `keys.refund`, and the order becomes
 * `refunded` (if it was debited) or `failed` (if not), with the reason. An order that is
 * already terminal — delivered included — is left as it is; its status is returned.
 */
export async function closeUnfulfilled(
  db: Db,
  orderId: string,
  input: { debitKey: string; refundKey: string; reason: string },
): Promise<{ status: OrderStatus; moved: boolean }> {
  return db.$transaction(async (tx) => {
    const [order] = await tx.$queryRaw<{ status: OrderStatus }[]>`
      SELECT status FROM orders WHERE id = ${orderId}::uuid FOR UPDATE`;
    if (!order) throw new Error(`order ${orderId} not found`);
    if (order.status !== 'received' && order.status !== 'fulfilling') return { status: order.status, moved: false };
    await releaseKeysInTx(tx, orderId);
    const debited = await refundOrderInTx(tx, { debit: input.debitKey, refund: input.refundKey });
    const status: OrderStatus = debited ? 'refunded' : 'failed';
    return { status, moved: await transitionOrderInTx(tx, orderId, status, input.reason) };
  });
}
