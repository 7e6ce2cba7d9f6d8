// Order steps: thin wrappers over the store's settle steps, run as local activities (short
// database transactions). Each is idempotent on the order id and the keys the workflow
// passes: a retried or replayed attempt finds its own earlier effect and does nothing more.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../domain/failures';
import type { OrderStatus } from '../domain/order-status';
import { reserveKeysForOrder } from '../store/inventory';
import {
  type Begun,
  beginOrder,
  closeUnfulfilled,
  deliverOrder,
  fulfilFromStock,
  type Parking,
  recordParking,
  resumeParkings,
  settleShortfall,
} from '../store/orders';
import type { Actor } from '../store/audit';
import { type OrderRisk } from '../store/risk/assessments';
import { planSourcing } from '../store/suppliers/sourcing';
import type { SourcingPlan } from '../domain/suppliers';
import { assessOrderRisk } from './risk';
import { databaseErrorOf } from '../infra/db';
import type { ActivityDeps } from './deps';

/**
 * A database error that retrying cannot fix fails the step for good (the workflow then
 * compensates, keeping the message as the reason); any other keeps being retried, under a
 * one-line message the order's status query can show.
 */
async function classified<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const dbError = databaseErrorOf(err);
    if (!dbError) throw err;
    const message = `database error ${dbError.sqlState}: ${dbError.message}`;
    if (!dbError.permanent) throw new Error(message);
    throw ApplicationFailure.create({ message, type: FailureType.PermanentDatabaseError, nonRetryable: true });
  }
}

export function orderActivities(deps: ActivityDeps) {
  const { db, config, logger } = deps;
  const logMove = (moved: boolean, orderId: string, status: OrderStatus, reason?: string) => {
    if (moved) logger.info({ orderId, status, reason }, 'order status changed');
  };

  /** received → fulfilling with the amount held (authorized) once, or → failed when the balance is short. */
  async function begin(orderId: string, debitKey: string) {
    const begun = await classified(() => beginOrder(db, orderId, debitKey));
    if (!begun) {
      throw ApplicationFailure.create({
        message: `order ${orderId} not found`,
        type: FailureType.OrderNotFound,
        nonRetryable: true,
      });
    }
    logMove(begun.moved, orderId, begun.status, begun.reason);
    const { moved: _moved, ...rest } = begun;
    return rest;
  }

  return {
    beginOrder: begin,

    /**
     * Risk control's verdict and, for an order it lets through, the begin step: the two in one
     * local activity, as most orders are allowed. An order blocked or held for review is not
     * begun (`begun` absent); the workflow decides what follows.
     */
    async admitOrder(
      orderId: string,
      debitKey: string,
    ): Promise<{ risk: OrderRisk | null; begun?: Omit<Begun, 'moved'> }> {
      const risk = await classified(() => assessOrderRisk(deps, orderId));
      if (risk && risk.decision !== 'allow') return { risk };
      return { risk, begun: await begin(orderId, debitKey) };
    },

    /** Binds keys to units; returns how many units are still without one. */
    async reserveKeys(orderId: string): Promise<{ reserved: number; missing: number }> {
      const { reserved, missing } = await classified(() => reserveKeysForOrder(db, orderId));
      return { reserved, missing: missing.length };
    },

    /**
     * Binds keys to units and, when none is missing, delivers the order: both in one round
     * trip. Returns how many units hold a key and how many are still without one; with none
     * missing the order is delivered (by this call or an earlier attempt of it). With `plan`,
     * units left without a key come with their sourcing plan, read after the reservation
     * committed: a supplier-routed order's plan step of its own saved.
     */
    async fulfilFromStock(
      orderId: string,
      options: { plan?: boolean } = {},
    ): Promise<{ reserved: number; missing: number; plan?: SourcingPlan }> {
      const { reserved, missing, delivered } = await classified(() =>
        fulfilFromStock(db, config.CLAIM_TOKEN_SECRET, orderId),
      );
      logMove(delivered, orderId, 'delivered');
      if (!options.plan || missing.length === 0) return { reserved, missing: missing.length };
      return { reserved, missing: missing.length, plan: await classified(() => planSourcing(db, orderId)) };
    },

    async deliverOrder(orderId: string): Promise<void> {
      const moved = await classified(() => deliverOrder(db, config.CLAIM_TOKEN_SECRET, orderId));
      logMove(moved, orderId, 'delivered');
    },

    /** Releases keys and the hold, and ends the order `refunded` or `failed`; returns the status it is in. */
    async closeUnfulfilled(
      orderId: string,
      input: { debitKey: string; refundKey: string; reason: string },
    ): Promise<OrderStatus> {
      const { status, moved } = await classified(() => closeUnfulfilled(db, orderId, input));
      logMove(moved, orderId, status, input.reason);
      return status;
    },

    /**
     * Ends an order some of whose units no source could supply: delivers what was obtained
     * and refunds the rest when the order allows it (or a top-up was already credited),
     * else releases and refunds everything. Returns the status it is in.
     */
    async settleShortfall(
      orderId: string,
      input: { debitKey: string; refundKey: string; reason: string },
    ): Promise<OrderStatus> {
      const { status, moved } = await classified(() => settleShortfall(db, config.CLAIM_TOKEN_SECRET, orderId, input));
      logMove(moved, orderId, status, input.reason);
      return status;
    },

    /**
     * Records that the order parked (a regular activity the server retries without limit: any
     * error, a permanent one included, is worth another attempt, as the record is what alerts).
     */
    async markOrderParked(parking: Parking): Promise<void> {
      await recordParking(db, parking);
      logger.error({ ...parking }, 'order parked: a step kept failing; support must resume it');
    },

    /** Support's resume of a parked order: its open parkings resolved and the resume audited, in one transaction. */
    async resumeParkedOrder(orderId: string, input: { reason: string; actor: Actor }): Promise<void> {
      const resolved = await classified(() => resumeParkings(db, orderId, input));
      logger.info({ orderId, resolved, actor: input.actor.name }, 'parked order resumed');
    },
  };
}

export type OrderActivities = ReturnType<typeof orderActivities>;
