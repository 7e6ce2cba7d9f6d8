// The database functions' source of truth is prisma/functions/<name>.sql, one function a
// file. This compares those files with what a migrated database defines, and writes the
// migration that brings the database to them (`npm run db:functions`, scripts/db-functions.ts).
//
// How it knows what changed: it asks a database that the migrations were applied to, not a
// snapshot of the files. Each file is run there in a transaction that is rolled back, so
// PostgreSQL's own parser and pg_get_functiondef give the file's definition in the same
// canonical form as the one the migrations left (signature, return type, language,
// attributes), and only the body's layout and comments need normalising (sql-text.ts). A
// snapshot would have to be kept beside the right migration and trusted to match what the
// migrations do; the database cannot be out of step with them, whatever order migrations
// were merged in, and whatever a hand-written one redefined.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, type ClientBase } from 'pg';
import { deployMigrations, MIGRATIONS_DIR } from './migrate';
import { ROOT } from './node-ts';
import { normaliseSql, runnerSafeLiteral, statementCount } from './sql-text';

export const FUNCTIONS_DIR = path.join(ROOT, 'prisma', 'functions');

export interface FunctionFile {
  name: string;
  /** Relative to the repository, for messages. */
  path: string;
  sql: string;
}

/** Every `<name>.sql` in the folder, each checked to hold one statement. */
export function readFunctionFiles(dir = FUNCTIONS_DIR): FunctionFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => {
      const file = { name: f.slice(0, -'.sql'.length), path: path.relative(ROOT, path.join(dir, f)), sql: '' };
      file.sql = readFileSync(path.join(dir, f), 'utf8');
      if (!/^[a-z_][a-z0-9_]*$/.test(file.name))
        throw new Error(`${file.path}: a function file is named <function>.sql`);
      if (statementCount(file.sql) !== 1)
        throw new Error(`${file.path}: holds one CREATE OR REPLACE FUNCTION, nothing else`);
      return file;
    });
}

interface Defined {
  oid: number;
  name: string;
  /** `name(argtypes)`, as DROP FUNCTION takes it. */
  signature: string;
  /** pg_get_functiondef; null for an aggregate, which it cannot print. */
  definition: string | null;
  source: string;
}

const CATALOGUE = `
  SELECT p.oid::int AS oid, p.proname AS name, p.oid::regprocedure::text AS signature, p.prosrc AS source,
         CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END AS definition
    FROM pg_proc p
   WHERE p.pronamespace = current_schema()::regnamespace
     -- an extension's functions are the extension's (none today: plpgsql lives in pg_catalog)
     AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`;

async function catalogue(client: ClientBase, where = 'true'): Promise<Defined[]> {
  return (await client.query<Defined>(`${CATALOGUE} AND ${where} ORDER BY p.proname, signature`)).rows;
}

/** pg_get_functiondef's text split where its body starts: `…\nAS $function$<prosrc>$function$\n`. */
function headerOf(fn: Defined): string {
  const opening = /\nAS (\$functionx*\$)/.exec(fn.definition ?? '');
  if (!opening || fn.definition!.slice(opening.index + opening[0].length) !== `${fn.source}${opening[1]}\n`) {
    throw new Error(`${fn.name}: only functions with a dollar-quoted body are supported (not BEGIN ATOMIC)`);
  }
  return fn.definition!.slice(0, opening.index + 1);
}

/** What two definitions are compared by: the canonical header as is, the body without comments and layout. */
function comparable(fn: Defined): string {
  return `${headerOf(fn).replace(/\s+/g, ' ').trim()} AS ${normaliseSql(fn.source)}`;
}

/** The statement that creates `fn` as it is, written for Prisma's JS migration runner. */
function createStatement(fn: Defined): string {
  const header = headerOf(fn);
  if (header.includes(';'))
    throw new Error(`${fn.name}: a semicolon outside the body cannot pass the migration runner`);
  return `${header}AS ${runnerSafeLiteral(fn.source)}`;
}

