// `prisma migrate deploy` of a migrations folder to a database, through the CLI wrapper
// (scripts/prisma.js), the way `npm run db:migrate`, `npm start` and the tests apply them.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './node-ts';

export const MIGRATIONS_DIR = path.join(ROOT, 'prisma', 'migrations');

/** Applies what `migrationsDir` holds and `databaseUrl` lacks; throws with the CLI's output on failure. */
export function deployMigrations(databaseUrl: string, migrationsDir = MIGRATIONS_DIR): void {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'prisma.js'), 'migrate', 'deploy'], {
    cwd: ROOT,
    // prisma.config.ts reads the folder from PRISMA_MIGRATIONS_DIR.
    env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_MIGRATIONS_DIR: migrationsDir },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`migrate deploy failed:\n${run.stdout}${run.stderr}`);
}
