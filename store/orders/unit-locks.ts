// Every action on a delivered unit — a refund, a reissue's delivery, a refund by compensation,
// the confirmation of a buyer's report — checks and changes the unit's state in one
// transaction that first takes these locks, always in this order: the order row, then the
// units (by id), then their keys (by id). Whichever action locks first decides; the others
// wait, then see the unit no longer delivered and stand down. A redemption locks only the key
// (store/redemptions.ts), so it can wait on an action here but never the other way round: no
// cycle, no deadlock. Names ending in InTx run inside the caller's transaction.
import type { DbTx } from '../../infra/db';

export interface LockedUnit {
  id: string;
  status: string;
  cardKeyId: string | null;
  /** The key's status (null for a top-up, which has no key). */
  keyStatus: string | null;
  supplierRef: string | null;
  priceMinor: bigint;
}

export interface LockedOrder {
  status: string;
  clientId: string;
  currency: string;
  units: LockedUnit[];
}

/**
 * Locks the order and then its units (`unitIds`, or all of them when null) and their keys, and
 * returns them as they stand under the locks. Null when the order does not exist.
 */
export async function lockUnitsInTx(
  tx: DbTx,
  orderId: string,
  unitIds: readonly string[] | null,
): Promise<LockedOrder | null> {
  const [order] = await tx.$queryRaw<{ status: string; client_id: string; currency: string }[]>`
    SELECT status::text, client_id::text, currency FROM orders WHERE id = ${orderId}::uuid FOR UPDATE`;
  if (!order) return null;
  const ids = unitIds === null ? null : [...unitIds];
  const units = await tx.$queryRaw<
    { id: string; status: string; card_key_id: string | null; supplier_ref: string | null; price: bigint }[]
  >`
    SELECT u.id::text, u.status::text, u.card_key_id::text, u.supplier_ref, i.unit_price_minor::bigint AS price
      FROM order_units u JOIN order_items i ON i.id = u.item_id
     WHERE u.order_id = ${orderId}::uuid AND (${ids}::uuid[] IS NULL OR u.id = ANY(${ids}::uuid[]))
     ORDER BY u.id
       FOR UPDATE OF u`;
  const keyIds = units.flatMap((u) => (u.card_key_id ? [u.card_key_id] : []));
  const keys =
    keyIds.length === 0
      ? []
      : await tx.$queryRaw<{ id: string; status: string }[]>`
          SELECT id::text, status::text FROM card_keys WHERE id = ANY(${keyIds}::uuid[]) ORDER BY id FOR UPDATE`;
  const keyStatus = new Map(keys.map((k) => [k.id, k.status]));
  return {
    status: order.status,
    clientId: order.client_id,
    currency: order.currency,
    units: units.map((u) => ({
      id: u.id,
      status: u.status,
      cardKeyId: u.card_key_id,
      keyStatus: u.card_key_id ? (keyStatus.get(u.card_key_id) ?? null) : null,
      supplierRef: u.supplier_ref,
      priceMinor: u.price,
    })),
  };
}
