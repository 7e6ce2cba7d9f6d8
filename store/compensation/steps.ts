// The compensation's database steps. Each is one transaction acting only from the state it
// expects, so a retried or replayed step finds its own earlier effect: the bad key is voided
// once, one replacement unit is made per compensation, and the outcome is recorded once.
import type { Compensation } from '@prisma/client';
import { type Db, type DbTx, Prisma } from '../../infra/db';
import { recordAuditInTx } from '../audit';
import { newClaimToken } from '../claims';
import { releaseUnitsInTx } from '../inventory';
import { lockUnitsInTx } from '../orders/unit-locks';
import { checkBadSourceInTx, type QuarantineLimits } from '../quarantine';

export interface CompensationCase {
  id: string;
  orderId: string;
  unitId: string;
  action: 'reissue' | 'refund';
  status: Compensation['status'];
  outcome: string | null;
  productId: string;
  kind: 'card_key' | 'direct_topup';
  priceMinor: number;
  /** Where the bad unit came from: its key's import batch, or the supplier that sold it. */
  failedBatchId: string | null;
  failedSupplierId: string | null;
  newUnitId: string | null;
}

export async function compensationCase(db: DbTx, compensationId: string): Promise<CompensationCase | null> {
  const [row] = await db.$queryRaw<
    {
      id: string;
      order_id: string;
      unit_id: string;
      action: 'reissue' | 'refund';
      status: Compensation['status'];
      outcome: string | null;
      product_id: string;
      kind: 'card_key' | 'direct_topup';
      price: number;
      batch_id: string | null;
      supplier_id: string | null;
      new_unit_id: string | null;
    }[]
  >`
    SELECT c.id::text, c.order_id::text, c.unit_id::text, c.action::text AS action, c.status::text AS status, c.outcome,
           u.product_id::text, p.kind::text AS kind, i.unit_price_minor AS price, k.batch_id::text,
           COALESCE(u.supplier_id, k.source_supplier_id)::text AS supplier_id, c.new_unit_id::text
      FROM compensations c
      JOIN order_units u ON u.id = c.unit_id
      JOIN order_items i ON i.id = u.item_id
      JOIN products p ON p.id = u.product_id
      LEFT JOIN card_keys k ON k.id = u.card_key_id
     WHERE c.id = ${compensationId}::uuid`;
  if (!row) return null;
  return {
    id: row.id,
    orderId: row.order_id,
    unitId: row.unit_id,
    action: row.action,
    status: row.status,
    outcome: row.outcome,
    productId: row.product_id,
    kind: row.kind,
    priceMinor: row.price,
    failedBatchId: row.batch_id,
    failedSupplierId: row.supplier_id,
    newUnitId: row.new_unit_id,
  };
}

/**
 * The bad key becomes `void` with the compensation's reason (a top-up has no key), and its
 * source is checked against the bad-batch and bad-route thresholds, in one transaction.
 */
export async function voidBadKey(
  db: Db,
  compensationId: string,
  limits: QuarantineLimits,
): Promise<{ voided: boolean; redeemed: boolean }> {
  return db.$transaction(async (tx) => {
    // A key redeemed meanwhile (after the request was checked) is voided only under the override.
    const [key] = await tx.$queryRaw<{ id: string }[]>`
      UPDATE card_keys k SET status = 'void', void_reason = c.reason, voided_at = now()
        FROM compensations c JOIN order_units u ON u.id = c.unit_id
       WHERE c.id = ${compensationId}::uuid AND k.id = u.card_key_id
         AND (k.status = 'delivered' OR (k.status = 'redeemed' AND c.override))
      RETURNING k.id::text`;
    if (key) {
      await checkBadSourceInTx(tx, { cardKeyId: key.id, limits });
      return { voided: true, redeemed: false };
    }
    const [left] = await tx.$queryRaw<{ status: string }[]>`
      SELECT k.status::text FROM compensations c JOIN order_units u ON u.id = c.unit_id
        JOIN card_keys k ON k.id = u.card_key_id WHERE c.id = ${compensationId}::uuid`;
    return { voided: false, redeemed: left?.status === 'redeemed' };
  });
}

/**
 * Makes the replacement unit (once per compensation) and tries to fill it from the
 * platform's own stock, never from the failed key's batch. Returns the unit and whether it
 * holds a key; a unit that cannot be filled here goes to the supplier routes. When the bad
 * unit is no longer delivered (refunded meanwhile) there is nothing to replace: a
 * replacement made before goes back and the unit id is null.
 */
