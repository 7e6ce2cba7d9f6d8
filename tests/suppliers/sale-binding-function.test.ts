// Contract test of bind_supplier_sale (prisma/functions), called alone over `pg` on rows
// written for it: each answer it gives (obtained, already, unit_closed, invalid_key), the
// attempt it records for each, its refusal of a key not sealed for the unit, and its wait on
// the order's lock. tests/suppliers/sale-binding.test.ts covers the same through a real order.
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { waitFor } from '../support/wait';
import {
  insertClient,
  insertKeys,
  insertOrder,
  insertProduct,
  one,
  type OrderRow,
  type ProductRow,
  refusal,
  type Sql,
  testPool,
} from '../support/sql-rows';

let pool: Pool;
beforeAll(() => {
  pool = testPool(4);
});
afterAll(() => pool?.end());

async function insertSupplier(): Promise<string> {
  const row = await one<{ id: string }>(
    pool,
    `INSERT INTO suppliers (id, name, protocol, base_url, credentials_cipher, updated_at)
     VALUES (gen_random_uuid(), $1, 'reference', 'http://127.0.0.1:9', 'sealed', now()) RETURNING id`,
    [`sql supplier ${randomUUID()}`],
  );
  return row.id;
}

interface Sale {
  unitId: string;
  supplierId: string;
  product: ProductRow;
  transactionId?: string;
  keyProblem?: string | null;
  /** The product the key was sealed for (default: the unit's); null: no ciphertext. */
  sealedFor?: string | null;
  fingerprint?: string;
}

const bind = (db: Sql, sale: Sale) => {
  const sealedFor = sale.sealedFor === undefined ? sale.product.id : sale.sealedFor;
  return one<{ kind: string; detail: string | null }>(
    db,
    'SELECT * FROM bind_supplier_sale($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)',
    [
      sale.unitId,
      sale.supplierId,
      'sql supplier',
      'delivered',
      'in one call',
      12,
      sale.transactionId ?? `T-${randomUUID()}`,
      900,
      sale.keyProblem ?? null,
      sealedFor,
      sealedFor ? `sealed-${randomUUID()}` : null,
      'k1',
      sale.fingerprint ?? randomUUID(),
    ],
  );
};

const unitOf = (unitId: string) =>
  one(
    pool,
    `SELECT status::text, source, supplier_id, supplier_ref, cost_minor, card_key_id FROM order_units WHERE id = $1`,
    [unitId],
  );
const attemptsOf = async (unitId: string) =>
  (
    await pool.query('SELECT supplier_id, outcome, detail FROM sourcing_attempts WHERE unit_id = $1 ORDER BY id', [
      unitId,
    ])
  ).rows.map((r) => [r.supplier_id, r.outcome, r.detail]);
const keysFrom = async (supplierId: string) =>
  (
    await pool.query(
      'SELECT id, product_id, status::text, reserved_by_unit_id FROM card_keys WHERE source_supplier_id = $1',
      [supplierId],
    )
  ).rows;

async function orderOf(options: { kind?: 'card_key' | 'direct_topup'; status?: string } = {}) {
  const product = await insertProduct(pool, { kind: options.kind });
  const order: OrderRow = await insertOrder(pool, {
    clientId: await insertClient(pool),
    product,
    status: options.status ?? 'fulfilling',
  });
  return { product, order, unitId: order.unitIds[0]! };
}

test("binds a supplier's key to a pending unit once: the supplier's second key for it is refused as already bound", async () => {
  const { product, unitId } = await orderOf();
  const seller = await insertSupplier();
  expect(await bind(pool, { unitId, supplierId: seller, product, transactionId: 'T-1' })).toEqual({
    kind: 'obtained',
    detail: null,
  });
  const [key] = await keysFrom(seller);
  expect(key).toEqual({
    id: expect.any(String),
    product_id: product.id,
    status: 'reserved',
    reserved_by_unit_id: unitId,
  });
  expect(await unitOf(unitId)).toEqual({
    status: 'reserved',
    source: 'supplier',
    supplier_id: seller,
    supplier_ref: 'T-1',
    cost_minor: 900,
    card_key_id: key.id,
  });
  expect(await bind(pool, { unitId, supplierId: seller, product, transactionId: 'T-2' })).toEqual({
    kind: 'already',
    detail: null,
  });
  expect(await keysFrom(seller)).toHaveLength(1);
  expect(await unitOf(unitId)).toEqual(expect.objectContaining({ supplier_ref: 'T-1', card_key_id: key.id }));
  expect(await attemptsOf(unitId)).toEqual([[seller, 'delivered', 'in one call']]);
});

test("another supplier's sale for a bound unit finds it closed and is recorded as not used", async () => {
  const { product, unitId } = await orderOf();
  const [seller, late] = [await insertSupplier(), await insertSupplier()];
  await bind(pool, { unitId, supplierId: seller, product });
  expect(await bind(pool, { unitId, supplierId: late, product })).toEqual({ kind: 'unit_closed', detail: null });
  expect(await keysFrom(late)).toEqual([]);
  expect(await unitOf(unitId)).toEqual(expect.objectContaining({ supplier_id: seller }));
  expect((await attemptsOf(unitId)).at(-1)).toEqual([late, 'failed', 'sold after the unit moved on']);
});

