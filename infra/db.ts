// One Prisma client per process, over the node-postgres driver adapter (no native engine).
import { PrismaPg } from '@prisma/adapter-pg';
import { Prisma, PrismaClient } from '@prisma/client';
import { Client as PgClient, Pool } from 'pg';

export { Prisma };
export type Db = PrismaClient;
/** A client or an open interactive transaction: store functions accept either. */
export type DbTx = Prisma.TransactionClient;

const pools = new WeakMap<Db, Pool>();

/** Prisma over one node-postgres pool, which `sqlOf` shares for the measured hot paths. */
export function createDb(databaseUrl: string, poolSize = 10): Db {
  // Idle connections stay open (pg closes them after 10 s by default): a backend opened again
  // on the next burst costs a fork and replans every function and prepared statement it
  // runs, which showed as a steady churn of backends under the bench's closed loop. Idle
  // ones do not keep a process alive; `closeDb` closes them.
  const pool = new Pool({ connectionString: databaseUrl, max: poolSize, idleTimeoutMillis: 0, allowExitOnIdle: true });
  // An idle connection that breaks (a database restart, a terminated backend) leaves the
  // pool and the next query opens another: its error is not the process's to crash on.
  pool.on('error', () => undefined);
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, pool);
  return db;
}

/**
 * Closes the client and its pool. Prisma ends the pool only if it ever connected, and a
 * process that ran only `sqlOf` statements would otherwise keep its connections open.
 */
export async function closeDb(db: Db): Promise<void> {
  await db.$disconnect();
  const pool = pools.get(db);
  if (pool && !pool.ended) await pool.end();
}

/**
 * Plain SQL on the same pool as Prisma, for the few hot calls where Prisma's per-query
 * work costs more than the query (measured in bench/RESULTS.md): the order steps' database
 * functions. Everything else goes through Prisma.
 */
export function sqlOf(db: Db) {
  const pool = pools.get(db);
  if (!pool) throw new Error('sqlOf needs a client made by createDb');
  return {
    /**
     * A `name` prepares the statement once per connection: for hot statements whose parsing
     * and planning cost as much as running them (pg_stat_statements with track_planning,
     * bench/RESULTS.md). The text under one name must never change.
     */
    async rows<T>(text: string, params: unknown[], name?: string): Promise<T[]> {
      return (await pool.query(name ? { name, text, values: params } : { text, values: params })).rows as T[];
    },
  };
}

/** Runs `fn` on a connection to the server's `postgres` database, with the target's name. */
async function withServer<T>(databaseUrl: string, fn: (admin: PgClient, name: string) => Promise<T>): Promise<T> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[\w-]+$/.test(name)) throw new Error(`refusing to manage a database named ${JSON.stringify(name)}`);
  url.pathname = '/postgres';
  const admin = new PgClient({ connectionString: url.toString() });
  await admin.connect();
  try {
    return await fn(admin, name);
  } finally {
    await admin.end();
  }
}

/** Creates the database named in the URL when it does not exist yet (dev stack and tests). */
export function ensureDatabase(databaseUrl: string): Promise<boolean> {
  return withServer(databaseUrl, async (admin, name) => {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    await admin.query(`CREATE DATABASE "${name}"`);
    return true;
  });
}

export function dropDatabase(databaseUrl: string): Promise<void> {
  return withServer(databaseUrl, async (admin, name) => {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

// SQLSTATE classes that no retry can fix: bad data (22), a broken constraint (23), a bad
// statement or missing object (42), an error raised on purpose (P0). Anything else —
// connection loss (08), serialization or deadlock (40), resources (53), lock timeouts (55),
// a shutting-down server (57), an error without a code — may pass, so it is retried.
const PERMANENT_SQLSTATE_CLASSES = new Set(['22', '23', '42', 'P0']);

export interface DatabaseError {
  sqlState: string;
  message: string;
  permanent: boolean;
}

type PrismaShapes = {
  name?: unknown;
  code?: unknown;
  cause?: Record<string, unknown>;
  meta?: { code?: unknown; driverAdapterError?: { cause?: Record<string, unknown> } };
} | null;

/**
 * The PostgreSQL error behind an error, if any, in each shape it reaches us (seen by provoking
 * them, tests/platform/database-data-errors.test.ts): a raw pg error (`sqlOf`) carries the
 * SQLSTATE itself; Prisma over the pg adapter wraps it in `meta.driverAdapterError.cause` (raw
 * queries, P2010, and the errors it maps, P2002, P2003) or, from a model query with an error
 * it does not map (22021, a NUL), throws the adapter's `DriverAdapterError` with it as `cause`;
 * Prisma without an adapter puts a raw query's in `meta.code`.
 */
export function databaseErrorOf(err: unknown): DatabaseError | undefined {
  const shapes = err as PrismaShapes;
  const cause =
    shapes?.meta?.driverAdapterError?.cause ?? (shapes?.name === 'DriverAdapterError' ? shapes.cause : undefined);
  const pgError = err instanceof Error && 'severity' in err ? (err as unknown as Record<string, unknown>) : undefined;
  const sqlState =
    cause?.originalCode ?? cause?.code ?? (shapes?.code === 'P2010' ? shapes.meta?.code : undefined) ?? pgError?.code;
  if (typeof sqlState !== 'string') return undefined;
  const message = String(cause?.originalMessage ?? cause?.message ?? pgError?.message ?? 'database error');
  return { sqlState, message, permanent: PERMANENT_SQLSTATE_CLASSES.has(sqlState.slice(0, 2)) };
}

// Class 23 codes that are an expected race rather than bad data: two attempts inserting one
// idempotent row (the retry finds the first one's), two overlapping exclusions.
const RACE_SQLSTATES = new Set(['23505', '23P01']);

/**
 * Why the database refuses the data itself, when it does: a data exception (class 22: a NUL,
 * a number or date out of range, text that is not the column's type), an integrity rule
 * other than a race (class 23: not null, foreign key, check), or arguments Prisma cannot send
 * at all (an invalid Date; a date past year 9999 or an integer beyond int8, which its engine
 * reports only as "Could not convert argument value"). The same data is refused on every
 * attempt, so a step that meets one must fail for good rather than retry (activities/index.ts).
 */
export function refusedDataOf(err: unknown): string | undefined {
  if (
    err instanceof Prisma.PrismaClientValidationError ||
    (err instanceof Prisma.PrismaClientUnknownRequestError && err.message.includes('Could not convert argument value'))
  ) {
    return `query arguments refused: ${err.message.trim().split('\n').at(-1)}`;
  }
  const dbError = databaseErrorOf(err);
  if (!dbError) return undefined;
  const refused =
    dbError.sqlState.startsWith('22') || (dbError.sqlState.startsWith('23') && !RACE_SQLSTATES.has(dbError.sqlState));
  return refused ? `database refused the data (${dbError.sqlState}): ${dbError.message}` : undefined;
}

/** A unique index refused the write: through Prisma's models (P2002) or raw SQL (23505). */
export function isUniqueViolation(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') return true;
  return databaseErrorOf(err)?.sqlState === '23505';
}
