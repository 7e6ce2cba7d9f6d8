// Tools this project runs that are Go programs (the Temporal dev server, stripe-mock): found
// where the user put them, or built once from Go modules into the user cache, so a machine
// with Go needs no binary host.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

const CACHE_BIN = path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'rights-platform', 'bin');

export interface GoTool {
  /** The binary's name. */
  name: string;
  /** module@version for `go install`. */
  module: string;
  /** An environment variable naming a binary to use instead. */
  pathVariable: string;
  /** How long the first build takes, for the log line. */
  buildTakes: string;
}

export function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

/** The configured binary, one on PATH, or the one built before; null when there is none. */
export function findGoTool(tool: GoTool): string | null {
  const configured = process.env[tool.pathVariable];
  if (configured) {
    if (!existsSync(configured)) throw new Error(`${tool.pathVariable}=${configured} does not exist`);
    return configured;
  }
  const cached = path.join(CACHE_BIN, tool.name);
  return onPath(tool.name) ?? (existsSync(cached) ? cached : null);
}

export const CACHE_DIR = path.dirname(CACHE_BIN);

function goBinary(): string | null {
  return onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
}

/** Where the tool's module source is (downloaded if needed), for files it ships; null without Go. */
export function goModuleDir(tool: GoTool): string | null {
  const go = goBinary();
  if (!go) return null;
  const result = spawnSync(go, ['mod', 'download', '-json', tool.module], { encoding: 'utf8' });
  if (result.status !== 0) return null;
  return (JSON.parse(result.stdout) as { Dir?: string }).Dir ?? null;
}

/** Builds the tool into the user cache; returns null when Go is missing. */
export function buildGoTool(tool: GoTool, log: (line: string) => void): string | null {
  const go = goBinary();
  if (!go) return null;
  mkdirSync(CACHE_BIN, { recursive: true });
  log(`building ${tool.name} from Go modules (${tool.module}); the first build takes ${tool.buildTakes}…`);
  const started = Date.now();
  const result = spawnSync(go, ['install', tool.module], {
    env: { ...process.env, GOBIN: CACHE_BIN },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`go install ${tool.module} failed`);
  log(`built ${path.join(CACHE_BIN, tool.name)} in ${Math.round((Date.now() - started) / 1000)} s`);
  return path.join(CACHE_BIN, tool.name);
}
