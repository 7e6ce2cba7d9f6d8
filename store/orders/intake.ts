// Order intake: an order and its units recorded once per (client, externalOrderId) or
// Idempotency-Key; a different body under the same ids is a conflict.
import type { Order, Product } from '@prisma/client';
import type { Geo } from '../../domain/risk/facts';
import { sha256Hex } from '../../infra/crypto';
import type { Db, DbTx } from '../../infra/db';
import { isUniqueViolation, sqlOf } from '../../infra/db';
import { workflowIds } from '../../domain/workflow-ids';

export interface OrderRequest {
  externalOrderId: string;
  buyer: { id: string; ip: string; deviceId?: string | undefined };
  items: { sku: string; quantity: number; account?: string | undefined }[];
  callbackUrl?: string | undefined;
  allowPartial?: boolean | undefined;
  payment?: { method: 'balance' } | { method: 'stripe'; paymentMethodId: string } | undefined;
}

export class OrderConflict extends Error {}
export class UnknownSkus extends Error {
  constructor(readonly skus: string[]) {
    super(`unknown or inactive sku: ${skus.join(', ')}`);
  }
}
export class MixedCurrencies extends Error {}
/** A direct top-up item without a valid account, or a card-key item with one. */
export class InvalidAccount extends Error {
  constructor(
    readonly position: number,
    message: string,
  ) {
    super(message);
  }
}

/** Direct top-ups credit the buyer's account, which must match the product's pattern; card keys take none. */
export function checkAccounts(items: { account?: string | undefined; product: CatalogueEntry }[]): void {
  items.forEach(({ account, product }, position) => {
    if (product.kind === 'card_key') {
      if (account !== undefined)
        throw new InvalidAccount(position, `${product.sku} is a card key: it takes no account`);
      return;
    }
    if (account === undefined)
      throw new InvalidAccount(position, `${product.sku} is a direct top-up: account is required`);
    if (product.accountPattern && !new RegExp(`^(?:${product.accountPattern})$`, 'u').test(account)) {
      throw new InvalidAccount(position, `account does not match the format ${product.sku} requires`);
    }
  });
}

/** Key order does not matter: the same request always hashes the same. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The prepaid balance is the default: saying so hashes the same as saying nothing. */
export function requestHashOf(request: OrderRequest): string {
  const { payment, ...rest } = request;
  return sha256Hex(canonical(payment?.method === 'stripe' ? request : rest));
}

/** What intake needs of an order, new or found. */
export type IntakeOrder = Pick<Order, 'id' | 'externalOrderId' | 'status' | 'workflowId' | 'requestHash'>;

const intakeFields = { id: true, externalOrderId: true, status: true, workflowId: true, requestHash: true } as const;

export type CatalogueEntry = Pick<Product, 'id' | 'sku' | 'kind' | 'priceMinor' | 'currency' | 'accountPattern'>;

async function findExisting(db: DbTx, clientId: string, externalOrderId: string, idempotencyKey?: string) {
  return db.order.findFirst({
    where: {
      clientId,
      OR: [{ externalOrderId }, ...(idempotencyKey ? [{ idempotencyKey }] : [])],
    },
    select: intakeFields,
  });
}

