// Subscription intake: one subscription per (client, externalSubscriptionId) or
// Idempotency-Key, as order intake does for orders; a different body under the same ids is a
// conflict. The subscription is recorded with its first history row (seq 0, `created`) in one
// transaction; its renewal workflow is started by the API right after, or by the start sweep
// (api/subscription-starts.ts) when that start was lost.
import { randomUUID } from 'node:crypto';
import type { Prisma, Subscription } from '@prisma/client';
import type { Geo } from '../../domain/risk/facts';
import type { SubscriptionRequest } from '../../domain/subscriptions/request';
import { workflowIds } from '../../domain/workflow-ids';
import { sha256Hex } from '../../infra/crypto';
import type { Db } from '../../infra/db';
import { isUniqueViolation } from '../../infra/db';
import { canonical, checkAccounts, UnknownSkus } from '../orders/intake';
import { newCancelToken } from './cancel-links';

export class SubscriptionConflict extends Error {}

/** The prepaid balance is the default: saying so hashes the same as saying nothing. */
export function subscriptionRequestHash(request: SubscriptionRequest): string {
  const { payment, ...rest } = request;
  return sha256Hex(canonical(payment?.method === 'stripe' ? request : rest));
}

const intakeSelect = {
  id: true,
  externalSubscriptionId: true,
  status: true,
  workflowId: true,
  requestHash: true,
  anchorAt: true,
  timeZone: true,
  period: true,
  productId: true,
  product: { select: { sku: true } },
} as const;

export type IntakeSubscription = Pick<
  Subscription,
  | 'id'
  | 'externalSubscriptionId'
  | 'status'
  | 'workflowId'
  | 'requestHash'
  | 'anchorAt'
  | 'timeZone'
  | 'period'
  | 'productId'
> & { product: { sku: string } };

function sameRequestOrConflict(existing: IntakeSubscription, requestHash: string): IntakeSubscription {
  if (existing.requestHash !== requestHash) throw new SubscriptionConflict(existing.id);
  return existing;
}

function findExisting(db: Db, clientId: string, externalSubscriptionId: string, idempotencyKey?: string) {
  return db.subscription.findFirst({
    where: { clientId, OR: [{ externalSubscriptionId }, ...(idempotencyKey ? [{ idempotencyKey }] : [])] },
    select: intakeSelect,
  });
}

/**
 * Records a new subscription, or returns the one this request (by externalSubscriptionId or
 * Idempotency-Key) already made. Its first period starts now: that instant is the anchor
 * every renewal is counted from. An unknown or inactive SKU is UnknownSkus, a top-up without
 * a valid account (or a card key with one) InvalidAccount, as at order intake: every renewal
 * places an order with the same fields, which must not start failing a month later.
 */
export async function createSubscription(
  db: Db,
  clientId: string,
  request: SubscriptionRequest,
  options: { idempotencyKey?: string | undefined; buyerGeo: Geo | null; claimTokenSecret: string },
): Promise<{ subscription: IntakeSubscription; created: boolean }> {
  const { idempotencyKey, buyerGeo } = options;
  const requestHash = subscriptionRequestHash(request);
  const existing = await findExisting(db, clientId, request.externalSubscriptionId, idempotencyKey);
  if (existing) return { subscription: sameRequestOrConflict(existing, requestHash), created: false };

  const product = await db.product.findFirst({
    where: { sku: request.sku, active: true },
    select: { id: true, sku: true, kind: true, priceMinor: true, currency: true, accountPattern: true },
  });
  if (!product) throw new UnknownSkus([request.sku]);
  checkAccounts([{ account: request.account, product }]);

  const id = randomUUID();
  const cancel = newCancelToken(options.claimTokenSecret, id);
  const anchorAt = new Date();
  const stripe = request.payment?.method === 'stripe' ? request.payment : undefined;
  try {
    const subscription = await db.$transaction(async (tx) => {
      const row = await tx.subscription.create({
        data: {
          id,
          clientId,
          externalSubscriptionId: request.externalSubscriptionId,
          idempotencyKey: idempotencyKey ?? null,
          requestHash,
          buyerId: request.buyer.id,
          buyerIp: request.buyer.ip,
          buyerDeviceId: request.buyer.deviceId ?? null,
          buyerGeo: buyerGeo === null ? undefined : (buyerGeo as unknown as Prisma.InputJsonObject),
          productId: product.id,
          period: request.period,
          timeZone: request.timeZone,
          account: request.account ?? null,
          paymentMethod: stripe ? 'stripe' : 'balance',
          paymentMethodRef: stripe?.paymentMethodId ?? null,
          callbackUrl: request.callbackUrl ?? null,
          anchorAt,
          nextChargeAt: anchorAt,
          workflowId: workflowIds.subscription(clientId, request.externalSubscriptionId),
          cancelNonce: cancel.nonce,
          cancelTokenHash: cancel.tokenHash,
        },
        select: intakeSelect,
      });
      await tx.subscriptionEvent.create({
        data: {
          subscriptionId: id,
          seq: 0,
          type: 'created',
          status: 'active',
          actor: `client:${clientId}`,
          detail: {
            sku: product.sku,
            period: request.period,
            timeZone: request.timeZone,
            anchorAt: anchorAt.toISOString(),
          },
        },
      });
      return row;
    });
    return { subscription, created: true };
  } catch (err) {
    if (isUniqueViolation(err)) {
      const winner = await findExisting(db, clientId, request.externalSubscriptionId, idempotencyKey);
      if (winner) return { subscription: sameRequestOrConflict(winner, requestHash), created: false };
    }
    throw err;
  }
}

/**
 * Subscriptions whose renewal workflow shows no sign of having run, committed before
 * `before`, oldest first: still as intake left them (`active`, no event after the creation —
 * `last_seq` 0 — and no period row; the workflow's first step places period 1's order, which
 * writes that row). Either the start was lost (the API killed between commit and start,
 * Temporal away) or the workflow has not been given to a worker yet; starting it again is
 * harmless in both cases. Until the workflow records anything, `next_charge_at` is the anchor,
 * the commit's time: the (status, next_charge_at) index finds these among the few active
 * subscriptions whose charge is due now, not among every subscription.
 */
export function findUnstartedSubscriptions(
  db: Db,
  before: Date,
  limit: number,
  only: { clientId?: string } = {},
): Promise<IntakeSubscription[]> {
  return db.subscription.findMany({
    where: {
      status: 'active',
      nextChargeAt: { lt: before },
      lastSeq: 0,
      periods: { none: {} },
      ...(only.clientId ? { clientId: only.clientId } : {}),
    },
    orderBy: { nextChargeAt: 'asc' },
    take: limit,
    select: intakeSelect,
  });
}
