// What the platform knows of a unit's journey through suppliers: the plan (routes per
// product), every attempt, and the unit obtained — a key sealed like an imported one, or a
// direct top-up's transaction id. Each write acts only while the order is fulfilling and
// the unit still pending, so a late callback or a retried attempt cannot bind a second sale.
import type { Prisma, Supplier, SupplierRoute } from '@prisma/client';
import { CardKeySchema } from '../../domain/card-key';
import type { SaleState } from '../../domain/supplier-sales';
import {
  AMBIGUOUS_OUTCOMES,
  type AttemptOutcome,
  type PlannedRoute,
  planRoutes,
  type ProductPlan,
  type SourcingPlan,
} from '../../domain/suppliers';
import type { Db, DbTx } from '../../infra/db';
import { type ImportSecrets, sealCardKey } from '../inventory';

/** A route as the planner takes it. */
function routeFactsOf(r: SupplierRoute & { supplier: Supplier }) {
  return {
    routeId: r.id,
    supplierId: r.supplierId,
    supplierName: r.supplier.name,
    priority: r.priority,
    costMinor: r.costMinor,
    enabled: r.enabled,
    supplierEnabled: r.supplier.enabled,
    productCode: r.productCode,
    timeoutMs: r.supplier.timeoutMs,
  };
}

/**
 * A product's routes in the order to try them for one more unit (a compensation's
 * replacement), the supplier that sold the bad key last.
 */
export async function routesForReplacement(
  db: Db,
  input: { productId: string; priceMinor: number; failedSupplierId: string | null },
): Promise<PlannedRoute[]> {
  const routes = await db.supplierRoute.findMany({
    where: { productId: input.productId },
    include: { supplier: true },
  });
  const { tryInOrder } = planRoutes(routes.map(routeFactsOf), input.priceMinor);
  const failed = (r: PlannedRoute) => r.supplierId === input.failedSupplierId;
  return [...tryInOrder.filter((r) => !failed(r)), ...tryInOrder.filter(failed)];
}

/**
 * The units of a fulfilling order still without a source, and for each of their products
 * the routes to try in order. Routes whose recorded cost is above the price are recorded as
 * skipped on each unit (once) and left out.
 */
export async function planSourcing(db: Db, orderId: string): Promise<SourcingPlan> {
  const units = await db.orderUnit.findMany({
    where: { orderId, status: 'pending', order: { status: 'fulfilling' } },
    select: { id: true, productId: true, item: { select: { unitPriceMinor: true } } },
    orderBy: { createdAt: 'asc' },
  });
  const productIds = [...new Set(units.map((u) => u.productId))];
  const products = await db.product.findMany({
    where: { id: { in: productIds } },
    include: { routes: { include: { supplier: true } } },
  });
  const plans: ProductPlan[] = [];
  const skippedRows: Prisma.SourcingAttemptCreateManyInput[] = [];
  for (const product of products) {
    const priceMinor = units.find((u) => u.productId === product.id)!.item.unitPriceMinor;
    const plan = planRoutes(product.routes.map(routeFactsOf), priceMinor);
    plans.push({
      productId: product.id,
      kind: product.kind,
      priceMinor,
      currency: product.currency,
      routes: plan.tryInOrder,
    });
    for (const unit of units.filter((u) => u.productId === product.id)) {
      for (const skip of plan.skipped) {
        skippedRows.push({
          unitId: unit.id,
          supplierId: skip.route.supplierId,
          source: skip.route.supplierName,
          outcome: skip.outcome,
          detail: skip.detail,
          costMinor: skip.route.costMinor,
        });
      }
    }
  }
  if (skippedRows.length > 0) await recordSkipsOnce(db, skippedRows);
  return { products: plans, units: units.map((u) => ({ unitId: u.id, productId: u.productId })) };
}

/** A replayed plan must not record its skips twice. */
async function recordSkipsOnce(db: Db, rows: Prisma.SourcingAttemptCreateManyInput[]) {
  const existing = await db.sourcingAttempt.findMany({
    where: { unitId: { in: rows.map((r) => r.unitId) }, outcome: 'price_above_limit' },
    select: { unitId: true, supplierId: true },
  });
  const seen = new Set(existing.map((e) => `${e.unitId}/${e.supplierId}`));
  const fresh = rows.filter((r) => !seen.has(`${r.unitId}/${r.supplierId}`));
  if (fresh.length > 0) await db.sourcingAttempt.createMany({ data: fresh });
}

export interface AttemptRecord {
  unitId: string;
  supplierId: string;
  source: string;
  outcome: AttemptOutcome;
  detail?: string | undefined;
  latencyMs?: number | undefined;
  costMinor?: number | undefined;
}

export async function recordAttempt(db: DbTx, attempt: AttemptRecord): Promise<void> {
  await db.sourcingAttempt.create({ data: attempt });
}

/** Whether an order for the unit went to this supplier without a conclusive answer on record (sent, lost, pending). */
export async function mayHaveBought(db: Db, unitId: string, supplierId: string): Promise<boolean> {
  const found = await db.sourcingAttempt.findFirst({
    where: { unitId, supplierId, outcome: { in: [...AMBIGUOUS_OUTCOMES] } },
    select: { id: true },
  });
  return found !== null;
}

export interface Sale {
  transactionId: string;
  costMinor: number;
  /** Card keys only: the plaintext, sealed here before anything else sees it. */
  key?: string | undefined;
}

export type ObtainResult =
  | { kind: 'obtained' }
  /** The unit already holds this supplier's sale (a duplicate callback, a retried step). */
  | { kind: 'already' }
  /** The order or the unit moved on (refunded, another supplier's unit): the sale is not used. */
  | { kind: 'unit_closed' }
  | { kind: 'invalid_key'; detail: string };