function sameRequestOrConflict(existing: IntakeOrder, requestHash: string): IntakeOrder {
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
  options: {
    idempotencyKey?: string | undefined;
    /** Where the buyer's address is (the API locates it: the worker loads no geo database). */
    buyerGeo: Geo | null;
  },
): Promise<{ order: IntakeOrder; created: boolean }> {
  const { idempotencyKey, buyerGeo } = options;
  const requestHash = requestHashOf(request);
  const skus = [...new Set(request.items.map((i) => i.sku))];
  // The resubmission check and the catalogue in one round trip.
  const [read] = await sqlOf(db).rows<{ existing: IntakeOrder | null; products: CatalogueEntry[] }>(
    `SELECT
       (SELECT json_build_object('id', id, 'externalOrderId', external_order_id, 'status', status,
                                 'workflowId', workflow_id, 'requestHash', request_hash)
          FROM orders WHERE client_id = $1 AND (external_order_id = $2 OR idempotency_key = $3) LIMIT 1) AS existing,
       COALESCE((SELECT json_agg(json_build_object('id', id, 'sku', sku, 'kind', kind, 'priceMinor', price_minor,
                                                   'currency', currency, 'accountPattern', account_pattern))
                   FROM products WHERE sku = ANY($4) AND active), '[]') AS products`,
    [clientId, request.externalOrderId, idempotencyKey ?? null, skus],
    'intake_read',
  );
  const { existing, products } = read!;
  if (existing) return { order: sameRequestOrConflict(existing, requestHash), created: false };

  const bySku = new Map(products.map((p) => [p.sku, p]));
  const unknown = skus.filter((s) => !bySku.has(s));
  if (unknown.length > 0) throw new UnknownSkus(unknown);
  const currencies = new Set(products.map((p) => p.currency));
  if (currencies.size > 1) throw new MixedCurrencies();
  const currency = products[0]!.currency;
  const amount = request.items.reduce((sum, i) => sum + BigInt(bySku.get(i.sku)!.priceMinor) * BigInt(i.quantity), 0n);
  const items = request.items.map((item) => ({ ...item, product: bySku.get(item.sku)! }));
  checkAccounts(items);
  const workflowId = workflowIds.order(clientId, request.externalOrderId);

  try {
    // One statement writes the order, its first history row, its items and one row per
    // unit: atomic without an interactive transaction, one round trip on the hot path.
    const [row] = await sqlOf(db).rows<{ id: string }>(
      `WITH created AS (
         INSERT INTO orders (id, client_id, external_order_id, idempotency_key, request_hash, buyer_id, buyer_ip,
                             buyer_device_id, callback_url, amount_minor, currency, workflow_id, allow_partial,
                             payment_method, unit_count, buyer_geo, updated_at)
         VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $17,
                 CASE WHEN $19::text IS NULL THEN 'balance' ELSE 'stripe' END::payment_method,
                 (SELECT sum(q) FROM unnest($15::int[]) AS q), $20, now())
         RETURNING id
       ), payment AS (
         INSERT INTO provider_payments (id, order_id, provider, method_ref, amount_minor, currency)
         SELECT gen_random_uuid(), id, 'stripe', $19, $9, $10 FROM created WHERE $19::text IS NOT NULL
       ), history AS (
         INSERT INTO order_status_history (order_id, status) SELECT id, 'received' FROM created
       ), items AS (
         INSERT INTO order_items (id, order_id, position, product_id, sku, quantity, unit_price_minor, account)
         SELECT gen_random_uuid(), created.id, t.position, t.product_id, t.sku, t.quantity, t.price, t.account
           FROM created, unnest($12::int[], $13::uuid[], $14::text[], $15::int[], $16::int[], $18::text[])
                         AS t(position, product_id, sku, quantity, price, account)
         RETURNING id, order_id, product_id, quantity
       ), units AS (
         INSERT INTO order_units (id, order_id, item_id, product_id)
         SELECT gen_random_uuid(), items.order_id, items.id, items.product_id
           FROM items, generate_series(1, items.quantity)
       )
       SELECT id::text FROM created`,
      [
        clientId,
        request.externalOrderId,
        idempotencyKey ?? null,
        requestHash,
        request.buyer.id,
        request.buyer.ip,
        request.buyer.deviceId ?? null,
        request.callbackUrl ?? null,
        amount.toString(),
        currency,
        workflowId,
        items.map((_, position) => position),
        items.map((i) => i.product.id),
        items.map((i) => i.sku),
        items.map((i) => i.quantity),
        items.map((i) => i.product.priceMinor),
        request.allowPartial ?? false,
        items.map((i) => i.account ?? null),
        request.payment?.method === 'stripe' ? request.payment.paymentMethodId : null,
        buyerGeo === null ? null : JSON.stringify(buyerGeo),
      ],
      'intake_write',
    );
    return {
      order: { id: row!.id, externalOrderId: request.externalOrderId, status: 'received', workflowId, requestHash },
      created: true,
    };
  } catch (err) {
    if (isUniqueViolation(err)) {
      const winner = await findExisting(db, clientId, request.externalOrderId, idempotencyKey);
      if (winner) return { order: sameRequestOrConflict(winner, requestHash), created: false };
    }
    throw err;
  }
}
