// Rows written straight into the run's database, for the database functions' contract tests
// (tests/orders/order-functions.test.ts, tests/payments/ledger-functions.test.ts,
// tests/suppliers/sale-binding-function.test.ts): a function is called alone over `pg`, with
// no API or workflow around it. Every row is new (random ids and names), so tests share the
// database safely. An order these leave terminal must have moved its money as the platform
// would: the suite's teardown reconciles the whole ledger.
import { randomUUID } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';

export type Sql = Pool | PoolClient;

/** A pool on the run's database, closed by the test file's afterAll. */
export function testPool(max = 4): Pool {
  return new Pool({ connectionString: process.env.DATABASE_URL, max });
}

export async function one<T = Record<string, any>>(db: Sql, text: string, values: unknown[] = []): Promise<T> {
  const { rows } = await db.query(text, values);
  if (rows.length !== 1) throw new Error(`expected one row from ${text}, got ${rows.length}`);
  return rows[0] as T;
}

export async function insertClient(db: Sql, options: { webhookUrl?: string } = {}): Promise<string> {
  const row = await one<{ id: string }>(
    db,
    `INSERT INTO clients (id, name, role, api_key_hash, api_key_prefix, webhook_url)
     VALUES (gen_random_uuid(), $1, 'order-system', $2, 'test', $3) RETURNING id`,
    [`sql client ${randomUUID()}`, randomUUID(), options.webhookUrl ?? null],
  );
  return row.id;
}

export interface ProductRow {
  id: string;
  sku: string;
  priceMinor: number;
}

export async function insertProduct(
  db: Sql,
  options: { kind?: 'card_key' | 'direct_topup'; priceMinor?: number } = {},
): Promise<ProductRow> {
  const sku = `SQL-${randomUUID()}`;
  const priceMinor = options.priceMinor ?? 500;
  const row = await one<{ id: string }>(
    db,
    `INSERT INTO products (id, sku, name, kind, price_minor, currency)
     VALUES (gen_random_uuid(), $1, $1, $2, $3, 'CNY') RETURNING id`,
    [sku, options.kind ?? 'card_key', priceMinor],
  );
  return { id: row.id, sku, priceMinor };
}

export interface OrderRow {
  id: string;
  /** Oldest first. */
  unitIds: string[];
  amountMinor: number;
}

/** An order of `units` units of one product, amount = units × price, its units pending. */
export async function insertOrder(
  db: Sql,
  input: {
    clientId: string;
    product: ProductRow;
    units?: number;
    status?: string;
    paymentMethod?: 'balance' | 'stripe';
    callbackUrl?: string;
  },
): Promise<OrderRow> {
  const units = input.units ?? 1;
  const amountMinor = units * input.product.priceMinor;
  const order = await one<{ id: string }>(
    db,
    `INSERT INTO orders (id, client_id, external_order_id, request_hash, buyer_id, buyer_ip, callback_url, amount_minor,
                         currency, workflow_id, status, payment_method, unit_count, updated_at)
     VALUES (gen_random_uuid(), $1, $2, 'h', 'buyer', '203.0.113.7', $3, $4, 'CNY', $2, $5, $6, $7, now()) RETURNING id`,
    [
      input.clientId,
      `sql-${randomUUID()}`,
      input.callbackUrl ?? null,
      amountMinor,
      input.status ?? 'received',
      input.paymentMethod ?? 'balance',
      units,
    ],
  );
  const item = await one<{ id: string }>(
    db,
    `INSERT INTO order_items (id, order_id, position, product_id, sku, quantity, unit_price_minor)
     VALUES (gen_random_uuid(), $1, 0, $2, $3, $4, $5) RETURNING id`,
    [order.id, input.product.id, input.product.sku, units, input.product.priceMinor],
  );
  const unitIds: string[] = [];
  for (let i = 0; i < units; i++) {
    // created_at apart, so "oldest first" is the order they were made in.
    const unit = await one<{ id: string }>(
      db,
      `INSERT INTO order_units (id, order_id, item_id, product_id, created_at)
       VALUES (gen_random_uuid(), $1, $2, $3, now() + $4 * interval '1 ms') RETURNING id`,
      [order.id, item.id, input.product.id, i],
    );
    unitIds.push(unit.id);
  }
  return { id: order.id, unitIds, amountMinor };
}

/** `n` available keys of the product, sealed as far as the functions care; oldest first. */
export async function insertKeys(db: Sql, productId: string, n: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO card_keys (id, product_id, ciphertext, encryption_key_id, fingerprint, created_at)
     SELECT gen_random_uuid(), $1, 'sealed', 'k1', gen_random_uuid()::text, now() - (($2 - i) * interval '1 s')
       FROM generate_series(1, $2) AS i ORDER BY i RETURNING id`,
    [productId, n],
  );
  return rows.map((r) => r.id);
}

/** Credits the client's available money from funding, as a top-up does. */
export async function topUp(db: Sql, clientId: string, minor: number): Promise<void> {
  await db.query(
    `SELECT * FROM ledger_transfer('topup', $1, $2, NULL, 'CNY', $3, 'platform_funding', 'client_available', NULL)`,
    [`topup:${randomUUID()}`, clientId, minor],
  );
}

/** The client's available and held money in CNY (0 for an account not made yet). */
export async function balances(db: Sql, clientId: string): Promise<{ available: number; held: number }> {
  return one(
    db,
    `SELECT COALESCE(max(balance_minor) FILTER (WHERE kind = 'client_available'), 0)::int AS available,
            COALESCE(max(balance_minor) FILTER (WHERE kind = 'client_held'), 0)::int AS held
       FROM ledger_accounts WHERE client_id = $1 AND currency = 'CNY'`,
    [clientId],
  );
}

/** The order's ledger transactions, oldest first, as [kind, amount, key]. */
export async function ledgerOf(db: Sql, orderId: string): Promise<[string, number, string][]> {
  const { rows } = await db.query<{ kind: string; amount: number; key: string }>(
    `SELECT kind::text, amount_minor::int AS amount, idempotency_key AS key
       FROM ledger_transactions WHERE order_id = $1 ORDER BY id`,
    [orderId],
  );
  return rows.map((r) => [r.kind, r.amount, r.key]);
}

/** The SQLSTATE and message a statement fails with (it must fail). */
export async function refusal(run: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await run;
  } catch (err) {
    const e = err as { code?: string; message: string };
    return { code: e.code ?? '', message: e.message };
  }
  throw new Error('expected the database to refuse');
}
