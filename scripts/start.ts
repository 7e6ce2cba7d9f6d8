// `npm start`: the whole platform on one machine. PostgreSQL (database created if missing,
// migrations applied), a Temporal dev server (reused if one answers), the worker, the API and
// demo data; Ctrl-C stops everything it started.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfigOrExit } from '../infra/config';
import { keyringFrom } from '../infra/crypto';
import { closeDb, createDb, ensureDatabase } from '../infra/db';
import {
  DEMO_CLIENT_KEY,
  DEMO_SKU,
  DEMO_SUPPLIER_SKU,
  DEMO_TOPUP_SKU,
  seedDemoData,
  seedDemoSuppliers,
} from './lib/demo-data';
import { ensureConsoleBuilt } from './lib/console-build';
import { STRIPE_MOCK_API_KEY, startStripeMock } from './lib/stripe-mock';
import { startSupplierSim } from './lib/supplier-sim';
import { nodeTsArgs, ROOT } from './lib/node-ts';
import { type DevServer, isTemporalReachable, startTemporalDevServer, stopChild } from './lib/temporal-dev-server';

const DATA_DIR = path.resolve(ROOT, process.env.DEV_DATA_DIR ?? '.data');
const log = (line: string) => process.stdout.write(`[start] ${line}\n`);

async function main(): Promise<void> {
  process.env.NODE_ENV ??= 'development';
  const config = loadConfigOrExit();
  const startedAt = Date.now();
  const children: ChildProcess[] = [];
  const sim = await startSupplierSim({ port: config.SUPPLIER_SIM_PORT });
  log(`supplier simulator on ${sim.url}`);
  // Card payments: the configured Stripe account, or else stripe-mock (the API and worker
  // children inherit the environment set here).
  const stripeMock = config.STRIPE_API_KEY ? null : await startStripeMock(config.STRIPE_MOCK_PORT, log);
  if (stripeMock) {
    process.env.STRIPE_API_KEY = STRIPE_MOCK_API_KEY;
    process.env.STRIPE_API_BASE = stripeMock.url;
    process.env.STRIPE_WEBHOOK_SECRET ??= 'whsec_dev_not_for_production';
    log(`stripe-mock on ${stripeMock.url}`);
  }
  const payments = config.STRIPE_API_KEY
    ? `Stripe at ${config.STRIPE_API_BASE}`
    : stripeMock
      ? `stripe-mock at ${stripeMock.url}`
      : 'prepaid balance only (no STRIPE_API_KEY, and stripe-mock could not be built: install Go)';
  let temporalServer: DevServer | undefined;
  let stopping = false;

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping…');
    await Promise.all(children.map((child) => stopChild(child)));
    await temporalServer?.stop();
    await sim.close();
    await stripeMock?.stop();
    log('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  if (await ensureDatabase(config.DATABASE_URL).catch(postgresDown))
    log(`created database ${dbName(config.DATABASE_URL)}`);
  const migrate = spawnSync(process.execPath, [path.join(ROOT, 'scripts/prisma.js'), 'migrate', 'deploy'], {
    env: process.env,
    encoding: 'utf8',
  });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}${migrate.stderr}`);
  log('migrations applied');

  if (await isTemporalReachable(config.TEMPORAL_ADDRESS)) {
    log(`using the Temporal server already at ${config.TEMPORAL_ADDRESS}`);
  } else {
    const t0 = Date.now();
    temporalServer = await startTemporalDevServer({
      port: Number(config.TEMPORAL_ADDRESS.split(':')[1]),
      uiPort: config.TEMPORAL_UI_PORT,
      dbFile: path.join(DATA_DIR, 'temporal.sqlite'),
      log,
    });
    log(`Temporal dev server up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  // The operator console the API serves at /console: built here when missing or out of date.
  ensureConsoleBuilt(log);
  mkdirSync(path.join(DATA_DIR, 'logs'), { recursive: true });
  for (const [name, entry] of [
    ['worker', 'workers/main.ts'],
    ['api', 'api/main.ts'],
  ] as const) {
    const child = spawn(process.execPath, nodeTsArgs(entry), {
      cwd: ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const file = createWriteStream(path.join(DATA_DIR, 'logs', `${name}.log`), { flags: 'a' });
    child.stdout?.pipe(file);
    child.stderr?.pipe(file);
    child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk}`));
    child.on('exit', (code, signal) => {
      if (!stopping) {
        log(`${name} exited (${signal ?? code}); see ${path.join(DATA_DIR, 'logs', `${name}.log`)}`);
        void stopAll(1);
      }
    });
    children.push(child);
  }

  const apiUrl = `http://${config.API_HOST}:${config.API_PORT}`;
  await waitForReady(apiUrl);
  const db = createDb(config.DATABASE_URL, 2);
  const keyring = keyringFrom(config.KEY_ENCRYPTION_KEY_ID, config.KEY_ENCRYPTION_KEY);
  const { seeded } = await seedDemoData(db, keyring, config);
  await seedDemoSuppliers(db, keyring, sim);
  await closeDb(db);
  if (seeded) log('demo data seeded');

  const ui = temporalServer?.uiUrl ?? `(the Temporal server at ${config.TEMPORAL_ADDRESS} is not ours)`;
  process.stdout.write(
    [
      '',
      `Ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
      `  API          ${apiUrl}   (health: ${apiUrl}/readyz)`,
      `  Temporal UI  ${ui}`,
      `  Console      ${apiUrl}/console/   (sign in with an API key: the admin key sees every view)`,
      `  Admin key    ${config.BOOTSTRAP_ADMIN_KEY ?? '(BOOTSTRAP_ADMIN_KEY not set)'}`,
      `  Demo key     ${DEMO_CLIENT_KEY}   (role order-system)`,
      `  Suppliers    ${sim.url}   (simulator: demo-acme, demo-reloadly; faults via /admin/suppliers/<name>/faults)`,
      `  Payments     ${payments}`,
      `  Logs         ${path.join(DATA_DIR, 'logs')}`,
      '',
      'Order one card key as the demo shop, then read the order (its claimUrl reveals the key once):',
      `  curl -s -X POST ${apiUrl}/v1/orders -H 'Authorization: Bearer ${DEMO_CLIENT_KEY}' -H 'Content-Type: application/json' \\`,
      `    -d '{"externalOrderId":"demo-'"$(date +%s)"'","buyer":{"id":"buyer-'"$RANDOM"'","ip":"203.0.113.7"},"items":[{"sku":"${DEMO_SKU}","quantity":1}]}'`,
      `  curl -s ${apiUrl}/v1/orders/<id from above> -H 'Authorization: Bearer ${DEMO_CLIENT_KEY}'`,
      '',
      `Bought from a supplier at order time: sku ${DEMO_SUPPLIER_SKU} (card key), ${DEMO_TOPUP_SKU} (direct top-up,`,
      `with "account":"13800138000" in the item). Break the first supplier and watch the fallback:`,
      `  curl -s -X PUT ${sim.url}/admin/suppliers/demo-acme/faults -H 'Content-Type: application/json' -d '{"rules":[{"kind":"error_500","on":"any"}]}'`,
      '',
      'Pay by card instead of the prepaid balance: add "payment":{"method":"stripe","paymentMethodId":"pm_card_visa"}.',
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

function dbName(url: string): string {
  return new URL(url).pathname.slice(1);
}

function postgresDown(err: unknown): never {
  throw new Error(
    `PostgreSQL is not reachable (${err instanceof Error ? err.message : String(err)}). ` +
      'Start it (e.g. `pg_ctlcluster 15 main start`) or set DATABASE_URL.',
  );
}

async function waitForReady(apiUrl: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${apiUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${apiUrl}/readyz did not answer 200 within 120 s`);
}

main().catch((err) => {
  process.stderr.write(`[start] ${err instanceof Error ? err.message : String(err)}\n`);
  process.kill(process.pid, 'SIGTERM');
});