export async function prepareReplacement(
  db: Db,
  compensationId: string,
): Promise<{ newUnitId: string | null; reserved: boolean }> {
  return db.$transaction(async (tx) => {
    const c = await lockedCompensationInTx(tx, compensationId);
    if (c.unit.status !== 'delivered') {
      if (c.newUnitId) await releaseUnitsInTx(tx, Prisma.sql`id = ${c.newUnitId}::uuid`);
      return { newUnitId: null, reserved: false };
    }
    let newUnitId = c.newUnitId;
    if (!newUnitId) {
      const [unit] = await tx.$queryRaw<{ id: string }[]>`
        INSERT INTO order_units (id, order_id, item_id, product_id, status, replaces_unit_id)
        SELECT gen_random_uuid(), order_id, item_id, product_id, 'pending', id FROM order_units
         WHERE id = ${c.unitId}::uuid
        RETURNING id::text`;
      newUnitId = unit!.id;
      await tx.compensation.update({ where: { id: compensationId }, data: { newUnitId } });
    }
    const [state] = await tx.$queryRaw<{ status: string; kind: string }[]>`
      SELECT u.status::text, p.kind::text FROM order_units u JOIN products p ON p.id = u.product_id
       WHERE u.id = ${newUnitId}::uuid`;
    if (state!.status !== 'pending') return { newUnitId, reserved: state!.status === 'reserved' };
    if (state!.kind !== 'card_key') return { newUnitId, reserved: false };
    const reserved = await tx.$executeRaw`
      WITH failed AS (
        SELECT k.batch_id FROM order_units u JOIN card_keys k ON k.id = u.card_key_id WHERE u.id = ${c.unitId}::uuid
      ), k AS (
        SELECT id FROM card_keys
         WHERE product_id = (SELECT product_id FROM order_units WHERE id = ${newUnitId}::uuid)
           AND status = 'available' AND batch_id IS DISTINCT FROM (SELECT batch_id FROM failed)
         ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED
      ), u AS (
        UPDATE order_units SET status = 'reserved', source = 'inventory', card_key_id = (SELECT id FROM k)
         WHERE id = ${newUnitId}::uuid AND status = 'pending' AND EXISTS (SELECT 1 FROM k)
        RETURNING id
      )
      UPDATE card_keys SET status = 'reserved', reserved_by_unit_id = (SELECT id FROM u), reserved_at = now()
       WHERE id = (SELECT id FROM k) AND EXISTS (SELECT 1 FROM u)`;
    return { newUnitId, reserved: reserved > 0 };
  });
}

/** The compensation with its bad unit as it stands under the unit-action locks (store/orders/unit-locks.ts). */
async function lockedCompensationInTx(tx: DbTx, compensationId: string) {
  const c = await tx.compensation.findUnique({ where: { id: compensationId } });
  if (!c) throw new Error(`compensation ${compensationId} not found`);
  const locked = await lockUnitsInTx(tx, c.orderId, [c.unitId]);
  return { ...c, unit: locked!.units[0]! };
}

/**
 * The replacement is delivered in the bad unit's place: the new unit and its key delivered,
 * the old unit `replaced`, the compensation completed `reissued` with a one-time claim link
 * of its own (only its hash stored), in one transaction that holds the bad unit's lock.
 * Returns false when the replacement holds nothing to deliver, or when the bad unit is no
 * longer delivered (refunded meanwhile): the replacement then goes back, and no key is ever
 * handed out for a unit whose money was returned.
 */
export async function deliverReplacement(db: Db, claimSecret: string, compensationId: string): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const c = await lockedCompensationInTx(tx, compensationId);
    if (c.status === 'completed') return c.outcome === 'reissued';
    if (c.unit.status !== 'delivered') {
      if (c.newUnitId) await releaseUnitsInTx(tx, Prisma.sql`id = ${c.newUnitId}::uuid`);
      return false;
    }
    const [moved] = await tx.$queryRaw<{ card_key_id: string | null }[]>`
      UPDATE order_units SET status = 'delivered' WHERE id = ${c.newUnitId}::uuid AND status = 'reserved'
      RETURNING card_key_id::text`;
    if (!moved) return false;
    if (moved.card_key_id) {
      await tx.$executeRaw`UPDATE card_keys SET status = 'delivered', delivered_at = now()
                            WHERE id = ${moved.card_key_id}::uuid AND status = 'reserved'`;
    }
    await tx.$executeRaw`UPDATE order_units SET status = 'replaced', reason = ${c.reason} WHERE id = ${c.unitId}::uuid`;
    const { nonce, tokenHash } = newClaimToken(claimSecret, compensationId);
    await tx.compensation.update({
      where: { id: compensationId },
      data: {
        status: 'completed',
        outcome: 'reissued',
        completedAt: new Date(),
        claimNonce: nonce,
        claimTokenHash: tokenHash,
      },
    });
    await auditOutcomeInTx(tx, c, 'reissued');
    return true;
  });
}

/** A replacement nobody could fill goes back: its unit released, a key it held back on the shelf. */
export async function abandonReplacement(db: Db, compensationId: string): Promise<void> {
  await db.$transaction(async (tx) => {
    const c = await tx.compensation.findUniqueOrThrow({ where: { id: compensationId } });
    if (!c.newUnitId) return;
    await releaseUnitsInTx(tx, Prisma.sql`id = ${c.newUnitId}::uuid`);
  });
}

/** Records the outcome (refunded, or rejected with why) once. */
export async function completeCompensation(
  db: Db,
  compensationId: string,
  outcome: 'refunded' | 'rejected',
  detail?: string,
): Promise<void> {
  await db.$transaction(async (tx) => {
    const c = await tx.compensation.findUniqueOrThrow({ where: { id: compensationId } });
    if (c.status === 'completed') return;
    await tx.compensation.update({
      where: { id: compensationId },
      data: { status: 'completed', outcome, detail: detail ?? null, completedAt: new Date() },
    });
    await auditOutcomeInTx(tx, c, outcome, detail);
  });
}

function auditOutcomeInTx(tx: DbTx, c: Compensation, outcome: string, detail?: string) {
  return recordAuditInTx(tx, {
    actor: 'system:compensation',
    action: `compensation.${outcome}`,
    subjectType: 'order_unit',
    subjectId: c.unitId,
    reason: c.reason,
    details: { compensationId: c.id, orderId: c.orderId, newUnitId: c.newUnitId, ...(detail ? { detail } : {}) },
  });
}
