// What the platform knows of a unit's journey through suppliers: the plan (routes per
// product), every attempt, and the unit obtained — a key sealed like an imported one, or a
// direct top-up's transaction id. Each write acts only while the order is fulfilling and
// the unit still pending, so a late callback or a retried attempt cannot bind a second sale.
import type { OrderUnitStatus, Supplier } from '@prisma/client';
import { CardKeySchema } from '../../domain/card-key';
import type { SaleState } from '../../domain/supplier-sales';
import {
  aboveThePrice,
  AMBIGUOUS_OUTCOMES,
  type AttemptOutcome,
  type CircuitState,
  type PlannedRoute,
  planRoutes,
  type ProductPlan,
  type SourcingPlan,
} from '../../domain/suppliers';
import { type Db, sqlOf } from '../../infra/db';
import { type ImportSecrets, sealCardKey } from '../inventory';

/** SQL: a route as the planner takes it (PlannedRoute, with its product), from `supplier_routes r JOIN suppliers s`. */
const ROUTE_FACTS = `json_build_object(
  'productId', r.product_id, 'routeId', r.id, 'supplierId', r.supplier_id, 'supplierName', s.name,
  'priority', r.priority, 'costMinor', r.cost_minor, 'enabled', r.enabled, 'supplierEnabled', s.enabled,
  'productCode', r.product_code, 'timeoutMs', s.timeout_ms)`;
type RouteFactsRow = PlannedRoute & { productId: string };
const plannable = ({ productId: _, ...route }: RouteFactsRow): PlannedRoute => route;

/**
 * A product's routes in the order to try them for one more unit (a compensation's
 * replacement), the supplier that sold the bad key last.
 */
export async function routesForReplacement(
  db: Db,
  input: { productId: string; priceMinor: number; failedSupplierId: string | null },
): Promise<PlannedRoute[]> {
  const routes = await sqlOf(db).rows<{ route: RouteFactsRow }>(
    `SELECT ${ROUTE_FACTS} AS route FROM supplier_routes r JOIN suppliers s ON s.id = r.supplier_id
      WHERE r.product_id = $1::uuid`,
    [input.productId],
  );
  const { tryInOrder } = planRoutes(
    routes.map((r) => plannable(r.route)),
    input.priceMinor,
  );
  const failed = (r: PlannedRoute) => r.supplierId === input.failedSupplierId;
  return [...tryInOrder.filter((r) => !failed(r)), ...tryInOrder.filter(failed)];
}

/**
 * The units of a fulfilling order still without a source, and for each of their products
 * the routes to try in order. Routes whose recorded cost is above the price are recorded as
 * skipped on each unit (once) and left out. One round trip reads it all: this runs for
 * every order that stock did not cover.
 */
