// Contract tests of the ledger's database functions (prisma/functions: ledger_account,
// ledger_transfer, ledger_transaction_balanced, settle_order_money), each called alone over
// `pg` on rows written for it: every outcome it answers, every refusal, and the locks that
// keep one key from moving money twice and a hold and a release of one client from deadlocking.
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { waitFor } from '../support/wait';
import {
  balances,
  insertClient,
  insertOrder,
  insertProduct,
  ledgerOf,
  one,
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

interface Moved {
  transaction_id: string | null;
  created: boolean;
  sufficient: boolean;
}

const transfer = (
  db: Sql,
  t: { kind: string; key: string; client: string | null; order?: string; amount: number; from: string; to: string },
) =>
  one<Moved>(db, 'SELECT * FROM ledger_transfer($1, $2, $3, $4, $5, $6, $7, $8, NULL)', [
    t.kind,
    t.key,
    t.client,
    t.order ?? null,
    'CNY',
    t.amount,
    t.from,
    t.to,
  ]);
const account = (db: Sql, kind: string, client: string | null, currency = 'CNY') =>
  one<{ id: string }>(db, 'SELECT ledger_account($1, $2, $3) AS id', [kind, client, currency]).then((r) => r.id);
const settle = (orderId: string, captureMinor: number) =>
  one<{ charged: boolean }>(pool, 'SELECT settle_order_money($1, $2, $3) AS charged', [
    orderId,
    captureMinor,
    `order:${orderId}:refund`,
  ]).then((r) => r.charged);

async function connected<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    return await fn(c);
  } finally {
    c.release();
  }
}

async function lockWaitOf(pid: number): Promise<boolean> {
  return (
    (await one(pool, 'SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1', [pid])).wait_event_type === 'Lock'
  );
}

describe('ledger_account', () => {
  test("creates a client's account of a kind on first use and answers the same one after", async () => {
    const client = await insertClient(pool);
    const available = await account(pool, 'client_available', client);
    expect(await account(pool, 'client_available', client)).toBe(available);
    const held = await account(pool, 'client_held', client);
    expect(held).not.toBe(available);
    expect(await account(pool, 'client_available', client, 'USD')).not.toBe(available);
    expect(
      await one(
        pool,
        'SELECT kind::text, client_id, balance_minor::int AS balance FROM ledger_accounts WHERE id = $1',
        [held],
      ),
    ).toEqual({
      kind: 'client_held',
      client_id: client,
      balance: 0,
    });
  });

  test('a platform account is one per currency, whichever client asks', async () => {
    const revenue = await account(pool, 'platform_revenue', await insertClient(pool), 'XTS');
    expect(await account(pool, 'platform_revenue', null, 'XTS')).toBe(revenue);
    expect(await one(pool, 'SELECT client_id FROM ledger_accounts WHERE id = $1', [revenue])).toEqual({
      client_id: null,
    });
  });

  test('two first uses at once make one account', async () => {
    const client = await insertClient(pool);
    const first = await pool.connect();
    const second = await pool.connect();
    try {
      await first.query('BEGIN');
      const made = await account(first, 'client_available', client);
      const { pid } = await one<{ pid: number }>(second, 'SELECT pg_backend_pid() AS pid');
      const racing = account(second, 'client_available', client);
      await waitFor(() => lockWaitOf(pid), 'the second first use to wait on the first one');
      await first.query('COMMIT');
      expect(await racing).toBe(made);
    } finally {
      first.release();
      second.release();
    }
    expect((await pool.query('SELECT 1 FROM ledger_accounts WHERE client_id = $1', [client])).rows).toHaveLength(1);
  });
});