function sqlStateOf(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

/**
 * The function `file` defines, as the database reads it, and the existing ones of its name
 * a migration has to drop first: all of them when CREATE OR REPLACE cannot change them
 * (another return type, parameter names or defaults: 42P13), else the overloads the file
 * did not replace (its parameter types changed).
 */
async function definitionOf(
  client: ClientBase,
  file: FunctionFile,
  existing: Defined[],
): Promise<{ fn: Defined; drop: Defined[] }> {
  const sameName = existing.filter((f) => f.name === file.name);
  for (const dropFirst of [false, true]) {
    await client.query('BEGIN');
    try {
      for (const old of dropFirst ? sameName : []) await client.query(`DROP FUNCTION ${old.signature}`);
      await client.query(file.sql);
      // The catalogue rows this transaction wrote are the file's doing (a top-level
      // transaction, no savepoint, so they carry its own xid).
      const written = await catalogue(client, 'p.xmin = pg_current_xact_id()::xid');
      const created = (
        await client.query<{ name: string }>(
          `SELECT p.oid::regprocedure::text AS name FROM pg_proc p WHERE p.xmin = pg_current_xact_id()::xid`,
        )
      ).rows;
      if (created.length !== 1 || written.length !== 1 || written[0]!.name !== file.name) {
        throw new Error(
          `${file.path} must define one function, ${file.name}, in the current schema; it defines ${created.map((c) => c.name).join(', ') || 'none'}`,
        );
      }
      const fn = written[0]!;
      return { fn, drop: dropFirst ? sameName : sameName.filter((f) => f.oid !== fn.oid) };
    } catch (err) {
      if (!dropFirst && sqlStateOf(err) === '42P13' && sameName.length > 0) continue;
      if (err instanceof Error && err.message.startsWith(file.path)) throw err;
      throw new Error(`${file.path}: ${(err as Error).message}`);
    } finally {
      await client.query('ROLLBACK');
    }
  }
  throw new Error('unreachable');
}

/** Where two normalised texts part, with a little context, for a reviewer reading a failure. */
function firstDifference(file: string, database: string): string {
  let i = 0;
  while (i < file.length && file[i] === database[i]) i++;
  const around = (text: string) => JSON.stringify(text.slice(Math.max(0, i - 40), i + 60));
  return `the file has ${around(file)} where the database has ${around(database)}`;
}

export interface FunctionDifference {
  name: string;
  problem: string;
}

export interface FunctionPlan {
  /** One per function whose file and database disagree, each naming the function. */
  differences: FunctionDifference[];
  /** What a migration runs to make the database match the files, in order; empty when they match. */
  statements: string[];
}

/** Compares the files with the database `client` is connected to, and what it takes to make them match. */
export async function planFunctions(client: ClientBase, files: FunctionFile[]): Promise<FunctionPlan> {
  const existing = await catalogue(client);
  const plan: FunctionPlan = { differences: [], statements: [] };
  const differ = (name: string, problem: string) => plan.differences.push({ name, problem });
  for (const file of files) {
    const { fn, drop } = await definitionOf(client, file, existing);
    const current = existing.find((f) => f.oid === fn.oid);
    if (drop.length > 0) {
      differ(
        file.name,
        `the database has ${drop.map((f) => f.signature).join(', ')}: ${file.path} changed its parameters or return type`,
      );
    } else if (!current) {
      differ(file.name, `${file.path} defines a function the database does not have`);
    } else if (comparable(current) !== comparable(fn)) {
      differ(
        file.name,
        `the database runs another definition than ${file.path}: ${firstDifference(comparable(fn), comparable(current))}`,
      );
    } else {
      continue;
    }
    for (const old of drop) plan.statements.push(`DROP FUNCTION ${old.signature}`);
    plan.statements.push(createStatement(fn));
  }
  const named = new Set(files.map((f) => f.name));
  for (const orphan of existing.filter((f) => !named.has(f.name))) {
    differ(orphan.name, `the database has ${orphan.signature}, which no file in prisma/functions defines`);
    plan.statements.push(`DROP FUNCTION ${orphan.signature}`);
  }
  return plan;
}

const stamp = (d: Date) => d.toISOString().replace(/\D/g, '').slice(0, 14);

/** Now, as a migration's timestamp, or a second after the newest migration when that is later (clock skew). */
function nextTimestamp(migrationsDir: string, now: Date): string {
  const newest = readdirSync(migrationsDir)
    .map((d) => /^(\d{14})_/.exec(d)?.[1])
    .filter((t): t is string => t !== undefined)
    .sort()
    .at(-1);
  if (!newest || stamp(now) > newest) return stamp(now);
  const [, y, mo, d, h, mi, s] = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/.exec(newest)!.map(Number);
  return stamp(new Date(Date.UTC(y!, mo! - 1, d, h, mi, s! + 1)));
}

/** Writes `plan` as prisma/migrations/<timestamp>_functions_<names>/migration.sql; returns the folder. */
export function writeFunctionMigration(plan: FunctionPlan, migrationsDir = MIGRATIONS_DIR, now = new Date()): string {
  const names = [...new Set(plan.differences.map((d) => d.name))].sort();
  const dir = path.join(
    migrationsDir,
    `${nextTimestamp(migrationsDir, now)}_functions_${names.length <= 3 ? names.join('_') : 'update'}`,
  );
  const header = [
    '-- Generated by `npm run db:functions` from prisma/functions/, where the database functions are',
    '-- written: change a function there and generate again, never here. Each function that differs',
    '-- is created again (dropped first when its parameters or return type changed), a function',
    '-- without a file is dropped. The bodies are E-strings with every semicolon written \\073',
    "-- because Prisma's JS migration runner splits a script at each one, dollar quotes included.",
    ...names.map((n) => `--   ${n}`),
  ].join('\n');
  if (header.includes(';')) throw new Error('the migration header must not hold a semicolon');
  const text = `${header}\n\n${plan.statements.map((s) => `${s};\n`).join('\n')}`;
  // The runner's own split (@prisma/adapter-pg executeScript) must give back the statements.
  const pieces = text
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (pieces.length !== plan.statements.length) throw new Error('a statement would not reach the runner whole');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'migration.sql'), text);
  return dir;
}

