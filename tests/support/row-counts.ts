// Row counts of every business table: a rejected request must leave them all unchanged.
import type { Db } from '../../infra/db';

const TABLES = [
  'clients',
  'audit_log',
  'products',
  'key_batches',
  'card_keys',
  'orders',
  'order_items',
  'order_units',
  'order_status_history',
  'ledger_entries',
] as const;

export async function rowCounts(db: Db): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const [row] = await db.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM "${table}"`);
    counts[table] = Number(row?.n);
  }
  return counts;
}
