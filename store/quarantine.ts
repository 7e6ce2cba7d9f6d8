// Bad sources stop being sold. A key voided with a reason after it was delivered is a bad
// key; when enough of one import batch's keys are bad the batch is quarantined (its available
// keys become `quarantined`, which reservations never take), and when enough of one
// supplier's keys for a product go bad within a window, that route is paused. An admin then
// releases or voids the batch, or re-enables the route (PUT …/routes/:supplier).
import type { CardKeyStatus } from '@prisma/client';
import type { Config } from '../infra/config';
import { type Db, type DbTx, Prisma } from '../infra/db';
import { type Actor, recordAuditInTx } from './audit';
import { byCreatedAt, keysetPage, type TimeKey } from './keyset';

export const QUARANTINE_ACTOR: Actor = { clientId: null, name: 'system:quarantine' };

export type QuarantineLimits = Pick<
  Config,
  'QUARANTINE_BATCH_VOIDS' | 'QUARANTINE_SUPPLIER_VOIDS' | 'QUARANTINE_SUPPLIER_WINDOW_MS'
>;

/**
 * A bad key: voided with a reason after it reached a buyer. Keys voided by refunds (no
 * reason) or written off with a whole batch (never delivered) are not evidence against
 * their source.
 */
const BAD_KEY = Prisma.sql`c.status = 'void' AND c.void_reason IS NOT NULL AND c.delivered_at IS NOT NULL`;

// An admin's decision on a batch restarts its count: released keys were vouched for then.
const BATCH_DECISIONS = ['inventory.batch_released', 'inventory.batch_voided'];

export interface BadSourceOutcome {
  /** The batch this call quarantined. */
  batchQuarantined?: string;
  /** The supplier route this call paused. */
  routePaused?: string;
}

/**
 * Called in the transaction that voided a key (status `void`, `void_reason` set): quarantines
 * its batch, or pauses its supplier's route for the product, when the bad keys reach the
 * threshold. Returns what this call changed; a second call changes nothing. The batch or
 * route row is locked before counting, so concurrent voids are counted one after the other
 * (each count is a fresh snapshot under READ COMMITTED) and none slips past the threshold.
 */
export async function checkBadSourceInTx(
  tx: DbTx,
  input: { cardKeyId: string; limits: QuarantineLimits },
): Promise<BadSourceOutcome> {
  const [key] = await tx.$queryRaw<
    { product_id: string; batch_id: string | null; supplier_id: string | null; voided_at: Date | null }[]
  >`
    SELECT c.product_id::text, c.batch_id::text, c.source_supplier_id::text AS supplier_id, c.voided_at
      FROM card_keys c WHERE c.id = ${input.cardKeyId}::uuid AND ${BAD_KEY}`;
  if (!key) return {};
  // The voiding transaction may not have stamped the time; the supplier window needs it.
  if (!key.voided_at) await tx.$executeRaw`UPDATE card_keys SET voided_at = now() WHERE id = ${input.cardKeyId}::uuid`;
  const outcome: BadSourceOutcome = {};
  if (key.batch_id) {
    const batchId = await quarantineBatchIfBadInTx(tx, {
      batchId: key.batch_id,
      productId: key.product_id,
      cardKeyId: input.cardKeyId,
      threshold: input.limits.QUARANTINE_BATCH_VOIDS,
    });
    if (batchId) outcome.batchQuarantined = batchId;
  }
  if (key.supplier_id) {
    const routeId = await pauseRouteIfBadInTx(tx, {
      supplierId: key.supplier_id,
      productId: key.product_id,
      cardKeyId: input.cardKeyId,
      threshold: input.limits.QUARANTINE_SUPPLIER_VOIDS,
      windowMs: input.limits.QUARANTINE_SUPPLIER_WINDOW_MS,
    });
    if (routeId) outcome.routePaused = routeId;
  }
  return outcome;
}

