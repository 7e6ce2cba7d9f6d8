// Announced price changes. A product's price changes at the change's effective time, not when
// it is announced: every order placed before then (a renewal included) pays the old price, so
// a buyer who cancels before the change is never charged the new one. Announcing is audited;
// applying is idempotent (the change's row is locked and applied once).
import type { Db, DbTx } from '../../infra/db';
import { type Actor, recordAuditInTx } from '../audit';

export async function announcePriceChange(
  db: Db,
  input: { productId: string; priceMinor: number; effectiveAt: Date; actor: Actor },
) {
  return db.$transaction(async (tx) => {
    const change = await tx.productPriceChange.create({
      data: {
        productId: input.productId,
        priceMinor: input.priceMinor,
        effectiveAt: input.effectiveAt,
        actor: input.actor.name,
      },
    });
    await recordAuditInTx(tx, {
      actorClientId: input.actor.clientId,
      actor: input.actor.name,
      action: 'product.price_change_announced',
      subjectType: 'product',
      subjectId: input.productId,
      details: { changeId: change.id, priceMinor: input.priceMinor, effectiveAt: input.effectiveAt.toISOString() },
    });
    return change;
  });
}

/** Sets the product's price to the change's, once; returns whether this call did. */
export async function applyPriceChange(db: Db, changeId: string): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const [change] = await tx.$queryRaw<{ product_id: string; price_minor: number; applied_at: Date | null }[]>`
      SELECT product_id::text, price_minor, applied_at FROM product_price_changes WHERE id = ${changeId}::uuid FOR UPDATE`;
    if (!change || change.applied_at) return false;
    const before = await tx.product.findUniqueOrThrow({ where: { id: change.product_id } });
    await tx.product.update({ where: { id: change.product_id }, data: { priceMinor: change.price_minor } });
    await tx.productPriceChange.update({ where: { id: changeId }, data: { appliedAt: new Date() } });
    await recordAuditInTx(tx, {
      actor: 'system:price-change',
      action: 'product.price_changed',
      subjectType: 'product',
      subjectId: change.product_id,
      details: { changeId, fromMinor: before.priceMinor, toMinor: change.price_minor },
    });
    return true;
  });
}

/**
 * The price a charge at `at` will pay: the latest change announced to take effect by then,
 * else the product's price now. What a renewal notice states.
 */
export async function priceAt(tx: DbTx, productId: string, at: Date): Promise<{ minor: number; currency: string }> {
  const product = await tx.product.findUniqueOrThrow({
    where: { id: productId },
    select: { priceMinor: true, currency: true },
  });
  const change = await tx.productPriceChange.findFirst({
    where: { productId, effectiveAt: { lte: at } },
    orderBy: { effectiveAt: 'desc' },
    select: { priceMinor: true },
  });
  return { minor: change?.priceMinor ?? product.priceMinor, currency: product.currency };
}

/** Open subscriptions whose plan, or pending plan, is the product: a page after `after` (by id). */
export function subscriptionsOnProduct(db: DbTx, productId: string, after: string | null, limit: number) {
  return db.subscription.findMany({
    where: {
      status: { notIn: ['cancelled', 'expired'] },
      OR: [{ productId }, { pendingProductId: productId }],
      ...(after ? { id: { gt: after } } : {}),
    },
    orderBy: { id: 'asc' },
    take: limit,
    select: { id: true, workflowId: true },
  });
}