describe('ledger_transfer', () => {
  test('moves money once under a key: the key again answers the first transaction, whatever it asks for', async () => {
    const client = await insertClient(pool);
    const key = `topup:${randomUUID()}`;
    const topup = { kind: 'topup', key, client, amount: 1000, from: 'platform_funding', to: 'client_available' };
    const first = await transfer(pool, topup);
    expect(first).toEqual({ transaction_id: expect.any(String), created: true, sufficient: true });
    expect(await transfer(pool, { ...topup, amount: 999 })).toEqual({ ...first, created: false });
    expect(await balances(pool, client)).toEqual({ available: 1000, held: 0 });
    const postings = await pool.query(
      `SELECT a.kind::text, p.amount_minor::int AS amount, p.balance_after_minor::int AS after
         FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
        WHERE p.transaction_id = $1 ORDER BY p.amount_minor`,
      [first.transaction_id],
    );
    // Two legs that sum to zero; only the client's carries a running balance.
    expect(postings.rows).toEqual([
      { kind: 'platform_funding', amount: -1000, after: null },
      { kind: 'client_available', amount: 1000, after: 1000 },
    ]);
  });

  test('two concurrent calls with one key make one transaction', async () => {
    const client = await insertClient(pool);
    const topup = {
      kind: 'topup',
      key: `topup:${randomUUID()}`,
      client,
      amount: 700,
      from: 'platform_funding',
      to: 'client_available',
    };
    const answers = await Promise.all([connected((c) => transfer(c, topup)), connected((c) => transfer(c, topup))]);
    expect(answers.map((a) => a.created).sort()).toEqual([false, true]);
    expect(answers[0]!.transaction_id).toBe(answers[1]!.transaction_id);
    expect(await balances(pool, client)).toEqual({ available: 700, held: 0 });
  });

  test('refuses to take more than a client account holds, and moves nothing for a non-positive amount', async () => {
    const client = await insertClient(pool);
    await topUp(pool, client, 300);
    const hold = {
      kind: 'hold',
      key: `hold:${randomUUID()}`,
      client,
      amount: 500,
      from: 'client_available',
      to: 'client_held',
    };
    expect(await transfer(pool, hold)).toEqual({ transaction_id: null, created: false, sufficient: false });
    expect(await transfer(pool, { ...hold, amount: 0 })).toEqual({
      transaction_id: null,
      created: false,
      sufficient: true,
    });
    expect(await transfer(pool, { ...hold, amount: -5 })).toEqual({
      transaction_id: null,
      created: false,
      sufficient: true,
    });
    expect((await pool.query('SELECT 1 FROM ledger_transactions WHERE idempotency_key = $1', [hold.key])).rows).toEqual(
      [],
    );
    expect(await balances(pool, client)).toEqual({ available: 300, held: 0 });
    // The key was not used up by the refusal.
    expect(await transfer(pool, { ...hold, amount: 300 })).toEqual(expect.objectContaining({ created: true }));
  });

  test("locks a client's two accounts in id order, whichever way the money moves", async () => {
    const client = await insertClient(pool);
    await topUp(pool, client, 1000);
    await transfer(pool, {
      kind: 'hold',
      key: `hold:${randomUUID()}`,
      client,
      amount: 500,
      from: 'client_available',
      to: 'client_held',
    });
    const ids = [await account(pool, 'client_available', client), await account(pool, 'client_held', client)];
    const [low, high] = [...ids].sort();
    const kindOf = (id: string) => (id === ids[0] ? 'client_available' : 'client_held');
    for (const [from, to] of [
      [high!, low!],
      [low!, high!],
    ]) {
      const holder = await pool.connect();
      const mover = await pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM ledger_accounts WHERE id = $1 FOR UPDATE', [high]);
        const { pid } = await one<{ pid: number }>(mover, 'SELECT pg_backend_pid() AS pid');
        const kind = kindOf(from!) === 'client_available' ? 'hold' : 'release';
        const moving = transfer(mover, {
          kind,
          key: `${kind}:${randomUUID()}`,
          client,
          amount: 100,
          from: kindOf(from!),
          to: kindOf(to!),
        });
        await waitFor(() => lockWaitOf(pid), 'the transfer to wait for the higher account');
        // Waiting for the higher id, it already holds the lower one.
        expect(
          await refusal(pool.query('SELECT 1 FROM ledger_accounts WHERE id = $1 FOR UPDATE NOWAIT', [low])),
        ).toEqual(expect.objectContaining({ code: '55P03' }));
        await holder.query('ROLLBACK');
        expect(await moving).toEqual(expect.objectContaining({ created: true }));
      } finally {
        holder.release();
        mover.release();
      }
    }
    expect(await balances(pool, client)).toEqual({ available: 500, held: 500 });
  });
});

describe('ledger_transaction_balanced', () => {
  const platformTransaction = async (db: Sql) => {
    const funding = await account(db, 'platform_funding', null);
    const revenue = await account(db, 'platform_revenue', null);
    const tx = await one<{ id: string }>(
      db,
      `INSERT INTO ledger_transactions (kind, idempotency_key, currency, amount_minor)
       VALUES ('capture', $1, 'CNY', 100) RETURNING id`,
      [`unbalanced:${randomUUID()}`],
    );
    const post = (accountId: string, amount: number) =>
      db.query('INSERT INTO ledger_postings (transaction_id, account_id, amount_minor) VALUES ($1, $2, $3)', [
        tx.id,
        accountId,
        amount,
      ]);
    return { id: tx.id, funding, revenue, post };
  };

  test('a ledger transaction whose postings do not sum to zero fails when it commits, and leaves nothing', async () => {
    const key = await connected(async (c) => {
      await c.query('BEGIN');
      const tx = await platformTransaction(c);
      // Checked at commit: one leg alone is accepted until then.
      await tx.post(tx.revenue, 100);
      expect(await refusal(c.query('COMMIT'))).toEqual({
        code: '23514',
        message: `ledger transaction ${tx.id} does not balance`,
      });
      return tx.id;
    });
    expect((await pool.query('SELECT 1 FROM ledger_transactions WHERE id = $1', [key])).rows).toEqual([]);
  });

  test('postings that sum to zero pass the check', async () => {
    await connected(async (c) => {
      await c.query('BEGIN');
      try {
        const tx = await platformTransaction(c);
        await tx.post(tx.revenue, 100);
        await tx.post(tx.funding, -100);
        // Runs the deferred check now instead of at commit (and the test leaves no rows).
        await c.query('SET CONSTRAINTS ledger_postings_balanced IMMEDIATE');
        // Immediate from here on: one more leg unbalances it at once.
        expect(await refusal(tx.post(tx.funding, -1))).toEqual(expect.objectContaining({ code: '23514' }));
      } finally {
        await c.query('ROLLBACK');
      }
    });
  });
});

