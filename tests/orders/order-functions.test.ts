// Contract tests of the order steps' database functions (prisma/functions: begin_order,
// reserve_order_keys, deliver_order, fulfil_from_stock), each called alone over `pg` on rows
// written for it: every outcome it answers, every refusal, and the locks that keep retries
// and concurrent orders from charging twice, overdrawing or sharing a key.
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { waitFor } from '../support/wait';
import {
  balances,
  insertClient,
  insertKeys,
  insertOrder,
  insertProduct,
  ledgerOf,
  one,
  type OrderRow,
  type ProductRow,
  refusal,
  type Sql,
  testPool,
  topUp,
} from '../support/sql-rows';

let pool: Pool;
beforeAll(() => {
  pool = testPool(6);
});
afterAll(() => pool?.end());

const debitKey = (orderId: string) => `order:${orderId}:debit`;
const begin = (db: Sql, orderId: string, key = debitKey(orderId)) =>
  db.query('SELECT * FROM begin_order($1, $2)', [orderId, key]).then((r) => r.rows);
const reserve = (db: Sql, orderId: string) =>
  one<{ reserved: number; missing: string[] }>(db, 'SELECT * FROM reserve_order_keys($1)', [orderId]);
const deliver = (db: Sql, orderId: string, nonce: string = randomUUID()) =>
  one<{ moved: boolean }>(db, 'SELECT deliver_order($1, $2, $3) AS moved', [orderId, nonce, `hash-${nonce}`]).then(
    (r) => r.moved,
  );
const fulfil = (db: Sql, orderId: string, nonce: string = randomUUID()) =>
  one<{ reserved: number; missing: string[]; delivered: boolean }>(db, 'SELECT * FROM fulfil_from_stock($1, $2, $3)', [
    orderId,
    nonce,
    `hash-${nonce}`,
  ]);

const orderState = (orderId: string) =>
  one<{ status: string; reason: string | null; claim_nonce: string | null }>(
    pool,
    'SELECT status::text, status_reason AS reason, claim_nonce FROM orders WHERE id = $1',
    [orderId],
  );
const historyOf = async (orderId: string) =>
  (
    await pool.query('SELECT status::text, reason FROM order_status_history WHERE order_id = $1 ORDER BY id', [orderId])
  ).rows.map((r) => [r.status, r.reason]);
const unitsOf = async (orderId: string) =>
  (
    await pool.query(
      `SELECT u.status::text AS status, u.card_key_id AS key, k.status::text AS key_status
         FROM order_units u LEFT JOIN card_keys k ON k.id = u.card_key_id
        WHERE u.order_id = $1 ORDER BY u.created_at`,
      [orderId],
    )
  ).rows;

async function withClient<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    return await fn(c);
  } finally {
    c.release();
  }
}

/** A client with `balance` and a received order of `units` units of a new product (price 500). */
async function receivedOrder(
  options: { balance?: number; units?: number; webhookUrl?: string; paymentMethod?: 'balance' | 'stripe' } = {},
) {
  const clientId = await insertClient(pool, { webhookUrl: options.webhookUrl });
  if (options.balance) await topUp(pool, clientId, options.balance);
  const product = await insertProduct(pool);
  const order = await insertOrder(pool, {
    clientId,
    product,
    units: options.units ?? 1,
    paymentMethod: options.paymentMethod,
  });
  return { clientId, product, order };
}

/** A fulfilling order with its amount held, as the workflow's charging step leaves it. */
async function fulfillingOrder(units: number): Promise<{ clientId: string; product: ProductRow; order: OrderRow }> {
  const made = await receivedOrder({ balance: units * 500, units });
  expect(await begin(pool, made.order.id)).toEqual([expect.objectContaining({ status: 'fulfilling', moved: true })]);
  return made;
}

