// Real PostgreSQL errors on demand: a trigger that raises a chosen SQLSTATE on one table while
// a condition holds (scoped to one test's product or client), removed when the test is done.
import type { Db } from '../../infra/db';

export async function injectFault(
  db: Db,
  table: string,
  when: 'BEFORE UPDATE' | 'BEFORE INSERT',
  condition: string,
  sqlState: string,
) {
  const name = `fault_${Math.random().toString(36).slice(2, 10)}`;
  await db.$executeRawUnsafe(`
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF ${condition} THEN RAISE EXCEPTION 'injected fault ${name}' USING ERRCODE = '${sqlState}'; END IF;
      RETURN NEW;
    END $$`);
  await db.$executeRawUnsafe(`CREATE TRIGGER ${name} ${when} ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`);
  return {
    name,
    remove: async () => {
      await db.$executeRawUnsafe(`DROP TRIGGER ${name} ON ${table}`);
      await db.$executeRawUnsafe(`DROP FUNCTION ${name}()`);
    },
  };
}