/**
 * Binds a supplier's sale to a pending unit of a fulfilling order (or a pending replacement
 * unit of a compensation, whose order was delivered long ago), in one transaction that
 * locks the order row first (the order's other steps do too): a card key is sealed and
 * stored as reserved by the unit, a top-up keeps the supplier's transaction id. Records the
 * attempt with `outcome`.
 */
export async function recordObtained(
  db: Db,
  secrets: ImportSecrets,
  input: Omit<AttemptRecord, 'outcome' | 'costMinor'> & { outcome: 'delivered' | 'found_on_lookup'; sale: Sale },
): Promise<ObtainResult> {
  const { sale, ...attempt } = input;
  return db.$transaction(async (tx) => {
    const [unit] = await tx.$queryRaw<
      {
        status: string;
        supplier_id: string | null;
        order_status: string;
        product_id: string;
        kind: string;
        replacement: boolean;
      }[]
    >`
      SELECT u.status::text, u.supplier_id::text, o.status::text AS order_status, u.product_id::text, p.kind::text,
             u.replaces_unit_id IS NOT NULL AS replacement
        FROM orders o JOIN order_units u ON u.order_id = o.id JOIN products p ON p.id = u.product_id
       WHERE u.id = ${input.unitId}::uuid
         FOR UPDATE OF o, u`;
    if (!unit) return { kind: 'unit_closed' };
    if (unit.status !== 'pending' && unit.supplier_id === input.supplierId) return { kind: 'already' };
    if (unit.status !== 'pending' || (unit.order_status !== 'fulfilling' && !unit.replacement)) {
      await recordAttempt(tx, {
        ...attempt,
        outcome: 'failed',
        detail: 'sold after the unit moved on',
        costMinor: sale.costMinor,
      });
      return { kind: 'unit_closed' };
    }
    let cardKeyId: string | null = null;
    if (unit.kind === 'card_key') {
      const code = CardKeySchema.safeParse(sale.key ?? '');
      if (!code.success) {
        const detail = `supplier sent an unusable key: ${code.error.issues[0]?.message ?? 'invalid'}`;
        await recordAttempt(tx, { ...attempt, outcome: 'invalid_key', detail, costMinor: sale.costMinor });
        return { kind: 'invalid_key', detail };
      }
      const key = await insertBoughtKey(tx, secrets, unit.product_id, input, code.data);
      if (!key) {
        const detail = 'supplier sent a key the platform already has';
        await recordAttempt(tx, { ...attempt, outcome: 'invalid_key', detail, costMinor: sale.costMinor });
        return { kind: 'invalid_key', detail };
      }
      cardKeyId = key;
    }
    await tx.orderUnit.update({
      where: { id: input.unitId },
      data: {
        status: 'reserved',
        source: 'supplier',
        supplierId: input.supplierId,
        supplierRef: sale.transactionId,
        costMinor: sale.costMinor,
        cardKeyId,
      },
    });
    await recordAttempt(tx, { ...attempt, costMinor: sale.costMinor });
    return { kind: 'obtained' };
  });
}

/** Null when the key is a duplicate of one already held (by fingerprint). */
async function insertBoughtKey(
  tx: DbTx,
  secrets: ImportSecrets,
  productId: string,
  input: { unitId: string; supplierId: string },
  code: string,
): Promise<string | null> {
  const sealed = sealCardKey(secrets, productId, code);
  // ON CONFLICT, not a caught error: a duplicate must not abort the transaction the attempt is recorded in.
  const [key] = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO card_keys (id, product_id, source_supplier_id, ciphertext, encryption_key_id, fingerprint, status,
                           reserved_by_unit_id, reserved_at)
    VALUES (gen_random_uuid(), ${productId}::uuid, ${input.supplierId}::uuid, ${sealed.ciphertext},
            ${sealed.encryptionKeyId}, ${sealed.fingerprint}, 'reserved', ${input.unitId}::uuid, now())
    ON CONFLICT DO NOTHING
    RETURNING id::text`;
  return key?.id ?? null;
}

/**
 * A supplier's callback about a unit it accepted asynchronously. Null when the unit is not
 * one this supplier holds a pending order for. Otherwise the sale is bound (or the refusal
 * recorded) exactly as a lookup's would be, and the workflow to tell is returned; a
 * duplicate finds the unit already settled and changes nothing.
 */
export async function settleCallback(
  db: Db,
  secrets: ImportSecrets,
  supplier: { id: string; name: string },
  reference: string,
  sale: SaleState,
): Promise<{ workflowId: string; obtained: boolean } | null> {
  const unit = await db.orderUnit.findUnique({
    where: { id: reference },
    select: { id: true, order: { select: { workflowId: true } } },
  });
  if (!unit || !(await mayHaveBought(db, unit.id, supplier.id))) return null;
  const attempt = { unitId: unit.id, supplierId: supplier.id, source: supplier.name };
  const workflowId = unit.order.workflowId;
  switch (sale.kind) {
    case 'succeeded': {
      const result = await recordObtained(db, secrets, {
        ...attempt,
        outcome: 'delivered',
        sale,
        detail: 'by callback',
      });
      return { workflowId, obtained: result.kind === 'obtained' || result.kind === 'already' };
    }
    case 'pending':
      return { workflowId, obtained: false };
    default:
      await recordAttempt(db, {
        ...attempt,
        outcome: 'refused',
        detail: `by callback: ${sale.kind === 'refused' ? sale.detail : sale.kind}`,
      });
      return { workflowId, obtained: false };
  }
}
