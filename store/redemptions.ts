// Redemption (核销): a delivered key used at the rights owner. Reported by the rights owner
// (marking the platform's keys by code, matched by fingerprint: the plaintext is never
// decrypted nor stored again) or by the supplier that sold the key (by the unit's reference).
// A redeemed key keeps its time; compensation asks `redemptionOf` before undoing a sale.
import type { Product } from '@prisma/client';
import type { Db, DbTx } from '../infra/db';
import { type Actor, recordAuditInTx } from './audit';
import { fingerprintOf } from './inventory';

/**
 * What marking one key did. `not_found`: no such key of the product, or (for an order
 * system) not one of its own orders' keys. `not_delivered`: the key is in stock or reserved.
 * `void`: the key was withdrawn (refunded or replaced); it is left as it is.
 */
export type RedemptionOutcome = 'redeemed' | 'already_redeemed' | 'not_found' | 'not_delivered' | 'void';
export const REDEMPTION_OUTCOMES: readonly RedemptionOutcome[] = [
  'redeemed',
  'already_redeemed',
  'not_found',
  'not_delivered',
  'void',
];

export interface RedemptionResult {
  outcome: RedemptionOutcome;
  /** Set for `redeemed` and `already_redeemed`. */
  redeemedAt?: Date;
}

/** A matched key before and after the conditional update, as the statements below return it. */
interface MatchedKey {
  id: string;
  fingerprint: string;
  status: string;
  marked: boolean;
  redeemed_at: Date | null;
}

function outcomeOf(key: MatchedKey | undefined): RedemptionResult {
  if (!key) return { outcome: 'not_found' };
  if (key.marked) return { outcome: 'redeemed', redeemedAt: key.redeemed_at! };
  switch (key.status) {
    case 'redeemed':
      return { outcome: 'already_redeemed', redeemedAt: key.redeemed_at! };
    case 'void':
      return { outcome: 'void' };
    default:
      return { outcome: 'not_delivered' };
  }
}

/**
 * Marks the product's delivered keys with these codes redeemed now, in one statement that
 * locks the matched keys (concurrent marks of one key: one says `redeemed`, the others
 * `already_redeemed`). `codes` are normalised as imports normalise them (`CardKeySchema`),
 * so the fingerprint is the one the key was stored under. `ownerClientId` limits the match
 * to keys delivered in that client's orders (null: any key of the product). Results are in
 * input order; a code repeated in the input is `already_redeemed` after its first mention.
 * Audited with counts only.
 */
export async function markRedeemedByCodes(
  db: Db,
  fingerprintSecret: string,
  input: { product: Pick<Product, 'id' | 'sku'>; codes: string[]; ownerClientId: string | null; actor: Actor },
): Promise<RedemptionResult[]> {
  const { product, ownerClientId } = input;
  const fingerprints = input.codes.map((code) => fingerprintOf(fingerprintSecret, product.id, code));
  return db.$transaction(async (tx) => {
    const matched = await tx.$queryRaw<MatchedKey[]>`
      WITH wanted AS (SELECT DISTINCT unnest(${fingerprints}::text[]) AS fingerprint),
      found AS (
        SELECT k.id, k.fingerprint, k.status::text AS status, k.redeemed_at
          FROM card_keys k JOIN wanted w ON w.fingerprint = k.fingerprint
         WHERE k.product_id = ${product.id}::uuid
           AND (${ownerClientId}::uuid IS NULL OR EXISTS (
                 SELECT 1 FROM order_units u JOIN orders o ON o.id = u.order_id
                  WHERE u.card_key_id = k.id AND o.client_id = ${ownerClientId}::uuid))
         ORDER BY k.id -- one lock order: two batches sharing keys cannot deadlock
           FOR UPDATE OF k
      ),
      marked AS (
        UPDATE card_keys k SET status = 'redeemed', redeemed_at = now()
          FROM found f WHERE k.id = f.id AND f.status = 'delivered'
        RETURNING k.id, k.redeemed_at
      )
      SELECT f.id::text, f.fingerprint, f.status, m.id IS NOT NULL AS marked,
             COALESCE(m.redeemed_at, f.redeemed_at) AS redeemed_at
        FROM found f LEFT JOIN marked m ON m.id = f.id`;
    const byFingerprint = new Map(matched.map((k) => [k.fingerprint, k] as const));
    const seen = new Map<string, RedemptionResult>();
    const results = fingerprints.map((fingerprint): RedemptionResult => {
      const first = seen.get(fingerprint);
      if (first) return first.outcome === 'redeemed' ? { ...first, outcome: 'already_redeemed' } : first;
      const result = outcomeOf(byFingerprint.get(fingerprint));
      seen.set(fingerprint, result);
      return result;
    });
    await recordAuditInTx(tx, {
      actorClientId: input.actor.clientId,
      actor: input.actor.name,
      action: 'card_keys.redeemed',
      subjectType: 'product',
      subjectId: product.id,
      details: { sku: product.sku, submitted: results.length, ...countOutcomes(results) },
    });
    return results;
  });
}

