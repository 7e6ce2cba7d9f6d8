// Contract test of refuse_change (prisma/functions), the trigger function that makes a table
// append-only in the database: on a table of the test's own, then on each table the
// migrations attach it to, an update and a delete are refused and the row stays; inserts pass.
// Every trigger that uses it fires before each row's update and delete.
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { insertClient, insertOrder, insertProduct, one, refusal, testPool, topUp } from '../support/sql-rows';

let pool: Pool;
beforeAll(() => {
  pool = testPool(2);
});
afterAll(() => pool?.end());

// pg_trigger.tgtype bits (PostgreSQL's catalog/pg_trigger.h).
const [ROW, BEFORE, DELETE, UPDATE] = [1, 2, 8, 16];

const refused = (table: string) => ({ code: '42501', message: `table ${table} is append-only` });

test('refuses every update and delete of a row, with the table named, and lets inserts through', async () => {
  const c = await pool.connect();
  try {
    // A temporary table is this session's alone: the trigger is tested on nothing else.
    await c.query('CREATE TEMPORARY TABLE appended (id int, note text)');
    await c.query(
      'CREATE TRIGGER appended_append_only BEFORE UPDATE OR DELETE ON appended FOR EACH ROW EXECUTE FUNCTION refuse_change()',
    );
    await c.query(`INSERT INTO appended VALUES (1, 'first'), (2, 'second')`);
    expect(await refusal(c.query(`UPDATE appended SET note = 'changed' WHERE id = 1`))).toEqual(refused('appended'));
    expect(await refusal(c.query('DELETE FROM appended'))).toEqual(refused('appended'));
    expect((await c.query('SELECT id, note FROM appended ORDER BY id')).rows).toEqual([
      { id: 1, note: 'first' },
      { id: 2, note: 'second' },
    ]);
  } finally {
    await c.query('DROP TABLE IF EXISTS appended');
    c.release();
  }
});

test('the audit log, the order status history and the ledger are append-only', async () => {
  const clientId = await insertClient(pool);
  await topUp(pool, clientId, 100);
  const order = await insertOrder(pool, { clientId, product: await insertProduct(pool) });
  await pool.query('SELECT * FROM begin_order($1, $2)', [order.id, `order:${order.id}:debit`]);
  const audit = await one<{ id: string }>(
    pool,
    `INSERT INTO audit_log (actor, action, subject_type, subject_id) VALUES ('test', 'test.appended', 'test', $1) RETURNING id`,
    [randomUUID()],
  );
  const rows: [table: string, where: string, value: string][] = [
    ['audit_log', 'id = $1', audit.id],
    ['order_status_history', 'order_id = $1', order.id],
    ['ledger_transactions', 'client_id = $1', clientId],
    ['ledger_postings', 'transaction_id IN (SELECT id FROM ledger_transactions WHERE client_id = $1)', clientId],
  ];
  for (const [table, where, value] of rows) {
    const before = (await pool.query(`SELECT * FROM ${table} WHERE ${where} ORDER BY id`, [value])).rows;
    expect({ table, rows: before.length > 0 }).toEqual({ table, rows: true });
    expect(await refusal(pool.query(`UPDATE ${table} SET id = id WHERE ${where}`, [value]))).toEqual(refused(table));
    expect(await refusal(pool.query(`DELETE FROM ${table} WHERE ${where}`, [value]))).toEqual(refused(table));
    expect((await pool.query(`SELECT * FROM ${table} WHERE ${where} ORDER BY id`, [value])).rows).toEqual(before);
  }
  // Wherever a migration attaches it, it runs before each row's update and delete.
  const triggers = await pool.query(
    `SELECT tgrelid::regclass::text AS "table", tgtype & $1 = $1 AS "beforeEachUpdateAndDelete"
       FROM pg_trigger WHERE tgfoid = 'refuse_change'::regproc ORDER BY 1`,
    [ROW | BEFORE | DELETE | UPDATE],
  );
  expect(triggers.rows.map((r) => r.table)).toEqual(expect.arrayContaining(rows.map(([table]) => table)));
  for (const trigger of triggers.rows)
    expect(trigger).toEqual({ table: trigger.table, beforeEachUpdateAndDelete: true });
});
