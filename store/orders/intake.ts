// Order intake: an order and its units recorded once per (client, externalOrderId) or
// Idempotency-Key; a different body under the same ids is a conflict.
import type { Order, Prisma as P } from '@prisma/client';
import { sha256Hex } from '../../infra/crypto';
import type { Db, DbTx } from '../../infra/db';
import { Prisma } from '../../infra/db';
import { workflowIds } from '../../domain/workflow-ids';

export interface OrderRequest {
  externalOrderId: string;
  buyer: { id: string; ip: string; deviceId?: string | undefined };
  items: { sku: string; quantity: number }[];
  callbackUrl?: string | undefined;
}

export class OrderConflict extends Error {}
export class UnknownSkus extends Error {
  constructor(readonly skus: string[]) {
    super(`unknown or inactive sku: ${skus.join(', ')}`);
  }
}
export class MixedCurrencies extends Error {}
export class UnsupportedKind extends Error {
  constructor(readonly skus: string[]) {
    super(`not deliverable yet (direct top-up): ${skus.join(', ')}`);
  }
}

/** Key order does not matter: the same request always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function requestHashOf(request: OrderRequest): string {
  return sha256Hex(canonical(request));
}

async function findExisting(db: DbTx, clientId: string, externalOrderId: string, idempotencyKey?: string) {
  return db.order.findFirst({
    where: {
      clientId,
      OR: [{ externalOrderId }, ...(idempotencyKey ? [{ idempotencyKey }] : [])],
    },
  });
}

function sameRequestOrConflict(existing: Order, requestHash: string): Order {
  if (existing.requestHash !== requestHash) throw new OrderConflict(existing.id);
  return existing;
}

/**
 * Records a new order with one unit row per unit, or returns the order this request (by
 * externalOrderId or Idempotency-Key) already made. A different body under the same ids is
 * an OrderConflict. Concurrent identical submissions converge through the unique indexes.
 */
export async function createOrder(
  db: Db,
  clientId: string,
  request: OrderRequest,
  idempotencyKey?: string,
): Promise<{ order: Order; created: boolean }> {
  const requestHash = requestHashOf(request);
  const existing = await findExisting(db, clientId, request.externalOrderId, idempotencyKey);
  if (existing) return { order: sameRequestOrConflict(existing, requestHash), created: false };

  const skus = [...new Set(request.items.map((i) => i.sku))];
  const products = await db.product.findMany({ where: { sku: { in: skus }, active: true } });
  const bySku = new Map(products.map((p) => [p.sku, p]));
  const unknown = skus.filter((s) => !bySku.has(s));
  if (unknown.length > 0) throw new UnknownSkus(unknown);
  const topups = products.filter((p) => p.kind !== 'card_key').map((p) => p.sku);
  if (topups.length > 0) throw new UnsupportedKind(topups);
  const currencies = new Set(products.map((p) => p.currency));
  if (currencies.size > 1) throw new MixedCurrencies();
  const currency = products[0]!.currency;
  const amount = request.items.reduce((sum, i) => sum + BigInt(bySku.get(i.sku)!.priceMinor) * BigInt(i.quantity), 0n);

  try {
    const order = await db.$transaction(async (tx) => {
      const order = await tx.order.create({
        data: {
          clientId,
          externalOrderId: request.externalOrderId,
          idempotencyKey: idempotencyKey ?? null,
          requestHash,
          buyerId: request.buyer.id,
          buyerIp: request.buyer.ip,
          buyerDeviceId: request.buyer.deviceId ?? null,
          callbackUrl: request.callbackUrl ?? null,
          amountMinor: amount,
          currency,
          workflowId: workflowIds.order(clientId, request.externalOrderId),
          history: { create: { status: 'received' } },
        },
      });
      const units: P.OrderUnitCreateManyInput[] = [];
      for (const [position, item] of request.items.entries()) {
        const product = bySku.get(item.sku)!;
        const row = await tx.orderItem.create({
          data: {
            orderId: order.id,
            position,
            productId: product.id,
            sku: item.sku,
            quantity: item.quantity,
            unitPriceMinor: product.priceMinor,
          },
        });
        for (let n = 0; n < item.quantity; n++)
          units.push({ orderId: order.id, itemId: row.id, productId: product.id });
      }
      await tx.orderUnit.createMany({ data: units });
      return order;
    });
    return { order, created: true };
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
      const winner = await findExisting(db, clientId, request.externalOrderId, idempotencyKey);
      if (winner) return { order: sameRequestOrConflict(winner, requestHash), created: false };
    }
    throw err;
  }
}