describe('begin_order', () => {
  test('holds the amount once for two calls with one key, concurrent or not', async () => {
    const { clientId, order } = await receivedOrder({ balance: 2000, units: 2 });
    const calls = await Promise.all([withClient((c) => begin(c, order.id)), withClient((c) => begin(c, order.id))]);
    const answers = calls.map((rows) => rows[0]);
    const row = { status: 'fulfilling', reason: null, units: 2, notify: false };
    expect(answers).toEqual(
      expect.arrayContaining([
        { ...row, moved: true },
        { ...row, moved: false },
      ]),
    );
    expect(await begin(pool, order.id)).toEqual([{ ...row, moved: false }]);
    expect(await ledgerOf(pool, order.id)).toEqual([['hold', 1000, debitKey(order.id)]]);
    expect(await balances(pool, clientId)).toEqual({ available: 1000, held: 1000 });
    expect(await historyOf(order.id)).toEqual([['fulfilling', null]]);
  });

  test('refuses an insufficient balance: the order fails and nothing is held', async () => {
    const { clientId, order } = await receivedOrder({ balance: 400 });
    const failed = { status: 'failed', reason: 'insufficient balance', units: 1, notify: false };
    expect(await begin(pool, order.id)).toEqual([{ ...failed, moved: true }]);
    expect(await begin(pool, order.id)).toEqual([{ ...failed, moved: false }]);
    expect(await ledgerOf(pool, order.id)).toEqual([]);
    expect(await balances(pool, clientId)).toEqual({ available: 400, held: 0 });
    expect(await historyOf(order.id)).toEqual([['failed', 'insufficient balance']]);
  });

  test('answers an order past received as it is, and no row for a missing order', async () => {
    const { order } = await receivedOrder({ balance: 500, webhookUrl: 'https://shop.example/hooks' });
    await pool.query(`UPDATE orders SET status = 'in_review' WHERE id = $1`, [order.id]);
    expect(await begin(pool, order.id)).toEqual([
      { status: 'in_review', reason: null, units: 1, notify: true, moved: false },
    ]);
    expect(await ledgerOf(pool, order.id)).toEqual([]);
    expect(await begin(pool, randomUUID())).toEqual([]);
  });

  test('a provider-paid order waits for its authorization, then begins without a hold, or fails on a decline', async () => {
    const { order } = await receivedOrder({ paymentMethod: 'stripe' });
    const received = { status: 'received', reason: null, units: 1, notify: false, moved: false };
    expect(await begin(pool, order.id)).toEqual([received]);
    const payment = await one<{ id: string }>(
      pool,
      `INSERT INTO provider_payments (id, order_id, provider, method_ref, amount_minor, currency)
       VALUES (gen_random_uuid(), $1, 'stripe', 'pm_card_visa', 500, 'CNY') RETURNING id`,
      [order.id],
    );
    expect(await begin(pool, order.id)).toEqual([received]);
    await pool.query(`UPDATE provider_payments SET status = 'authorized' WHERE id = $1`, [payment.id]);
    expect(await begin(pool, order.id)).toEqual([{ ...received, status: 'fulfilling', moved: true }]);
    expect(await ledgerOf(pool, order.id)).toEqual([]);

    const declined = await receivedOrder({ paymentMethod: 'stripe' });
    await pool.query(
      `INSERT INTO provider_payments (id, order_id, provider, method_ref, amount_minor, currency, status, decline_reason)
       VALUES (gen_random_uuid(), $1, 'stripe', 'pm_card_visa', 500, 'CNY', 'declined', 'card_declined')`,
      [declined.order.id],
    );
    expect(await begin(pool, declined.order.id)).toEqual([
      { ...received, status: 'failed', reason: 'payment declined: card_declined', moved: true },
    ]);
    expect(await historyOf(declined.order.id)).toEqual([['failed', 'payment declined: card_declined']]);
  });

  test("locks the order before the client's accounts", async () => {
    const { clientId, order } = await receivedOrder({ balance: 500 });
    const holder = await pool.connect();
    const charger = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM ledger_accounts WHERE client_id = $1 FOR UPDATE', [clientId]);
      const { pid } = await one<{ pid: number }>(charger, 'SELECT pg_backend_pid() AS pid');
      const charging = begin(charger, order.id);
      await waitFor(
        async () =>
          (await one(pool, 'SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1', [pid])).wait_event_type ===
          'Lock',
        'begin_order to wait for the account lock',
      );
      // It waits on the accounts while holding the order.
      expect(await refusal(pool.query('SELECT 1 FROM orders WHERE id = $1 FOR UPDATE NOWAIT', [order.id]))).toEqual(
        expect.objectContaining({ code: '55P03' }),
      );
      await holder.query('ROLLBACK');
      expect(await charging).toEqual([expect.objectContaining({ status: 'fulfilling', moved: true })]);
    } finally {
      holder.release();
      charger.release();
    }
  });
});

