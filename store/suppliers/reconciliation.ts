// Supplier reconciliation's records: the units a supplier's sales name, the findings (one row
// per supplier, kind and sale, so a second round records nothing new), what was done about
// each, and the keys whose redemption is asked of the supplier that sold them.
import type { FindingKind, SaleFacts, UnitFacts } from '../../domain/supplier-reconciliation';
import type { Db } from '../../infra/db';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The units the references name (references that are not a unit id name none), in one read. */
export async function unitsByReference(db: Db, references: string[]): Promise<Map<string, UnitFacts>> {
  const ids = [...new Set(references.filter((r) => UUID.test(r)).map((r) => r.toLowerCase()))];
  if (ids.length === 0) return new Map();
  const rows = await db.$queryRaw<UnitFacts[]>`
    SELECT u.id::text AS "unitId", u.order_id::text AS "orderId", u.status::text AS status,
           u.supplier_id::text AS "supplierId", u.supplier_ref AS "supplierRef", u.cost_minor AS "costMinor",
           p.kind::text AS kind, p.currency
      FROM order_units u JOIN products p ON p.id = u.product_id
     WHERE u.id = ANY(${ids}::uuid[])`;
  return new Map(rows.map((u) => [u.unitId, u]));
}

/** The unit a reference names, whatever its case. */
export const unitOf = (units: Map<string, UnitFacts>, reference: string) =>
  UUID.test(reference) ? units.get(reference.toLowerCase()) : undefined;

export interface NewFinding {
  kind: FindingKind;
  sale: SaleFacts;
  unit: UnitFacts | undefined;
  detail: string;
}

/** Records findings not recorded before; returns how many were new. */
export async function recordFindings(db: Db, supplierId: string, findings: NewFinding[]): Promise<number> {
  if (findings.length === 0) return 0;
  const column = <T>(pick: (f: NewFinding) => T) => findings.map(pick);
  return db.$executeRaw`
    INSERT INTO supplier_sale_findings
      (id, supplier_id, kind, transaction_id, reference, unit_id, order_id, sale_status, sale_cost_minor,
       recorded_cost_minor, currency, sold_at, detail)
    SELECT gen_random_uuid(), ${supplierId}::uuid, f.kind::supplier_sale_finding_kind, f.transaction_id, f.reference,
           f.unit_id, f.order_id, f.sale_status, f.sale_cost_minor, f.recorded_cost_minor, f.currency, f.sold_at, f.detail
      FROM unnest(${column((f) => f.kind)}::text[], ${column((f) => f.sale.transactionId)}::text[],
                  ${column((f) => f.sale.reference)}::text[], ${column((f) => f.unit?.unitId ?? null)}::uuid[],
                  ${column((f) => f.unit?.orderId ?? null)}::uuid[], ${column((f) => f.sale.state)}::text[],
                  ${column((f) => f.sale.costMinor ?? null)}::int[], ${column((f) => f.unit?.costMinor ?? null)}::int[],
                  ${column((f) => f.sale.currency ?? null)}::text[], ${column((f) => f.sale.soldAt?.toISOString() ?? null)}::timestamptz[],
                  ${column((f) => f.detail)}::text[])
           AS f(kind, transaction_id, reference, unit_id, order_id, sale_status, sale_cost_minor, recorded_cost_minor,
                currency, sold_at, detail)
    ON CONFLICT (supplier_id, kind, transaction_id, reference) DO NOTHING`;
}

/**
 * Resolves the open findings of these sales that no longer hold: the supplier stopped billing
 * the sale (refunded after a dispute, cancelled), or its cost now matches. `current` is each
 * sale with the kinds it still shows.
 */
export async function resolveSettled(
  db: Db,
  supplierId: string,
  current: { sale: SaleFacts; kinds: FindingKind[] }[],
): Promise<number> {
  if (current.length === 0) return 0;
  return db.$executeRaw`
    UPDATE supplier_sale_findings f SET resolved_at = now()
      FROM unnest(${current.map((c) => c.sale.transactionId)}::text[], ${current.map((c) => c.sale.reference)}::text[],
                  ${current.map((c) => c.kinds.join(','))}::text[]) AS s(transaction_id, reference, kinds)
     WHERE f.supplier_id = ${supplierId}::uuid AND f.transaction_id = s.transaction_id AND f.reference = s.reference
       AND f.resolved_at IS NULL AND NOT (f.kind::text = ANY(string_to_array(s.kinds, ',')))`;
}

