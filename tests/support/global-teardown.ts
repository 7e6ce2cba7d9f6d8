import { closeDb, createDb, dropDatabase } from '../../infra/db';
import type { StripeMock } from '../../scripts/lib/stripe-mock';
import type { DevServer } from '../../scripts/lib/temporal-dev-server';
import { reconcile } from '../../store/reconciliation';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __temporalServer?: DevServer }).__temporalServer?.stop();
  await (globalThis as { __stripeMock?: StripeMock }).__stripeMock?.stop();
  if (!process.env.DATABASE_URL) return;
  // After the whole suite, the ledger must agree with what was delivered: a mismatch anywhere
  // (any test, any order) fails the run.
  const db = createDb(process.env.DATABASE_URL, 1);
  let mismatches: unknown[] = [];
  try {
    ({ mismatches } = await reconcile(db, { from: new Date(0), to: new Date(Date.now() + 60_000) }));
  } finally {
    await closeDb(db);
  }
  if (!process.env.KEEP_TEST_DATABASE) await dropDatabase(process.env.DATABASE_URL);
  if (mismatches.length > 0) {
    throw new Error(
      `reconciliation after the suite found ${mismatches.length} mismatches: ${JSON.stringify(mismatches.slice(0, 5))}`,
    );
  }
}