export async function withClient<T>(databaseUrl: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** One line per difference, each naming its function. */
export const listDifferences = (differences: FunctionDifference[]) =>
  differences.map((d) => `  ${d.name}: ${d.problem}`).join('\n');

/**
 * `npm run db:functions` on an empty scratch database: deploys the migrations to it,
 * compares the files, and when they differ writes the migration, deploys it too and checks
 * that the database then matches the files (the migration is removed again if not).
 * Returns the folder written, or null when the migrations already define the files.
 */
export async function generateFunctionMigration(options: {
  scratchDatabaseUrl: string;
  migrationsDir?: string;
  functionsDir?: string;
}): Promise<{ dir: string | null; differences: FunctionDifference[] }> {
  const { scratchDatabaseUrl: url, migrationsDir = MIGRATIONS_DIR } = options;
  const files = readFunctionFiles(options.functionsDir);
  deployMigrations(url, migrationsDir);
  const plan = await withClient(url, (c) => planFunctions(c, files));
  if (plan.statements.length === 0) return { dir: null, differences: [] };
  const dir = writeFunctionMigration(plan, migrationsDir);
  try {
    deployMigrations(url, migrationsDir);
    const left = (await withClient(url, (c) => planFunctions(c, files))).differences;
    if (left.length > 0)
      throw new Error(`after the generated migration the database still differs:\n${listDifferences(left)}`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, differences: plan.differences };
}
