// The operator console's bundle (api/console → api/console/dist, git-ignored), built when it is
// missing or older than its sources: `npm start` and the test setup call this, so the README's
// two commands still bring everything up and nobody runs a build step by hand. Vite runs as a
// child process (it is an ES module; this code runs as CommonJS under tsx and ts-jest).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './node-ts';

export const CONSOLE_DIR = path.join(ROOT, 'api', 'console');
export const CONSOLE_DIST = path.join(CONSOLE_DIR, 'dist');

/** What the bundle is made from: the console's sources and config, and the installed packages. */
function newestSourceMtime(): number {
  const inputs = [
    path.join(CONSOLE_DIR, 'index.html'),
    path.join(CONSOLE_DIR, 'vite.config.mjs'),
    path.join(ROOT, 'package-lock.json'),
  ];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else inputs.push(full);
    }
  };
  walk(path.join(CONSOLE_DIR, 'src'));
  return Math.max(...inputs.map((file) => statSync(file).mtimeMs));
}

function builtMtime(): number | null {
  try {
    return statSync(path.join(CONSOLE_DIST, 'index.html')).mtimeMs;
  } catch {
    return null;
  }
}

/** Builds the console unless its bundle is newer than every source; says which it did. */
export function ensureConsoleBuilt(log: (line: string) => void = () => undefined): 'fresh' | 'built' {
  const built = builtMtime();
  if (built !== null && built >= newestSourceMtime()) return 'fresh';
  const t0 = Date.now();
  const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const run = spawnSync(
    process.execPath,
    [vite, 'build', '--config', path.join(CONSOLE_DIR, 'vite.config.mjs'), '--logLevel', 'warn'],
    // The same bundle whoever builds it: the test setup runs with NODE_ENV=test, which Vite
    // would otherwise build into the bundle.
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } },
  );
  if (run.status !== 0) throw new Error(`the console did not build:\n${run.stdout}${run.stderr}`);
  log(`console built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return 'built';
}