test('an unusable key, or one the platform already holds, is refused and the unit stays pending', async () => {
  const { product, unitId } = await orderOf();
  const seller = await insertSupplier();
  const problem = 'supplier sent an unusable key: empty';
  expect(await bind(pool, { unitId, supplierId: seller, product, keyProblem: problem })).toEqual({
    kind: 'invalid_key',
    detail: problem,
  });
  const [stocked] = await insertKeys(pool, product.id, 1);
  const { fingerprint } = await one(pool, 'SELECT fingerprint FROM card_keys WHERE id = $1', [stocked]);
  expect(await bind(pool, { unitId, supplierId: seller, product, fingerprint })).toEqual({
    kind: 'invalid_key',
    detail: 'supplier sent a key the platform already has',
  });
  expect(await unitOf(unitId)).toEqual(
    expect.objectContaining({ status: 'pending', supplier_id: null, card_key_id: null }),
  );
  expect(await keysFrom(seller)).toEqual([]);
  expect(await attemptsOf(unitId)).toEqual([
    [seller, 'invalid_key', problem],
    [seller, 'invalid_key', 'supplier sent a key the platform already has'],
  ]);
  expect(await bind(pool, { unitId, supplierId: seller, product })).toEqual({ kind: 'obtained', detail: null });
});

test('binds only to a pending unit of a fulfilling order or a pending replacement, and never to a missing unit', async () => {
  const seller = await insertSupplier();
  const closed = await orderOf({ status: 'refunded' });
  expect(await bind(pool, { unitId: closed.unitId, supplierId: seller, product: closed.product })).toEqual({
    kind: 'unit_closed',
    detail: null,
  });
  expect(await unitOf(closed.unitId)).toEqual(expect.objectContaining({ status: 'pending' }));
  expect(await attemptsOf(closed.unitId)).toEqual([[seller, 'failed', 'sold after the unit moved on']]);

  // A compensation's reissue: the delivered order's unit replaced by a new pending one.
  const reissued = await orderOf({ status: 'delivered' });
  await pool.query(`UPDATE order_units SET status = 'replaced' WHERE id = $1`, [reissued.unitId]);
  const replacement = await one<{ id: string }>(
    pool,
    `INSERT INTO order_units (id, order_id, item_id, product_id, replaces_unit_id)
     SELECT gen_random_uuid(), order_id, item_id, product_id, id FROM order_units WHERE id = $1 RETURNING id`,
    [reissued.unitId],
  );
  expect(await bind(pool, { unitId: replacement.id, supplierId: seller, product: reissued.product })).toEqual({
    kind: 'obtained',
    detail: null,
  });

  expect(await bind(pool, { unitId: randomUUID(), supplierId: seller, product: closed.product })).toEqual({
    kind: 'unit_closed',
    detail: null,
  });
});

test('a top-up sale binds with no key', async () => {
  const { product, unitId } = await orderOf({ kind: 'direct_topup' });
  const seller = await insertSupplier();
  expect(await bind(pool, { unitId, supplierId: seller, product, sealedFor: null, transactionId: 'TOPUP-1' })).toEqual({
    kind: 'obtained',
    detail: null,
  });
  expect(await unitOf(unitId)).toEqual(
    expect.objectContaining({ status: 'reserved', supplier_ref: 'TOPUP-1', card_key_id: null }),
  );
});

test("refuses a card key not sealed for the unit's product, or sent without its ciphertext, writing nothing", async () => {
  const { product, unitId } = await orderOf();
  const other = await insertProduct(pool);
  const seller = await insertSupplier();
  for (const sealedFor of [other.id, null]) {
    expect(await refusal(bind(pool, { unitId, supplierId: seller, product, sealedFor }))).toEqual({
      code: 'P0001',
      message: `bind_supplier_sale: the key was not sealed for the unit product ${product.id}`,
    });
  }
  expect(await unitOf(unitId)).toEqual(expect.objectContaining({ status: 'pending' }));
  expect(await attemptsOf(unitId)).toEqual([]);
  expect(await keysFrom(seller)).toEqual([]);
});

test("waits for the order's lock, so it runs after the order's other steps, never beside them", async () => {
  const { product, order, unitId } = await orderOf();
  const seller = await insertSupplier();
  const holder = await pool.connect();
  const binder = await pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM orders WHERE id = $1 FOR UPDATE', [order.id]);
    const { pid } = await one<{ pid: number }>(binder, 'SELECT pg_backend_pid() AS pid');
    const binding = bind(binder, { unitId, supplierId: seller, product });
    await waitFor(
      async () =>
        (await one(pool, 'SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1', [pid])).wait_event_type ===
        'Lock',
      'the binding to wait for the order',
    );
    // The step holding the order closes it meanwhile: the sale finds it closed.
    await holder.query(`UPDATE orders SET status = 'refunded' WHERE id = $1`, [order.id]);
    await holder.query('COMMIT');
    expect(await binding).toEqual({ kind: 'unit_closed', detail: null });
  } finally {
    holder.release();
    binder.release();
  }
});
