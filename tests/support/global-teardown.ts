import { dropDatabase } from '../../infra/db';
import type { DevServer } from '../../scripts/lib/temporal-dev-server';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __temporalServer?: DevServer }).__temporalServer?.stop();
  if (process.env.DATABASE_URL && !process.env.KEEP_TEST_DATABASE) await dropDatabase(process.env.DATABASE_URL);
}