describe('reserve_order_keys', () => {
  test('binds the oldest available keys to the pending units, and a retry claims no more', async () => {
    const { product, order } = await fulfillingOrder(2);
    const keys = await insertKeys(pool, product.id, 3);
    expect(await reserve(pool, order.id)).toEqual({ reserved: 2, missing: [] });
    const bound = [
      { status: 'reserved', key: keys[0], key_status: 'reserved' },
      { status: 'reserved', key: keys[1], key_status: 'reserved' },
    ];
    expect(await unitsOf(order.id)).toEqual(bound);
    expect(await reserve(pool, order.id)).toEqual({ reserved: 2, missing: [] });
    expect(await unitsOf(order.id)).toEqual(bound);
    const spare = await one(pool, 'SELECT status::text, reserved_by_unit_id FROM card_keys WHERE id = $1', [keys[2]]);
    expect(spare).toEqual({ status: 'available', reserved_by_unit_id: null });
    const claimed = await pool.query(
      'SELECT reserved_by_unit_id AS unit FROM card_keys WHERE id = ANY($1) ORDER BY created_at',
      [keys.slice(0, 2)],
    );
    expect(claimed.rows.map((r) => r.unit)).toEqual(order.unitIds);
  });

  test('names the units left without a key when stock runs out, and fills them once keys arrive', async () => {
    const { product, order } = await fulfillingOrder(3);
    await insertKeys(pool, product.id, 1);
    expect(await reserve(pool, order.id)).toEqual({ reserved: 1, missing: order.unitIds.slice(1) });
    await insertKeys(pool, product.id, 2);
    expect(await reserve(pool, order.id)).toEqual({ reserved: 3, missing: [] });
  });

  test('skips a key another transaction holds instead of waiting for it', async () => {
    const { product, order } = await fulfillingOrder(1);
    const [locked, free] = await insertKeys(pool, product.id, 2);
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM card_keys WHERE id = $1 FOR UPDATE', [locked]);
      const bound = await withClient(async (c) => {
        // Waiting for the held key would fail this call, not hang it.
        await c.query(`SET lock_timeout = '2s'`);
        try {
          return await reserve(c, order.id);
        } finally {
          await c.query('RESET lock_timeout');
        }
      });
      expect(bound).toEqual({ reserved: 1, missing: [] });
      expect(await unitsOf(order.id)).toEqual([{ status: 'reserved', key: free, key_status: 'reserved' }]);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });

  test('never reserves one key for two orders, however they interleave', async () => {
    const first = await fulfillingOrder(1);
    const second = await insertOrder(pool, { clientId: first.clientId, product: first.product, status: 'fulfilling' });
    const [key] = await insertKeys(pool, first.product.id, 1);
    const results = await Promise.all([
      withClient((c) => reserve(c, first.order.id)),
      withClient((c) => reserve(c, second.id)),
    ]);
    expect(results.map((r) => r.reserved).sort()).toEqual([0, 1]);
    const holders = await pool.query('SELECT id FROM order_units WHERE card_key_id = $1', [key]);
    expect(holders.rows).toHaveLength(1);
    expect([...first.order.unitIds, ...second.unitIds]).toContain(holders.rows[0].id);
  });

  test('reserves nothing for an order that is not fulfilling', async () => {
    const { product, order } = await receivedOrder({ balance: 500 });
    const [key] = await insertKeys(pool, product.id, 1);
    expect(await reserve(pool, order.id)).toEqual({ reserved: 0, missing: order.unitIds });
    expect(await one(pool, 'SELECT status::text FROM card_keys WHERE id = $1', [key])).toEqual({ status: 'available' });
  });
});

