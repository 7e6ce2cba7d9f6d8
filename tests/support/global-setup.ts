// One Temporal dev server and one fresh, migrated database per test run. Every test file
// reads their addresses from the environment this sets (tests run in band, in this process).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { databaseUrl } from '../../infra/database-url';
import { ensureDatabase } from '../../infra/db';
import { ensureConsoleBuilt } from '../../scripts/lib/console-build';
import { freePort } from '../../scripts/lib/process-stack';
import { STRIPE_MOCK_API_KEY, startStripeMock } from '../../scripts/lib/stripe-mock';
import { isTemporalReachable, startTemporalDevServer } from '../../scripts/lib/temporal-dev-server';

export { freePort };

export default async function globalSetup(): Promise<void> {
  const log = (line: string) => process.stderr.write(`[test setup] ${line}\n`);
  process.env.NODE_ENV = 'test';
  process.env.LOG_LEVEL ??= 'silent';
  // The API serves the operator console from its build; the browser tests open it.
  ensureConsoleBuilt(log);

  const base = new URL(databaseUrl());
  base.pathname = `/rp_test_${Date.now()}_${process.pid}`;
  process.env.DATABASE_URL = base.toString();
  await ensureDatabase(process.env.DATABASE_URL);
  const migrate = spawnSync(process.execPath, [path.join(__dirname, '../../scripts/prisma.js'), 'migrate', 'deploy'], {
    env: process.env,
    encoding: 'utf8',
  });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);

  // TEST_TEMPORAL_ADDRESS reuses a running server (faster local loops); otherwise start one.
  const reuse = process.env.TEST_TEMPORAL_ADDRESS;
  if (reuse && (await isTemporalReachable(reuse))) {
    process.env.TEMPORAL_ADDRESS = reuse;
  } else {
    const server = await startTemporalDevServer({ port: await freePort(), log });
    process.env.TEMPORAL_ADDRESS = server.address;
    (globalThis as { __temporalServer?: typeof server }).__temporalServer = server;
  }

  // Card payments go to stripe-mock (the tests put a recording proxy in front where they
  // need to see or break the calls).
  const stripe = await startStripeMock(await freePort(), log);
  if (!stripe) throw new Error('stripe-mock is needed for the payment tests: install Go, or set STRIPE_MOCK_PATH');
  (globalThis as { __stripeMock?: typeof stripe }).__stripeMock = stripe;
  process.env.STRIPE_API_BASE = stripe.url;
  process.env.STRIPE_API_KEY = STRIPE_MOCK_API_KEY;
  process.env.STRIPE_WEBHOOK_SECRET = 'whsec_rights_platform_tests';
  log(`database ${base.pathname.slice(1)}, Temporal ${process.env.TEMPORAL_ADDRESS}, stripe-mock ${stripe.url}`);
}