async function quarantineBatchIfBadInTx(
  tx: DbTx,
  input: { batchId: string; productId: string; cardKeyId: string; threshold: number },
): Promise<string | undefined> {
  // NO KEY UPDATE, not UPDATE: a transaction that updated one of the batch's keys twice holds
  // a KEY SHARE lock on the batch (the foreign key check), which FOR UPDATE would deadlock on.
  const [batch] = await tx.$queryRaw<{ quarantined_at: Date | null }[]>`
    SELECT quarantined_at FROM key_batches WHERE id = ${input.batchId}::uuid FOR NO KEY UPDATE`;
  if (!batch || batch.quarantined_at) return undefined;
  // product_id first: card_keys is indexed by (product, status), not by batch.
  const [counted] = await tx.$queryRaw<{ bad: number }[]>`
    SELECT count(*)::int AS bad FROM card_keys c
     WHERE c.product_id = ${input.productId}::uuid AND c.batch_id = ${input.batchId}::uuid AND ${BAD_KEY}
       AND COALESCE(c.voided_at, now()) > COALESCE(
         (SELECT max(a.at) FROM audit_log a
           WHERE a.subject_type = 'key_batch' AND a.subject_id = ${input.batchId}
             AND a.action = ANY(${BATCH_DECISIONS}::text[])),
         '-infinity')`;
  const bad = counted!.bad;
  if (bad < input.threshold) return undefined;
  const reason = `${bad} of its keys turned out bad (threshold ${input.threshold})`;
  await tx.$executeRaw`
    UPDATE key_batches SET quarantined_at = now(), quarantine_reason = ${reason} WHERE id = ${input.batchId}::uuid`;
  const moved = await tx.$executeRaw`
    UPDATE card_keys SET status = 'quarantined'
     WHERE product_id = ${input.productId}::uuid AND batch_id = ${input.batchId}::uuid AND status = 'available'`;
  await recordAuditInTx(tx, {
    actorClientId: null,
    actor: QUARANTINE_ACTOR.name,
    action: 'inventory.batch_quarantined',
    subjectType: 'key_batch',
    subjectId: input.batchId,
    reason,
    details: { cardKeyId: input.cardKeyId, badKeys: bad, threshold: input.threshold, keysQuarantined: moved },
  });
  return input.batchId;
}

async function pauseRouteIfBadInTx(
  tx: DbTx,
  input: { supplierId: string; productId: string; cardKeyId: string; threshold: number; windowMs: number },
): Promise<string | undefined> {
  const [route] = await tx.$queryRaw<{ id: string; enabled: boolean }[]>`
    SELECT id::text, enabled FROM supplier_routes
     WHERE product_id = ${input.productId}::uuid AND supplier_id = ${input.supplierId}::uuid FOR NO KEY UPDATE`;
  // A route an admin disabled (or one already paused) is left as it is.
  if (!route?.enabled) return undefined;
  // Within the window, and after the last time an admin enabled the route (re-enabling it
  // after a pause vouches for the keys seen so far).
  const [counted] = await tx.$queryRaw<{ bad: number }[]>`
    SELECT count(*)::int AS bad FROM card_keys c
     WHERE c.product_id = ${input.productId}::uuid AND c.source_supplier_id = ${input.supplierId}::uuid AND ${BAD_KEY}
       AND COALESCE(c.voided_at, now()) > GREATEST(
         now() - make_interval(secs => ${input.windowMs}::float8 / 1000),
         (SELECT max(a.at) FROM audit_log a
           WHERE a.subject_type = 'product' AND a.subject_id = ${input.productId} AND a.action = 'route.put'
             AND a.details->>'supplierId' = ${input.supplierId} AND a.details->>'enabled' = 'true'))`;
  const bad = counted!.bad;
  if (bad < input.threshold) return undefined;
  const reason = `${bad} of its keys turned out bad within ${input.windowMs / 1000} s (threshold ${input.threshold})`;
  await tx.$executeRaw`
    UPDATE supplier_routes SET enabled = false, paused_reason = ${reason} WHERE id = ${route.id}::uuid`;
  await recordAuditInTx(tx, {
    actorClientId: null,
    actor: QUARANTINE_ACTOR.name,
    action: 'route.paused',
    subjectType: 'product',
    subjectId: input.productId,
    reason,
    details: {
      routeId: route.id,
      supplierId: input.supplierId,
      cardKeyId: input.cardKeyId,
      badKeys: bad,
      threshold: input.threshold,
      windowMs: input.windowMs,
    },
  });
  return route.id;
}

export type BatchDecision =
  { kind: 'not_found' } | { kind: 'not_quarantined' } | { kind: 'done'; batchId: string; keys: number };

/** Locks the batch and runs `decide` only when it is quarantined; the decision ends the quarantine. */
async function decideBatch(
  db: Db,
  batchId: string,
  decide: (tx: DbTx, productId: string) => Promise<{ keys: number; action: string; reason?: string }>,
  actor: Actor,
): Promise<BatchDecision> {
  return db.$transaction(async (tx) => {
    const [batch] = await tx.$queryRaw<
      { product_id: string; quarantined_at: Date | null; quarantine_reason: string | null }[]
    >`
      SELECT product_id::text, quarantined_at, quarantine_reason FROM key_batches WHERE id = ${batchId}::uuid
         FOR NO KEY UPDATE`;
    if (!batch) return { kind: 'not_found' } as const;
    if (!batch.quarantined_at) return { kind: 'not_quarantined' } as const;
    const { keys, action, reason } = await decide(tx, batch.product_id);
    await tx.$executeRaw`
      UPDATE key_batches SET quarantined_at = NULL, quarantine_reason = NULL WHERE id = ${batchId}::uuid`;
    await recordAuditInTx(tx, {
      actorClientId: actor.clientId,
      actor: actor.name,
      action,
      subjectType: 'key_batch',
      subjectId: batchId,
      ...(reason ? { reason } : {}),
      details: {
        keys,
        quarantinedAt: batch.quarantined_at.toISOString(),
        quarantineReason: batch.quarantine_reason,
      },
    });
    return { kind: 'done', batchId, keys } as const;
  });
}

