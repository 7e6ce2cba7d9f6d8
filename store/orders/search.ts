// Finding orders the way support is asked about them: by the buyer, by the top-up account, or
// by a code the buyer reads out over the phone. Codes are matched by fingerprint (the HMAC the
// key was stored under), never by decrypting or listing keys.
import type { Prisma as P } from '@prisma/client';
import type { DbTx } from '../../infra/db';
import { fingerprintOf } from '../inventory';
import { keysetPage, type TimeKey } from '../keyset';

export interface OrderSearch {
  buyerId?: string | undefined;
  /** A direct top-up's account (phone number, user id) on any of the order's items. */
  account?: string | undefined;
  externalOrderId?: string | undefined;
  /** An order system's own orders only; absent for staff. */
  clientId?: string | undefined;
  cursor?: TimeKey | undefined;
  limit: number;
}

const summary = {
  items: { orderBy: { position: 'asc' }, select: { sku: true, quantity: true, account: true } },
  client: { select: { name: true } },
} satisfies P.OrderInclude;

export type OrderSummary = P.OrderGetPayload<{ include: typeof summary }>;

// Newest first: support is asked about a buyer's latest orders. The keyset runs the other way
// than store/keyset.ts's `byCreatedAt` (oldest first), over the same (created at, id) key.
const newestFirst = {
  orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] as ({ createdAt: 'desc' } | { id: 'desc' })[],
  after: (key: TimeKey | undefined): P.OrderWhereInput =>
    key ? { OR: [{ createdAt: { lt: key.at } }, { createdAt: key.at, id: { lt: key.id } }] } : {},
  keyOf: (row: { createdAt: Date; id: string }): TimeKey => ({ at: row.createdAt, id: row.id }),
};

/** A page of orders matching every given filter, newest first (orders_buyer_id_created_at_idx serves the buyer). */
export function searchOrders(db: DbTx, search: OrderSearch) {
  const where: P.OrderWhereInput = {
    ...(search.buyerId !== undefined ? { buyerId: search.buyerId } : {}),
    ...(search.account !== undefined ? { items: { some: { account: search.account } } } : {}),
    ...(search.externalOrderId !== undefined ? { externalOrderId: search.externalOrderId } : {}),
    ...(search.clientId !== undefined ? { clientId: search.clientId } : {}),
  };
  return keysetPage(
    search.limit,
    (take) =>
      db.order.findMany({
        where: { AND: [where, newestFirst.after(search.cursor)] },
        orderBy: newestFirst.orderBy,
        take,
        include: summary,
      }),
    newestFirst.keyOf,
  );
}

export interface CodeMatch {
  orderId: string;
  externalOrderId: string;
  clientId: string;
  orderStatus: string;
  sku: string;
  unitId: string;
  unitStatus: string;
  keyStatus: string;
  deliveredAt: Date | null;
}

/**
 * The units that hold the key with this code, in any card-key product (or only `productId`'s).
 * A key's fingerprint is keyed by its product, so the code's fingerprint is computed once per
 * product and the (product, fingerprint) unique index finds the key. `code` must already be
 * in the stored spelling (CardKeySchema normalises it). Keys never sold match nothing.
 */
export async function findUnitsByCode(
  db: DbTx,
  fingerprintSecret: string,
  input: { code: string; productId?: string; clientId?: string },
): Promise<CodeMatch[]> {
  const products = await db.product.findMany({
    where: { kind: 'card_key', ...(input.productId ? { id: input.productId } : {}) },
    select: { id: true },
  });
  if (products.length === 0) return [];
  const productIds = products.map((p) => p.id);
  const fingerprints = productIds.map((id) => fingerprintOf(fingerprintSecret, id, input.code));
  return db.$queryRaw<CodeMatch[]>`
    SELECT o.id::text AS "orderId", o.external_order_id AS "externalOrderId", o.client_id::text AS "clientId",
           o.status::text AS "orderStatus", i.sku, u.id::text AS "unitId", u.status::text AS "unitStatus",
           k.status::text AS "keyStatus", k.delivered_at AS "deliveredAt"
    FROM unnest(${productIds}::uuid[], ${fingerprints}::text[]) AS f(product_id, fingerprint)
    JOIN card_keys k ON k.product_id = f.product_id AND k.fingerprint = f.fingerprint
    JOIN order_units u ON u.id = k.reserved_by_unit_id
    JOIN order_items i ON i.id = u.item_id
    JOIN orders o ON o.id = u.order_id
    WHERE ${input.clientId ?? null}::uuid IS NULL OR o.client_id = ${input.clientId ?? null}::uuid
    ORDER BY o.created_at DESC
    LIMIT 20`;
}
