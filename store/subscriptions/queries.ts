// What the API reads of subscriptions: one with its periods (each with its order's status) and
// its history, and pages of them for a client or a buyer. Rows, not views: api/ shapes them.
import type { SubscriptionStatus } from '@prisma/client';
import type { DbTx } from '../../infra/db';
import { byCreatedAt, keysetPage, type TimeKey } from '../keyset';

const productFields = { id: true, sku: true, priceMinor: true, currency: true, active: true } as const;

/** A subscription with everything GET /v1/subscriptions/:id shows, or null (absent, or not the caller's). */
export async function findSubscription(db: DbTx, id: string, scope: { clientId?: string } = {}) {
  const subscription = await db.subscription.findFirst({
    where: { id, ...scope },
    include: {
      product: { select: productFields },
      periods: { orderBy: { number: 'asc' }, include: { order: { select: { status: true } } } },
      events: { orderBy: { seq: 'asc' } },
    },
  });
  if (!subscription) return null;
  const pendingProduct = subscription.pendingProductId
    ? await db.product.findUnique({ where: { id: subscription.pendingProductId }, select: productFields })
    : null;
  const skus = new Map(
    (
      await db.product.findMany({
        where: { id: { in: [...new Set(subscription.periods.map((p) => p.productId))] } },
        select: { id: true, sku: true },
      })
    ).map((p) => [p.id, p.sku]),
  );
  return { ...subscription, pendingProduct, skuOf: (productId: string) => skus.get(productId) ?? null };
}

export type SubscriptionDetail = NonNullable<Awaited<ReturnType<typeof findSubscription>>>;

/** Oldest first by (created at, id); an order system's own only when `clientId` is given. */
export function subscriptionPage(
  db: DbTx,
  query: { clientId?: string; buyerId?: string; status?: SubscriptionStatus; cursor?: TimeKey; limit: number },
) {
  return keysetPage(
    query.limit,
    (take) =>
      db.subscription.findMany({
        where: {
          ...(query.clientId ? { clientId: query.clientId } : {}),
          ...(query.buyerId ? { buyerId: query.buyerId } : {}),
          ...(query.status ? { status: query.status } : {}),
          ...byCreatedAt.after(query.cursor),
        },
        orderBy: byCreatedAt.orderBy,
        take,
        include: { product: { select: productFields } },
      }),
    byCreatedAt.keyOf,
  );
}

/** The fields a request about one subscription needs to reach its workflow. */
export const subscriptionRefFields = {
  id: true,
  clientId: true,
  workflowId: true,
  status: true,
  externalSubscriptionId: true,
  anchorAt: true,
  timeZone: true,
  period: true,
  productId: true,
  product: { select: { sku: true } },
} as const;

/** What a request about one subscription needs to reach its workflow. */
export function subscriptionRef(db: DbTx, id: string, scope: { clientId?: string } = {}) {
  return db.subscription.findFirst({ where: { id, ...scope }, select: subscriptionRefFields });
}
