// Order steps. Each is idempotent on the order id: a retried or replayed attempt finds its
// own earlier effect and does nothing more.
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { FailureType } from '../domain/failures';
import type { OrderStatus } from '../domain/order-status';
import { issueClaim } from '../store/claims';
import { deliverKeys, releaseKeysForOrder, reserveKeysForOrder } from '../store/inventory';
import { debitForOrder, refundOrder } from '../store/ledger';
import { transitionOrder } from '../store/orders';
import type { DbTx } from '../infra/db';
import type { ActivityDeps } from './deps';

export function orderActivities({ db, config, logger }: ActivityDeps) {
  const statusOf = async (orderId: string): Promise<OrderStatus> =>
    (await db.order.findUniqueOrThrow({ where: { id: orderId }, select: { status: true } })).status;

  /**
   * Runs `effects` and the transition in one transaction, and logs the transition when it
   * happened (not on a retry that found it done).
   */
  const settle = async (orderId: string, to: OrderStatus, reason?: string, effects?: (tx: DbTx) => Promise<void>) => {
    const moved = await db.$transaction(async (tx) => {
      await effects?.(tx);
      return transitionOrder(tx, orderId, to, reason);
    });
    if (moved) logger.info({ orderId, status: to, reason }, 'order status changed');
  };

  return {
    async beginFulfillment(orderId: string): Promise<{ status: OrderStatus; units: number }> {
      await settle(orderId, 'fulfilling');
      return { status: await statusOf(orderId), units: await db.orderUnit.count({ where: { orderId } }) };
    },

    async chargeOrder(orderId: string): Promise<void> {
      const order = await db.order.findUniqueOrThrow({ where: { id: orderId } });
      const outcome = await debitForOrder(db, order);
      if (!outcome.ok) {
        // BENIGN: a declined order is business as usual, not an error to alert on.
        throw ApplicationFailure.create({
          message: `insufficient balance: ${order.amountMinor} ${order.currency} needed, ${outcome.available} available`,
          type: FailureType.InsufficientBalance,
          nonRetryable: true,
          category: ApplicationFailureCategory.BENIGN,
        });
      }
    },

    /** Binds keys to units; returns how many units are still without one. */
    async reserveKeys(orderId: string): Promise<{ reserved: number; missing: number }> {
      const { reserved, missing } = await reserveKeysForOrder(db, orderId);
      return { reserved, missing: missing.length };
    },

    async releaseKeys(orderId: string): Promise<number> {
      return releaseKeysForOrder(db, orderId);
    },

    async deliverOrder(orderId: string): Promise<void> {
      await settle(orderId, 'delivered', undefined, async (tx) => {
        await deliverKeys(tx, orderId);
        await issueClaim(tx, config.CLAIM_TOKEN_SECRET, orderId);
      });
    },

    async refundAndClose(orderId: string, reason: string): Promise<void> {
      await refundOrder(db, orderId);
      await settle(orderId, 'refunded', reason);
    },

    async failOrder(orderId: string, reason: string): Promise<void> {
      await settle(orderId, 'failed', reason);
    },
  };
}
