// The platform as separate processes on one machine — a file-backed Temporal dev server,
// a fresh database, the real API and worker entry points as children — for the benchmark
// and the chaos run, which measure, kill and restart them one by one.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DEV_SECRETS } from '../../infra/config';
import { dropDatabase, ensureDatabase } from '../../infra/db';
import { databaseUrl } from '../../infra/database-url';
import { ROOT } from './node-ts';
import { type DevServer, startTemporalDevServer, stopChild } from './temporal-dev-server';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface ProcessStackOptions {
  /** Names the database (rights_platform_<name>) and the log files. */
  name: string;
  /** Temporal's SQLite file and the children's logs. */
  dataDir: string;
  workers?: number;
  /** The checkout whose API, worker and migrations run (another commit's worktree, to compare). */
  root?: string;
  /** Extra environment for the API and worker children. */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export interface ProcessStack {
  databaseUrl: string;
  temporalAddress: string;
  apiUrl: string;
  adminKey: string;
  taskQueue: string;
  pids(): { temporal: number | null; api: number | null; workers: number[] };
  startWorker(): Promise<void>;
  killWorker(index?: number, signal?: NodeJS.Signals): Promise<void>;
  /** Kills the API process and starts another on the same port, ready when this resolves. */
  restartApi(signal?: NodeJS.Signals): Promise<void>;
  restartTemporal(): Promise<void>;
  stop(): Promise<void>;
}

export async function startProcessStack(options: ProcessStackOptions): Promise<ProcessStack> {
  const log = options.log ?? (() => undefined);
  const root = options.root ?? ROOT;
  const url = new URL(databaseUrl());
  url.pathname = `/rights_platform_${options.name}`;
  const dbUrl = url.toString();
  await dropDatabase(dbUrl);
  await ensureDatabase(dbUrl);
  const migrate = spawnSync(process.execPath, [path.join(root, 'scripts/prisma.js'), 'migrate', 'deploy'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: dbUrl },
    encoding: 'utf8',
  });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}${migrate.stderr}`);

  mkdirSync(options.dataDir, { recursive: true });
  const dbFile = path.join(options.dataDir, 'temporal.sqlite');
  for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true });
  const temporalPort = await freePort();
  let server: DevServer = await startTemporalDevServer({ port: temporalPort, dbFile, log });
  const apiPort = await freePort();
  const taskQueue = `fulfillment-${options.name}`;
  const env = {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    DATABASE_URL: dbUrl,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    API_PORT: String(apiPort),
    ...options.env,
  };
  let stopping = false;

  const spawnChild = (name: string, entry: string): ChildProcess => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, entry)], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const file = createWriteStream(path.join(options.dataDir, `${name}.log`), { flags: 'a' });
    child.stdout?.pipe(file);
    child.stderr?.pipe(file);
    child.on('exit', (code, signal) => {
      if (!stopping) log(`${name} exited (${signal ?? code})`);
    });
    return child;
  };
  const workers: ChildProcess[] = [];
  const startWorker = async () => {
    const child = spawnChild(`worker-${workers.length}`, 'workers/main.ts');
    workers.push(child);
    await waitForPoller(server.address, taskQueue, child);
  };
  let api = spawnChild('api', 'api/main.ts');
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await waitForReady(apiUrl, api);
  for (let i = 0; i < (options.workers ?? 1); i++) await startWorker();

  return {
    databaseUrl: dbUrl,
    get temporalAddress() {
      return server.address;
    },
    apiUrl,
    adminKey: process.env.BOOTSTRAP_ADMIN_KEY ?? DEV_SECRETS.BOOTSTRAP_ADMIN_KEY,
    taskQueue,
    pids: () => ({
      temporal: server.pid ?? null,
      api: api.pid ?? null,
      workers: workers.filter((w) => w.exitCode === null && w.signalCode === null).map((w) => w.pid!),
    }),
    startWorker,
    async killWorker(index = 0, signal = 'SIGKILL') {
      const alive = workers.filter((w) => w.exitCode === null && w.signalCode === null);
      const child = alive[index];
      if (!child) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
    async restartApi(signal = 'SIGKILL') {
      const exited = once(api, 'exit');
      api.kill(signal);
      await exited;
      api = spawnChild('api', 'api/main.ts');
      await waitForReady(apiUrl, api);
    },
    async restartTemporal() {
      await server.stop();
      server = await startTemporalDevServer({ port: temporalPort, dbFile, log });
    },
    async stop() {
      stopping = true;
      await Promise.all([...workers, api].map((child) => stopChild(child)));
      await server.stop();
    },
  };
}

/** A worker is ready once the server lists it (identity host:pid) among the task queue's pollers. */
async function waitForPoller(address: string, taskQueue: string, child: ChildProcess): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode})`);
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: taskQueue },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      if (pollers?.some((p) => p.identity?.endsWith(`:${child.pid}`))) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('worker did not poll within 120 s');
  } finally {
    await connection.close();
  }
}

/** An API process is ready once its /readyz answers; fails at once if the process exits first. */
export async function waitForReady(apiUrl: string, api: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (api.exitCode !== null) throw new Error(`api exited (${api.exitCode})`);
    if (
      await fetch(`${apiUrl}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${apiUrl}/readyz did not answer within 120 s`);
}