export function countOutcomes(results: RedemptionResult[]): Record<RedemptionOutcome, number> {
  const counts = Object.fromEntries(REDEMPTION_OUTCOMES.map((o) => [o, 0])) as Record<RedemptionOutcome, number>;
  for (const r of results) counts[r.outcome] += 1;
  return counts;
}

/**
 * A supplier reports that the key it sold under `unitId` (the protocol's reference) was
 * redeemed at `reportedAt`. Only a key this supplier sold for that unit matches (null
 * otherwise). The time is kept within [delivered, now]: a supplier's clock cannot make a key
 * redeemed before the platform delivered it, or in the future. Audited per key.
 */
export async function markRedeemedBySupplier(
  db: Db,
  input: { supplier: { id: string; name: string }; unitId: string; reportedAt: Date },
): Promise<(RedemptionResult & { cardKeyId: string }) | null> {
  const { supplier, unitId, reportedAt } = input;
  return db.$transaction(async (tx) => {
    const [key] = await tx.$queryRaw<MatchedKey[]>`
      WITH found AS (
        SELECT k.id, k.fingerprint, k.status::text AS status, k.redeemed_at, k.delivered_at
          FROM order_units u JOIN card_keys k ON k.id = u.card_key_id
         WHERE u.id = ${unitId}::uuid AND u.supplier_id = ${supplier.id}::uuid
           AND k.source_supplier_id = ${supplier.id}::uuid
           FOR UPDATE OF k
      ),
      marked AS (
        UPDATE card_keys k SET status = 'redeemed',
               redeemed_at = LEAST(GREATEST(${reportedAt}::timestamptz, f.delivered_at), now())
          FROM found f WHERE k.id = f.id AND f.status = 'delivered'
        RETURNING k.id, k.redeemed_at
      )
      SELECT f.id::text, f.fingerprint, f.status, m.id IS NOT NULL AS marked,
             COALESCE(m.redeemed_at, f.redeemed_at) AS redeemed_at
        FROM found f LEFT JOIN marked m ON m.id = f.id`;
    if (!key) return null;
    const result = outcomeOf(key);
    if (result.outcome === 'redeemed') {
      await recordAuditInTx(tx, {
        actor: `supplier:${supplier.name}`,
        action: 'card_key.redeemed',
        subjectType: 'card_key',
        subjectId: key.id,
        details: { unitId, reportedAt: reportedAt.toISOString() },
      });
    }
    return { ...result, cardKeyId: key.id };
  });
}

export interface Redemption {
  cardKeyId: string;
  redeemedAt: Date;
}

/**
 * Whether (and when) the key was redeemed at the rights owner: null when it never was. A key
 * voided after its redemption (an admin override) still answers with its time. Compensation
 * refuses a redeemed key without an admin override; run it in the transaction that voids the
 * key, which should itself void only a key still `delivered`.
 */
export async function redemptionOf(db: DbTx, cardKeyId: string): Promise<Redemption | null> {
  const key = await db.cardKey.findUnique({ where: { id: cardKeyId }, select: { redeemedAt: true } });
  return key?.redeemedAt ? { cardKeyId, redeemedAt: key.redeemedAt } : null;
}

export async function isRedeemed(db: DbTx, cardKeyId: string): Promise<boolean> {
  return (await redemptionOf(db, cardKeyId)) !== null;
}

/** The redemption of the key a unit delivered (null: not redeemed, or the unit holds no key). */
export async function redemptionOfUnit(db: DbTx, unitId: string): Promise<Redemption | null> {
  const unit = await db.orderUnit.findUnique({
    where: { id: unitId },
    select: { cardKeyId: true },
  });
  return unit?.cardKeyId ? redemptionOf(db, unit.cardKeyId) : null;
}
