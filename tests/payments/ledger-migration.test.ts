// The move from the single-entry ledger to the double-entry one is a migration, not a reset:
// a database deployed to the state before it, with top-ups, debits and refunds in it, keeps
// every client's balance, every entry (as a balanced transaction with a running balance),
// and an order debited before the move is refunded correctly after it.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { dropDatabase, ensureDatabase } from '../../infra/db';
import { ROOT } from '../support/stack';

jest.setTimeout(120_000);

const MIGRATIONS = path.join(ROOT, 'prisma/migrations');
const LEDGER_MIGRATION = readdirSync(MIGRATIONS).find((d) => d.endsWith('_double_entry_ledger'))!;

function deploy(databaseUrl: string, migrationsDir: string) {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts/prisma.js'), 'migrate', 'deploy'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_MIGRATIONS_DIR: migrationsDir },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`migrate deploy failed:\n${run.stdout}${run.stderr}`);
}

test('existing ledger rows move into the double-entry ledger with their balances', async () => {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `${url.pathname}_ledger_migration`;
  const databaseUrl = url.toString();
  await dropDatabase(databaseUrl);
  await ensureDatabase(databaseUrl);
  const before = mkdtempSync(path.join(tmpdir(), 'rp-migrations-'));
  for (const dir of readdirSync(MIGRATIONS).filter((d) => d < LEDGER_MIGRATION)) {
    cpSync(path.join(MIGRATIONS, dir), path.join(before, dir), { recursive: true });
  }
  deploy(databaseUrl, before);

  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  try {
    const q = async (sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows;
    const [shop] = await q(
      `INSERT INTO clients (id, name, role, api_key_hash, api_key_prefix) VALUES (gen_random_uuid(), 'old shop', 'order-system', 'h', 'p') RETURNING id`,
    );
    const [order] = await q(
      `INSERT INTO orders (id, client_id, external_order_id, request_hash, buyer_id, buyer_ip, amount_minor, currency, workflow_id, status, updated_at)
       VALUES (gen_random_uuid(), $1, 'old-1', 'h', 'b', '203.0.113.7', 700, 'CNY', 'wf-old-1', 'fulfilling', now()) RETURNING id`,
      [shop.id],
    );
    const [refunded] = await q(
      `INSERT INTO orders (id, client_id, external_order_id, request_hash, buyer_id, buyer_ip, amount_minor, currency, workflow_id, status, updated_at)
       VALUES (gen_random_uuid(), $1, 'old-2', 'h', 'b', '203.0.113.7', 300, 'CNY', 'wf-old-2', 'refunded', now()) RETURNING id`,
      [shop.id],
    );
    const entry = (kind: string, minor: number, key: string, orderId: string | null) =>
      q(
        `INSERT INTO ledger_entries (client_id, kind, amount_minor, currency, order_id, idempotency_key) VALUES ($1, $2, $3, 'CNY', $4, $5)`,
        [shop.id, kind, minor, orderId, key],
      );
    await entry('topup', 5000, 'topup:old:1', null);
    await entry('order_debit', -300, `order:${refunded.id}:debit`, refunded.id);
    await entry('order_refund', 300, `order:${refunded.id}:refund`, refunded.id);
    await entry('order_debit', -700, `order:${order.id}:debit`, order.id);

    deploy(databaseUrl, MIGRATIONS);

    const [available] = await q(
      `SELECT balance_minor::int AS minor FROM ledger_accounts WHERE client_id = $1 AND kind = 'client_available'`,
      [shop.id],
    );
    expect(available.minor).toBe(4300);
    const lines = await q(
      `SELECT t.kind, t.idempotency_key AS key, p.amount_minor::int AS amount, p.balance_after_minor::int AS after
         FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id
         JOIN ledger_accounts a ON a.id = p.account_id WHERE a.client_id = $1 ORDER BY p.id`,
      [shop.id],
    );
    expect(lines.map((l) => [l.kind, l.amount, l.after])).toEqual([
      ['topup', 5000, 5000],
      ['capture', -300, 4700],
      ['refund', 300, 5000],
      ['capture', -700, 4300],
    ]);
    const unbalanced = await q(`SELECT transaction_id FROM ledger_postings GROUP BY 1 HAVING sum(amount_minor) <> 0`);
    expect(unbalanced).toEqual([]);
    // The key the old debit was made under still makes the movement once.
    await expect(q(`SELECT * FROM ledger_transactions WHERE idempotency_key = 'topup:old:1'`)).resolves.toHaveLength(1);

    // The order debited before the move is closed after it: its debit is refunded, once.
    await q(`SELECT settle_order_money($1, 0, $2)`, [order.id, `order:${order.id}:refund`]);
    await q(`SELECT settle_order_money($1, 0, $2)`, [order.id, `order:${order.id}:refund`]);
    const [after] = await q(
      `SELECT balance_minor::int AS minor FROM ledger_accounts WHERE client_id = $1 AND kind = 'client_available'`,
      [shop.id],
    );
    expect(after.minor).toBe(5000);
  } finally {
    await pool.end();
    await dropDatabase(databaseUrl);
  }
});
