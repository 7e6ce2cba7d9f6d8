// The database module of the platform under test: this checkout's, or BENCH_ROOT's (another
// commit's worktree), so a before/after run measures each side's own store and pool.
import path from 'node:path';
import type { Db } from '../../infra/db';

type DbModule = typeof import('../../infra/db');

export async function platformDb(
  root: string,
): Promise<{ createDb: DbModule['createDb']; closeDb(db: Db): Promise<void> }> {
  const module = (await import(path.join(root, 'infra/db'))) as Partial<DbModule> & Pick<DbModule, 'createDb'>;
  return {
    createDb: module.createDb,
    // A checkout from before `closeDb` let its pool close idle connections by itself.
    closeDb: (db) => (module.closeDb ? module.closeDb(db) : db.$disconnect()),
  };
}