describe('deliver_order', () => {
  test('delivers a fulfilling order whose units all hold keys, capturing its hold, once', async () => {
    const { clientId, product, order } = await fulfillingOrder(2);
    await insertKeys(pool, product.id, 2);
    await reserve(pool, order.id);
    expect(await deliver(pool, order.id, 'nonce-1')).toBe(true);
    expect(await orderState(order.id)).toEqual({ status: 'delivered', reason: null, claim_nonce: 'nonce-1' });
    expect((await unitsOf(order.id)).map((u) => [u.status, u.key_status])).toEqual([
      ['delivered', 'delivered'],
      ['delivered', 'delivered'],
    ]);
    expect(await historyOf(order.id)).toEqual([
      ['fulfilling', null],
      ['delivered', null],
    ]);
    const captured = [
      ['hold', 1000, debitKey(order.id)],
      ['capture', 1000, `order:${order.id}:capture`],
    ];
    expect(await ledgerOf(pool, order.id)).toEqual(captured);
    expect(await balances(pool, clientId)).toEqual({ available: 0, held: 0 });

    expect(await deliver(pool, order.id, 'nonce-2')).toBe(false);
    expect(await orderState(order.id)).toEqual(expect.objectContaining({ claim_nonce: 'nonce-1' }));
    expect(await ledgerOf(pool, order.id)).toEqual(captured);
  });

  test('refuses while a unit has no key, then keeps a claim token the order already has', async () => {
    const { product, order } = await fulfillingOrder(2);
    await insertKeys(pool, product.id, 1);
    await reserve(pool, order.id);
    expect(await deliver(pool, order.id)).toBe(false);
    expect(await orderState(order.id)).toEqual(expect.objectContaining({ status: 'fulfilling' }));
    expect((await unitsOf(order.id)).map((u) => u.status)).toEqual(['reserved', 'pending']);
    expect(await ledgerOf(pool, order.id)).toEqual([['hold', 1000, debitKey(order.id)]]);

    await insertKeys(pool, product.id, 1);
    await reserve(pool, order.id);
    await pool.query(`UPDATE orders SET claim_nonce = 'earlier', claim_token_hash = 'earlier-hash' WHERE id = $1`, [
      order.id,
    ]);
    expect(await deliver(pool, order.id, 'later')).toBe(true);
    expect(await orderState(order.id)).toEqual({ status: 'delivered', reason: null, claim_nonce: 'earlier' });
  });

  test('refuses an order that is not fulfilling, even with every unit reserved', async () => {
    const { product, order } = await receivedOrder({ balance: 500 });
    const [key] = await insertKeys(pool, product.id, 1);
    await pool.query(`UPDATE order_units SET status = 'reserved', card_key_id = $2 WHERE id = $1`, [
      order.unitIds[0],
      key,
    ]);
    expect(await deliver(pool, order.id)).toBe(false);
    expect(await orderState(order.id)).toEqual({ status: 'received', reason: null, claim_nonce: null });
    expect((await unitsOf(order.id)).map((u) => u.status)).toEqual(['reserved']);
    expect(await historyOf(order.id)).toEqual([]);
  });
});

describe('fulfil_from_stock', () => {
  test('reserves and delivers in one call when stock covers every unit; a retry does nothing more', async () => {
    const { product, order } = await fulfillingOrder(2);
    await insertKeys(pool, product.id, 2);
    expect(await fulfil(pool, order.id)).toEqual({ reserved: 2, missing: [], delivered: true });
    expect(await orderState(order.id)).toEqual(expect.objectContaining({ status: 'delivered' }));
    expect(await ledgerOf(pool, order.id)).toEqual([
      ['hold', 1000, debitKey(order.id)],
      ['capture', 1000, `order:${order.id}:capture`],
    ]);
    expect(await fulfil(pool, order.id)).toEqual({ reserved: 2, missing: [], delivered: false });
    expect(await ledgerOf(pool, order.id)).toHaveLength(2);
  });

  test('reserves what stock there is and leaves the order fulfilling while a unit is missing', async () => {
    const { product, order } = await fulfillingOrder(2);
    await insertKeys(pool, product.id, 1);
    expect(await fulfil(pool, order.id)).toEqual({ reserved: 1, missing: [order.unitIds[1]], delivered: false });
    expect(await orderState(order.id)).toEqual(expect.objectContaining({ status: 'fulfilling' }));
    expect(await ledgerOf(pool, order.id)).toEqual([['hold', 1000, debitKey(order.id)]]);
    await insertKeys(pool, product.id, 1);
    expect(await fulfil(pool, order.id)).toEqual({ reserved: 2, missing: [], delivered: true });
  });
});