export interface OpenOrphan {
  id: string;
  transactionId: string;
  reference: string;
  action: string | null;
}

/** The orphans among these sales still waiting for a remedy: never tried, or tried and failed. */
export async function orphansToRemedy(db: Db, supplierId: string, sales: SaleFacts[]): Promise<OpenOrphan[]> {
  if (sales.length === 0) return [];
  return db.$queryRaw<OpenOrphan[]>`
    SELECT f.id::text, f.transaction_id AS "transactionId", f.reference, f.action
      FROM supplier_sale_findings f
      JOIN unnest(${sales.map((s) => s.transactionId)}::text[], ${sales.map((s) => s.reference)}::text[])
           AS s(transaction_id, reference) ON s.transaction_id = f.transaction_id AND s.reference = f.reference
     WHERE f.supplier_id = ${supplierId}::uuid AND f.kind = 'orphan' AND f.resolved_at IS NULL
       AND (f.action IS NULL OR f.action IN ('dispute_failed', 'cancel_failed'))`;
}

export type Remedy = 'disputed' | 'cancelled' | 'none' | 'dispute_failed' | 'cancel_failed';

/** What was done about a finding; a remedy that worked resolves it. */
export async function recordRemedy(db: Db, findingId: string, remedy: Remedy, detail: string): Promise<void> {
  const resolved = remedy === 'disputed' || remedy === 'cancelled';
  await db.$executeRaw`
    UPDATE supplier_sale_findings
       SET action = ${remedy}, action_detail = ${detail}, acted_at = now(),
           resolved_at = CASE WHEN ${resolved} THEN now() ELSE resolved_at END
     WHERE id = ${findingId}::uuid`;
}

/** The findings made in [from, to), oldest first, with the supplier's name. */
export function findingsFound(db: Db, range: { from: Date; to: Date }) {
  return db.supplierSaleFinding.findMany({
    where: { foundAt: { gte: range.from, lt: range.to } },
    include: { supplier: { select: { name: true } } },
    orderBy: [{ foundAt: 'asc' }, { id: 'asc' }],
  });
}
export type FindingRow = Awaited<ReturnType<typeof findingsFound>>[number];

/** Open findings (nothing done that settled them) per supplier and kind, for the metric. */
export function openFindingCounts(db: Db) {
  return db.$queryRaw<{ supplier: string; kind: FindingKind; count: number }[]>`
    SELECT s.name AS supplier, f.kind::text AS kind, count(*)::int AS count
      FROM supplier_sale_findings f JOIN suppliers s ON s.id = f.supplier_id
     WHERE f.resolved_at IS NULL
     GROUP BY s.name, f.kind`;
}

/**
 * Delivered, unredeemed keys this supplier sold since `since`, the ones asked about longest
 * ago (or never) first: each round asks about a few, and every key gets its turn.
 */
export function keysToAskAboutRedemption(db: Db, supplierId: string, input: { since: Date; limit: number }) {
  return db.$queryRaw<{ cardKeyId: string; unitId: string }[]>`
    SELECT k.id::text AS "cardKeyId", u.id::text AS "unitId"
      FROM card_keys k JOIN order_units u ON u.card_key_id = k.id
     WHERE k.source_supplier_id = ${supplierId}::uuid AND u.supplier_id = ${supplierId}::uuid
       AND k.status = 'delivered' AND k.delivered_at >= ${input.since}
     ORDER BY k.redeem_checked_at ASC NULLS FIRST, k.delivered_at ASC
     LIMIT ${input.limit}`;
}

export async function markAskedAboutRedemption(db: Db, cardKeyId: string): Promise<void> {
  await db.$executeRaw`UPDATE card_keys SET redeem_checked_at = now() WHERE id = ${cardKeyId}::uuid`;
}