describe('settle_order_money', () => {
  /** A fulfilling order of `units` × 500 with its amount held, as begin_order leaves it. */
  async function heldOrder(units: number) {
    const clientId = await insertClient(pool);
    await topUp(pool, clientId, 5000);
    const order = await insertOrder(pool, { clientId, product: await insertProduct(pool), units });
    await pool.query('SELECT * FROM begin_order($1, $2)', [order.id, `order:${order.id}:debit`]);
    return { clientId, order };
  }

  test('captures what was delivered from the hold and releases the rest, once', async () => {
    const { clientId, order } = await heldOrder(2);
    expect(await settle(order.id, 500)).toBe(true);
    const settled = [
      ['hold', 1000, `order:${order.id}:debit`],
      ['capture', 500, `order:${order.id}:capture`],
      ['release', 500, `order:${order.id}:refund`],
    ];
    expect(await ledgerOf(pool, order.id)).toEqual(settled);
    expect(await balances(pool, clientId)).toEqual({ available: 4500, held: 0 });
    expect(await settle(order.id, 500)).toBe(true);
    expect(await ledgerOf(pool, order.id)).toEqual(settled);
  });

  test('captures the whole hold with nothing to release, or releases it all with nothing delivered', async () => {
    const all = await heldOrder(1);
    expect(await settle(all.order.id, 500)).toBe(true);
    expect((await ledgerOf(pool, all.order.id)).map(([kind]) => kind)).toEqual(['hold', 'capture']);
    const none = await heldOrder(1);
    expect(await settle(none.order.id, 0)).toBe(true);
    expect((await ledgerOf(pool, none.order.id)).map(([kind]) => kind)).toEqual(['hold', 'release']);
    expect(await balances(pool, none.clientId)).toEqual({ available: 5000, held: 0 });
  });

  test('refunds the undelivered rest of an order the single-entry ledger debited', async () => {
    const clientId = await insertClient(pool);
    await topUp(pool, clientId, 1000);
    const order = await insertOrder(pool, {
      clientId,
      product: await insertProduct(pool),
      units: 2,
      status: 'fulfilling',
    });
    // The double-entry migration moved such a debit in as a capture under the order's debit key.
    await transfer(pool, {
      kind: 'capture',
      key: `order:${order.id}:debit`,
      client: clientId,
      order: order.id,
      amount: 1000,
      from: 'client_available',
      to: 'platform_revenue',
    });
    expect(await settle(order.id, 500)).toBe(true);
    expect(await settle(order.id, 500)).toBe(true);
    expect(await ledgerOf(pool, order.id)).toEqual([
      ['capture', 1000, `order:${order.id}:debit`],
      ['refund', 500, `order:${order.id}:refund`],
    ]);
    expect(await balances(pool, clientId)).toEqual({ available: 500, held: 0 });
  });

  test('marks an authorized provider payment for capture, leaves any other as it is, and answers whether the order was charged', async () => {
    const clientId = await insertClient(pool);
    const product = await insertProduct(pool);
    const paidOrder = async (status: string | null) => {
      const order = await insertOrder(pool, {
        clientId,
        product,
        units: 2,
        status: 'fulfilling',
        paymentMethod: 'stripe',
      });
      if (status) {
        await pool.query(
          `INSERT INTO provider_payments (id, order_id, provider, method_ref, amount_minor, currency, status)
           VALUES (gen_random_uuid(), $1, 'stripe', 'pm_card_visa', 1000, 'CNY', $2)`,
          [order.id, status],
        );
      }
      return order.id;
    };
    const paymentOf = (orderId: string) =>
      one(pool, 'SELECT status::text, capture_due_minor::int AS due FROM provider_payments WHERE order_id = $1', [
        orderId,
      ]);

    const authorized = await paidOrder('authorized');
    expect(await settle(authorized, 500)).toBe(true);
    expect(await paymentOf(authorized)).toEqual({ status: 'settling', due: 500 });
    expect(await settle(authorized, 1000)).toBe(true);
    expect(await paymentOf(authorized)).toEqual({ status: 'settling', due: 500 });

    const pending = await paidOrder('pending');
    expect(await settle(pending, 500)).toBe(false);
    expect(await paymentOf(pending)).toEqual({ status: 'pending', due: null });
    const declined = await paidOrder('declined');
    expect(await settle(declined, 0)).toBe(false);
    const voided = await paidOrder('voided');
    expect(await settle(voided, 0)).toBe(true);
    expect(await paymentOf(voided)).toEqual({ status: 'voided', due: null });
    expect(await settle(await paidOrder(null), 0)).toBe(false);
    expect(await ledgerOf(pool, authorized)).toEqual([]);
  });
});
