// Finds, builds or downloads a Temporal dev server and runs it. Order of preference:
// TEMPORAL_CLI_PATH, `temporal` on PATH, the binary this script built before, a fresh
// build from Go modules (no binary host needed), and last the SDK's own download.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { buildGoTool, findGoTool, type GoTool } from './go-tools';

export const TEMPORAL_CLI: GoTool = {
  name: 'temporal',
  module: 'github.com/temporalio/cli/cmd/temporal@v1.5.1',
  pathVariable: 'TEMPORAL_CLI_PATH',
  buildTakes: 'a few minutes',
};

export async function isTemporalReachable(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: '1s' });
    await connection.workflowService.getSystemInfo({});
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  /** The server process, when this module started the binary itself. */
  pid?: number;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  port: number;
  uiPort?: number;
  /** SQLite file that keeps workflows across restarts; in memory when omitted. */
  dbFile?: string;
  log: (line: string) => void;
}

// Eager activities: a workflow task that schedules an activity on its own task queue gets
// the activity task back in its completion's answer, when the worker has a free slot (the
// SDK asks by default), with no matching round trip or poll of its own. Off by default in
// the server; a supplier purchase is such an activity (bench/RESULTS.md, 2026-12-03).
const SERVER_SETTINGS = ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'];

export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const binary = findGoTool(TEMPORAL_CLI) ?? buildGoTool(TEMPORAL_CLI, options.log);
  if (!binary) return startDownloadedServer(options);
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'error'];
  args.push(...(options.uiPort ? ['--ui-port', String(options.uiPort)] : ['--headless']));
  args.push(...SERVER_SETTINGS);
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    // WAL with normal sync keeps the data across restarts at in-memory speed.
    args.push('--db-filename', options.dbFile);
    args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const address = `127.0.0.1:${options.port}`;
  await waitUntilReachable(address, child, () => stderr);
  return {
    address,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : null,
    ...(child.pid ? { pid: child.pid } : {}),
    stop: () => stopChild(child),
  };
}

async function waitUntilReachable(address: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Temporal dev server exited (${child.exitCode}): ${stderr()}`);
    if (await isTemporalReachable(address)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`Temporal dev server did not answer on ${address} within 60 s: ${stderr()}`);
}

export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** For machines with internet but neither a binary nor Go: the SDK downloads the CLI. */
async function startDownloadedServer(options: DevServerOptions): Promise<DevServer> {
  options.log('no Temporal binary and no Go toolchain: letting the Temporal SDK download the dev server…');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: '127.0.0.1',
      port: options.port,
      ...(options.uiPort ? { ui: true, uiPort: options.uiPort } : {}),
      ...(options.dbFile ? { dbFilename: options.dbFile } : {}),
      extraArgs: SERVER_SETTINGS,
    },
  });
  return {
    address: env.address,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : null,
    stop: () => env.teardown(),
  };
}