/** Puts a quarantined batch's keys back on sale (quarantined → available). */
export function releaseBatch(db: Db, batchId: string, actor: Actor, reason?: string): Promise<BatchDecision> {
  return decideBatch(
    db,
    batchId,
    async (tx, productId) => {
      const keys = await tx.$executeRaw`
        UPDATE card_keys SET status = 'available'
         WHERE product_id = ${productId}::uuid AND batch_id = ${batchId}::uuid AND status = 'quarantined'`;
      return { keys, action: 'inventory.batch_released', ...(reason ? { reason } : {}) };
    },
    actor,
  );
}

/**
 * Writes a quarantined batch off: its quarantined and available keys become void with the
 * reason (available too: a key released from an order after the quarantine is back on the
 * shelf). Reserved and delivered keys are left to their orders.
 */
export function voidBatch(db: Db, batchId: string, actor: Actor, reason: string): Promise<BatchDecision> {
  return decideBatch(
    db,
    batchId,
    async (tx, productId) => {
      const keys = await tx.$executeRaw`
        UPDATE card_keys SET status = 'void', void_reason = ${reason}, voided_at = now()
         WHERE product_id = ${productId}::uuid AND batch_id = ${batchId}::uuid
           AND status IN ('quarantined', 'available')`;
      return { keys, action: 'inventory.batch_voided', reason };
    },
    actor,
  );
}

export type BatchRow = Awaited<ReturnType<typeof batchPage>>['rows'][number];

/** Import batches, oldest first, with their keys counted by status and their bad keys. */
export async function batchPage(db: DbTx, query: { quarantined?: boolean; cursor?: TimeKey; limit: number }) {
  const { rows: batches, next } = await keysetPage(
    query.limit,
    (take) =>
      db.keyBatch.findMany({
        where: {
          ...(query.quarantined === undefined ? {} : { quarantinedAt: query.quarantined ? { not: null } : null }),
          ...byCreatedAt.after(query.cursor),
        },
        orderBy: byCreatedAt.orderBy,
        take,
        include: { product: { select: { sku: true } } },
      }),
    byCreatedAt.keyOf,
  );
  const ids = batches.map((b) => b.id);
  const productIds = [...new Set(batches.map((b) => b.productId))];
  // product_id too: card_keys is indexed by (product, status), not by batch.
  const counts =
    ids.length === 0
      ? []
      : await db.$queryRaw<{ batch_id: string; status: CardKeyStatus; n: number; bad: number }[]>`
          SELECT c.batch_id::text, c.status, count(*)::int AS n, (count(*) FILTER (WHERE ${BAD_KEY}))::int AS bad
            FROM card_keys c
           WHERE c.product_id = ANY(${productIds}::uuid[]) AND c.batch_id = ANY(${ids}::uuid[])
           GROUP BY c.batch_id, c.status`;
  return {
    rows: batches.map((b) => {
      const mine = counts.filter((c) => c.batch_id === b.id);
      return {
        ...b,
        sku: b.product.sku,
        keys: Object.fromEntries(mine.map((c) => [c.status, c.n])) as Partial<Record<CardKeyStatus, number>>,
        badKeys: mine.reduce((sum, c) => sum + c.bad, 0),
      };
    }),
    ...(next ? { next } : {}),
  };
}

/** The alert figures, read from the database (every API process reports the same values). */
export async function badSourceFigures(db: DbTx) {
  // Per product, so each count is a range of the (product, status) index, not a scan.
  const [row] = await db.$queryRaw<
    { quarantined_batches: number; paused_routes: number; bad_inventory: number; bad_supplier: number }[]
  >`
    SELECT
      (SELECT count(*)::int FROM key_batches WHERE quarantined_at IS NOT NULL) AS quarantined_batches,
      (SELECT count(*)::int FROM supplier_routes WHERE NOT enabled AND paused_reason IS NOT NULL) AS paused_routes,
      COALESCE(sum(b.inventory), 0)::int AS bad_inventory,
      COALESCE(sum(b.supplier), 0)::int AS bad_supplier
    FROM products p CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE c.batch_id IS NOT NULL) AS inventory,
             count(*) FILTER (WHERE c.batch_id IS NULL) AS supplier
        FROM card_keys c WHERE c.product_id = p.id AND ${BAD_KEY}) b`;
  return {
    quarantinedBatches: row!.quarantined_batches,
    pausedRoutes: row!.paused_routes,
    badKeys: { inventory: row!.bad_inventory, supplier: row!.bad_supplier },
  };
}
