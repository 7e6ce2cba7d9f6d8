// `npm run db:functions`: writes the migration that brings the database functions to what
// prisma/functions/*.sql say, or nothing when the migrations already define them. It deploys
// the migrations to a scratch database beside DATABASE_URL's (created and dropped here), so
// it compares the files with the migrations themselves, not with a database that may be
// ahead or behind them (scripts/lib/database-functions.ts says how).
import path from 'node:path';
import { databaseUrl } from '../infra/database-url';
import { dropDatabase, ensureDatabase } from '../infra/db';
import { generateFunctionMigration, listDifferences } from './lib/database-functions';
import { ROOT } from './lib/node-ts';

async function main(): Promise<void> {
  const scratch = new URL(databaseUrl());
  scratch.pathname = `${scratch.pathname}_functions_${Date.now()}`;
  const scratchDatabaseUrl = scratch.toString();
  await ensureDatabase(scratchDatabaseUrl);
  try {
    const { dir, differences } = await generateFunctionMigration({ scratchDatabaseUrl });
    if (!dir) {
      process.stdout.write('prisma/functions match the migrations: no migration written\n');
      return;
    }
    process.stdout.write(
      `wrote ${path.relative(ROOT, dir)}/migration.sql (deployed to a scratch database, which then matched the files):\n${listDifferences(differences)}\n`,
    );
  } finally {
    await dropDatabase(scratchDatabaseUrl);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`db:functions: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
