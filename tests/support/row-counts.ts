// Row counts of every business table: a rejected request must leave them all unchanged.
// The tables are read from the database, so a table added later is covered too. Rate-limit
// counters are not business data: every attempt, a rejected one too, counts there.
import type { Db } from '../../infra/db';

export async function rowCounts(db: Db): Promise<Record<string, number>> {
  const tables = await db.$queryRaw<{ name: string }[]>`
    SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
       AND table_name NOT IN ('_prisma_migrations', 'rate_limit_buckets')
     ORDER BY table_name`;
  // One round trip for all of them: the fuzzer counts before and after each of thousands of requests.
  const [row] = await db.$queryRawUnsafe<Record<string, bigint>[]>(
    `SELECT ${tables.map(({ name }, i) => `(SELECT count(*) FROM "${name}") AS t${i}`).join(', ')}`,
  );
  return Object.fromEntries(tables.map(({ name }, i) => [name, Number(row?.[`t${i}`])]));
}
