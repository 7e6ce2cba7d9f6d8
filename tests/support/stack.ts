// Real parts for tests: the API on an ephemeral port, workers in-process on a unique task
// queue (or as a child process, for crash tests), all against the run's database and server.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  bundleWorkflowCode,
  type WorkerOptions,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { ApiDeps } from '../../api/deps';
import { createApp } from '../../api/app';
import { createOrderStarts } from '../../api/order-starts';
import { type Config, parseConfig } from '../../infra/config';
import { keyringFrom } from '../../infra/crypto';
import { closeDb, createDb, type Db } from '../../infra/db';
import { createLogger, type Logger } from '../../infra/logger';
import { connectTemporal } from '../../infra/temporal';
import { nodeTsArgs, ROOT } from '../../scripts/lib/node-ts';
import { stopChild } from '../../scripts/lib/temporal-dev-server';
import { createFulfillmentWorker } from '../../workers/fulfillment-worker';

export { ROOT };

// The SDK runtime is one per process; it logs worker states and expected activity failures
// (the webhook tests' 503s) below ERROR, which tests do not need to see.
try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // already installed by an earlier test file in this process
}

export function testConfig(overrides: Partial<Record<string, string>> = {}): Config {
  return parseConfig({ ...process.env, ...overrides });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Workflow code is bundled once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: silentBundlerLogger });
  return bundle;
}
const noop = () => undefined;
const silentBundlerLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

export interface TestStack {
  config: Config;
  db: Db;
  url: string;
  deps: ApiDeps;
  taskQueue: string;
  logger: Logger;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Run a worker in this process (default); false when the test runs its own child worker. */
  worker?: boolean;
  /** Where structured logs go, e.g. a capture for secrecy tests. */
  logDestination?: { write(line: string): void };
  config?: Partial<Record<string, string>>;
  /** Extra options for the in-process worker, e.g. activity interceptors. */
  workerOptions?: Partial<WorkerOptions>;
}

/** API + (optionally) worker on a task queue of their own, so tests never share workflows. */
export async function startStack(options: StackOptions = {}): Promise<TestStack> {
  const taskQueue = `test-${randomUUID()}`;
  const config = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, ...options.config });
  const logger = createLogger(
    { level: options.logDestination ? 'info' : config.LOG_LEVEL, name: 'test' },
    options.logDestination,
  );
  const db = createDb(config.DATABASE_URL, 5);
  const keyring = keyringFrom(config.KEY_ENCRYPTION_KEY_ID, config.KEY_ENCRYPTION_KEY);
  const temporal = await connectTemporal(config);
  // No periodic sweep here: suites share one database, and a sweep would start other suites'
  // orders on this one's task queue. tests/orders/intake-starts.test.ts sweeps its own.
  const deps: ApiDeps = {
    config,
    db,
    temporal,
    keyring,
    logger,
    orderStarts: createOrderStarts({ db, temporal, config, logger }),
  };
  const server = createApp(deps).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  config.PUBLIC_BASE_URL = url;

  let stopWorker: (() => Promise<void>) | undefined;
  if (options.worker !== false) {
    const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
    const worker = await createFulfillmentWorker({
      deps: { db, config, logger, keyring, workerIdentity: `${hostname()}:${process.pid}:test` },
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue,
      workflowBundle: await workflowBundle(),
      ...(options.workerOptions ? { extra: options.workerOptions } : {}),
    });
    const running = worker.run();
    stopWorker = async () => {
      worker.shutdown();
      await running;
      await connection.close();
    };
  }

  return {
    config,
    db,
    url,
    deps,
    taskQueue,
    logger,
    async close() {
      await stopWorker?.();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await deps.orderStarts.drain();
      await temporal.connection.close();
      await closeDb(db);
    },
  };
}

/** The real worker entry point as a child process, for crash and shutdown tests. */
export function spawnWorkerProcess(env: Record<string, string>): ChildProcess {
  return spawnEntryPoint('workers/main.ts', env);
}

/** The real API entry point as a child process (it listens on env.API_PORT), for crash tests. */
export function spawnApiProcess(env: Record<string, string>): ChildProcess {
  return spawnEntryPoint('api/main.ts', env);
}

function spawnEntryPoint(entry: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, nodeTsArgs(entry), {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export { stopChild };
