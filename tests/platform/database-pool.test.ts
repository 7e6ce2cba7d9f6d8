// The shared connection pool (infra/db.ts): idle connections stay open, so a backend keeps the
// statements it prepared; one that breaks while idle leaves the pool without taking the
// process down; closeDb closes a client's connections whether or not Prisma ever connected.
import { Client } from 'pg';
import { closeDb, createDb, type Db, sqlOf } from '../../infra/db';
import { testConfig } from '../support/stack';

const databaseUrl = testConfig().DATABASE_URL;
let db: Db;
let admin: Client;
beforeAll(async () => {
  db = createDb(databaseUrl, 1);
  admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
});
afterAll(async () => {
  await admin.end();
  await closeDb(db);
});

const backendPid = async () =>
  (await sqlOf(db).rows<{ pid: number }>('SELECT pg_backend_pid() AS pid', [], 'backend_pid'))[0]!.pid;

test('an idle connection outlives pg’s default 10 s idle timeout, with its prepared statements', async () => {
  const first = await backendPid();
  await new Promise((resolve) => setTimeout(resolve, 11_000));
  expect(await backendPid()).toBe(first);
  const prepared = await sqlOf(db).rows<{ name: string }>('SELECT name FROM pg_prepared_statements', []);
  expect(prepared.map((p) => p.name)).toContain('backend_pid');
  const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1`, [
    first,
  ]);
  expect(rows[0]!.n).toBe(1);
}, 20_000);

test('an idle connection terminated by the server leaves the pool; the next call gets a new one', async () => {
  const before = await backendPid();
  await admin.query('SELECT pg_terminate_backend($1)', [before]);
  // The idle client sees its socket close; the pool drops it (no crash: the pool has an error listener).
  let after = before;
  for (let i = 0; i < 50 && after === before; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    after = await backendPid().catch(() => before);
  }
  expect(after).not.toBe(before);
});

test('closeDb closes the connections of a client that only ran plain SQL (Prisma never connected)', async () => {
  const other = createDb(databaseUrl, 1);
  const pid = (await sqlOf(other).rows<{ pid: number }>('SELECT pg_backend_pid() AS pid', []))[0]!.pid;
  await closeDb(other);
  let open = 1;
  for (let i = 0; i < 50 && open > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { rows } = await admin.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1',
      [pid],
    );
    open = rows[0]!.n;
  }
  expect(open).toBe(0);
});