export async function planSourcing(db: Db, orderId: string): Promise<SourcingPlan> {
  const [read] = await sqlOf(db).rows<{
    units: { unitId: string; productId: string; priceMinor: number; kind: ProductPlan['kind']; currency: string }[];
    routes: RouteFactsRow[];
  }>(
    `WITH units AS (
       SELECT u.id, u.product_id, u.created_at, i.unit_price_minor, p.kind, p.currency
         FROM order_units u JOIN orders o ON o.id = u.order_id JOIN order_items i ON i.id = u.item_id
         JOIN products p ON p.id = u.product_id
        WHERE u.order_id = $1::uuid AND u.status = 'pending' AND o.status = 'fulfilling')
     SELECT
       COALESCE((SELECT json_agg(json_build_object('unitId', id, 'productId', product_id, 'priceMinor', unit_price_minor,
                                                   'kind', kind, 'currency', currency) ORDER BY created_at, id)
                   FROM units), '[]') AS units,
       COALESCE((SELECT json_agg(${ROUTE_FACTS})
                   FROM supplier_routes r JOIN suppliers s ON s.id = r.supplier_id
                  WHERE r.product_id IN (SELECT product_id FROM units)), '[]') AS routes`,
    [orderId],
    'plan_sourcing',
  );
  const { units, routes } = read!;
  const plans: ProductPlan[] = [];
  const skippedRows: AttemptRecord[] = [];
  // Each product's price, kind and currency, from its first unit (all its units share them).
  const products = new Map<string, (typeof units)[number]>();
  for (const unit of units) if (!products.has(unit.productId)) products.set(unit.productId, unit);
  for (const { productId, kind, priceMinor, currency } of products.values()) {
    const plan = planRoutes(routes.filter((r) => r.productId === productId).map(plannable), priceMinor);
    plans.push({ productId, kind, priceMinor, currency, routes: plan.tryInOrder });
    for (const unit of units.filter((u) => u.productId === productId)) {
      for (const skip of plan.skipped) {
        skippedRows.push({
          unitId: unit.unitId,
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
  return { products: plans, units: units.map(({ unitId, productId }) => ({ unitId, productId })) };
}

/** A replayed plan must not record its skips twice. */
async function recordSkipsOnce(db: Db, rows: AttemptRecord[]) {
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

export async function recordAttempt(db: Db, attempt: AttemptRecord): Promise<void> {
  await sqlOf(db).rows(
    `INSERT INTO sourcing_attempts (unit_id, supplier_id, source, outcome, detail, latency_ms, cost_minor)
     VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7)`,
    [
      attempt.unitId,
      attempt.supplierId,
      attempt.source,
      attempt.outcome,
      attempt.detail ?? null,
      attempt.latencyMs ?? null,
      attempt.costMinor ?? null,
    ],
    'record_sourcing_attempt',
  );
}

/** SQL: an attempt at the supplier left the unit possibly bought (the outcomes are parameter $3). */
const mayHaveBoughtSql = (unit: string, supplier: string) =>
  `EXISTS (SELECT 1 FROM sourcing_attempts a WHERE a.unit_id = ${unit} AND a.supplier_id = ${supplier} AND a.outcome = ANY($3))`;

/** Whether an order for the unit went to this supplier without a conclusive answer on record (sent, lost, pending). */
export async function mayHaveBought(db: Db, unitId: string, supplierId: string): Promise<boolean> {
  const [row] = await sqlOf(db).rows<{ found: boolean }>(
    `SELECT ${mayHaveBoughtSql('$1::uuid', '$2::uuid')} AS found`,
    [unitId, supplierId, AMBIGUOUS_OUTCOMES],
  );
  return row!.found;
}

/**
 * What buying one unit at one route needs, in one round trip: the unit (its status, price
 * and top-up account), the route's product and supplier (with the circuit's state), and
 * whether an earlier attempt there may have bought it. Null when either is gone.
 */
export async function unitAtRoute(db: Db, unitId: string, routeId: string) {
  const [row] = await sqlOf(db).rows<{
    unit: { id: string; status: OrderUnitStatus; priceMinor: number; account: string | null };
    product: { id: string; kind: ProductPlan['kind']; currency: string };
    productCode: string;
    supplier: Pick<
      Supplier,
      'id' | 'name' | 'protocol' | 'baseUrl' | 'credentialsCipher' | 'timeoutMs' | 'callbackDeadlineMs'
    > & { circuit: { state: CircuitState; changedAt: string; cooldownSeconds: number } };
    mayHaveBought: boolean;
  }>(
    `SELECT json_build_object('id', u.id, 'status', u.status, 'priceMinor', i.unit_price_minor, 'account', i.account) AS unit,
            json_build_object('id', p.id, 'kind', p.kind, 'currency', p.currency) AS product,
            r.product_code AS "productCode",
            json_build_object('id', s.id, 'name', s.name, 'protocol', s.protocol, 'baseUrl', s.base_url,
                              'credentialsCipher', s.credentials_cipher, 'timeoutMs', s.timeout_ms,
                              'callbackDeadlineMs', s.callback_deadline_ms,
                              'circuit', json_build_object('state', s.circuit_state, 'changedAt', s.circuit_changed_at,
                                                           'cooldownSeconds', s.circuit_cooldown_seconds)) AS supplier,
            ${mayHaveBoughtSql('u.id', 's.id')} AS "mayHaveBought"
       FROM order_units u JOIN order_items i ON i.id = u.item_id
       JOIN supplier_routes r ON r.id = $2::uuid JOIN products p ON p.id = r.product_id
       JOIN suppliers s ON s.id = r.supplier_id
      WHERE u.id = $1::uuid`,
    [unitId, routeId, AMBIGUOUS_OUTCOMES],
    'unit_at_route',
  );
  if (!row) return null;
  const { circuit, ...supplier } = row.supplier;
  return { ...row, supplier, circuit: { ...circuit, changedAt: new Date(circuit.changedAt) } };
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
  | { kind: 'invalid_key'; detail: string }
  /** The supplier charged more than the unit's price (the `maxCostMinor` it was sent): not taken. */
  | { kind: 'price_above_limit'; detail: string };

/**
 * Why the platform did not take a sale the supplier made, or null when it took it (or
 * already had). Such a sale is disputed at its supplier: the platform holds no key from it,
 * and the supplier would otherwise bill it.
 */
export function refusalOf(result: ObtainResult): string | null {
  switch (result.kind) {
    case 'obtained':
    case 'already':
      return null;
    case 'unit_closed':
      return 'sold after the unit moved on';
    default:
      return result.detail;
  }
}

/**
 * Binds a supplier's sale to a pending unit of a fulfilling order (or a pending replacement
 * unit of a compensation, whose order was delivered long ago): one call of the
 * `bind_supplier_sale` database function, which locks the order row first (the order's
 * other steps do too). A card key is checked and sealed here, for the unit's product, and
 * stored as reserved by the unit; a top-up keeps the supplier's transaction id. Records the
 * attempt with `outcome`. A sale that costs more than the unit's price is refused here, for
 * every path a sale arrives by (order answer, lookup, callback).
 */
export async function recordObtained(
  db: Db,
  secrets: ImportSecrets,
  input: Omit<AttemptRecord, 'outcome' | 'costMinor'> & {
    outcome: 'delivered' | 'found_on_lookup';
    sale: Sale;
    product: { id: string; kind: ProductPlan['kind'] };
    /** The unit's price: the most the supplier was allowed to charge. */
    priceMinor: number;
  },
): Promise<ObtainResult> {
  const { sale, product } = input;
  if (aboveThePrice(sale.costMinor, input.priceMinor)) {
    const detail = [input.detail, `supplier charged ${sale.costMinor}, above the price ${input.priceMinor}`]
      .filter(Boolean)
      .join(': ');
    if (await refuseWhilePending(db, { ...input, outcome: 'price_above_limit', detail, costMinor: sale.costMinor })) {
      return { kind: 'price_above_limit', detail };
    }
    // Not pending: the binding below tells this supplier's own sale (already) from a unit
    // that moved on, as for any sale, and binds nothing.
  }
  let keyProblem: string | null = null;
  let sealed: ReturnType<typeof sealCardKey> | null = null;
  if (product.kind === 'card_key') {
    const code = CardKeySchema.safeParse(sale.key ?? '');
    if (code.success) sealed = sealCardKey(secrets, product.id, code.data);
    else keyProblem = `supplier sent an unusable key: ${code.error.issues[0]?.message ?? 'invalid'}`;
  }
  const [row] = await sqlOf(db).rows<{
    kind: 'obtained' | 'already' | 'unit_closed' | 'invalid_key';
    detail: string | null;
  }>('SELECT * FROM bind_supplier_sale($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)', [
    input.unitId,
    input.supplierId,
    input.source,
    input.outcome,
    input.detail ?? null,
    input.latencyMs ?? null,
    sale.transactionId,
    sale.costMinor,
    keyProblem,
    product.id,
    sealed?.ciphertext ?? null,
    sealed?.encryptionKeyId ?? null,
    sealed?.fingerprint ?? null,
  ]);
  return row!.kind === 'invalid_key'
    ? { kind: 'invalid_key', detail: row!.detail ?? 'invalid key' }
    : { kind: row!.kind };
}

/**
 * Records a refused sale on a unit that is still pending, under the order and unit locks the
 * binding takes, so a sale already bound to the unit is never refused after the fact (a
 * duplicate callback with another cost). False when the unit is not pending.
 */
async function refuseWhilePending(db: Db, attempt: AttemptRecord): Promise<boolean> {
  const [row] = await sqlOf(db).rows<{ recorded: boolean }>(
    `WITH unit AS (
       SELECT u.id FROM orders o JOIN order_units u ON u.order_id = o.id
        WHERE u.id = $1::uuid AND u.status = 'pending' FOR UPDATE OF o, u),
     recorded AS (
       INSERT INTO sourcing_attempts (unit_id, supplier_id, source, outcome, detail, latency_ms, cost_minor)
       SELECT id, $2::uuid, $3, $4, $5, $6, $7 FROM unit RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM recorded) AS recorded`,
    [
      attempt.unitId,
      attempt.supplierId,
      attempt.source,
      attempt.outcome,
      attempt.detail ?? null,
      attempt.latencyMs ?? null,
      attempt.costMinor ?? null,
    ],
  );
  return row!.recorded;
}

/** Why this supplier's sale for the unit was refused, when it was: the detail of its refusal on record. */
async function refusalOnRecord(db: Db, unitId: string, supplierId: string): Promise<string | null> {
  const [row] = await sqlOf(db).rows<{ detail: string | null }>(
    `SELECT detail FROM sourcing_attempts
      WHERE unit_id = $1::uuid AND supplier_id = $2::uuid
        AND (outcome IN ('invalid_key', 'price_above_limit') OR (outcome = 'failed' AND detail = $3))
      ORDER BY id DESC LIMIT 1`,
    [unitId, supplierId, refusalOf({ kind: 'unit_closed' })],
  );
  return row ? (row.detail ?? 'refused') : null;
}

/**
 * A supplier's callback about a unit it accepted asynchronously. Null when the unit is not
 * one this supplier holds a pending order for. Otherwise the sale is bound (or the refusal
 * recorded) exactly as a lookup's would be, and the workflow to tell is returned; a
 * duplicate finds the unit already settled and changes nothing. A sale the platform does
 * not take comes back with the reason (`refused`): the caller disputes it at the supplier.
 */
export async function settleCallback(
  db: Db,
  secrets: ImportSecrets,
  supplier: { id: string; name: string },
  reference: string,
  sale: SaleState,
): Promise<{ workflowId: string; obtained: boolean; refused?: string } | null> {
  const unit = await db.orderUnit.findUnique({
    where: { id: reference },
    select: {
      id: true,
      order: { select: { workflowId: true } },
      item: { select: { unitPriceMinor: true, product: { select: { id: true, kind: true } } } },
    },
  });
  if (!unit || !(await mayHaveBought(db, unit.id, supplier.id))) return null;
  const attempt = { unitId: unit.id, supplierId: supplier.id, source: supplier.name };
  const workflowId = unit.order.workflowId;
  switch (sale.kind) {
    case 'succeeded': {
      // A duplicate of a sale already refused changes nothing (its dispute is under way).
      const earlier = await refusalOnRecord(db, unit.id, supplier.id);
      if (earlier !== null) return { workflowId, obtained: false, refused: earlier };
      const result = await recordObtained(db, secrets, {
        ...attempt,
        outcome: 'delivered',
        sale,
        product: unit.item.product,
        priceMinor: unit.item.unitPriceMinor,
        detail: 'by callback',
      });
      const refused = refusalOf(result);
      return refused === null ? { workflowId, obtained: true } : { workflowId, obtained: false, refused };
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
