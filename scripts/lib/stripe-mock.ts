// Runs stripe-mock, Stripe's own mock of its API (real HTTP, real request validation, fixed
// fixtures and no state), for the tests and `npm start`: card payments work without a Stripe
// account. Found or built like the Temporal dev server (scripts/lib/go-tools.ts).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildGoTool, CACHE_DIR, findGoTool, goModuleDir, type GoTool } from './go-tools';
import { stopChild } from './temporal-dev-server';

export const STRIPE_MOCK: GoTool = {
  name: 'stripe-mock',
  module: 'github.com/stripe/stripe-mock@v0.203.0',
  pathVariable: 'STRIPE_MOCK_PATH',
  buildTakes: 'under a minute',
};

/** stripe-mock accepts any key of the right shape. */
export const STRIPE_MOCK_API_KEY = 'sk_test_rightsPlatformStripeMock';

export interface StripeMock {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * stripe-mock answers every PaymentIntent with one fixture, a `requires_payment_method`
 * intent carrying a payment error: what real Stripe returns for a card it could not
 * authorize. Its own fixtures, with that one resource made an authorized manual-capture
 * intent (`requires_capture`), make it answer as Stripe does for a good card; declines are
 * the tests' proxy's business. Null when the module's fixtures cannot be found.
 */
function authorizingFixtures(log: (line: string) => void): string | null {
  const dir = goModuleDir(STRIPE_MOCK);
  const source = dir ? path.join(dir, 'embedded', 'openapi', 'fixtures3.json') : null;
  if (!source || !existsSync(source)) {
    log('stripe-mock fixtures not found: every card payment will be declined');
    return null;
  }
  const fixtures = JSON.parse(readFileSync(source, 'utf8')) as { resources: Record<string, Record<string, unknown>> };
  const intent = fixtures.resources.payment_intent!;
  Object.assign(intent, { status: 'requires_capture', last_payment_error: null, capture_method: 'manual' });
  const target = path.join(CACHE_DIR, 'stripe-mock-fixtures.json');
  writeFileSync(target, JSON.stringify(fixtures));
  return target;
}

/** Starts stripe-mock on `port`; null when there is neither a binary nor Go to build one. */
export async function startStripeMock(port: number, log: (line: string) => void): Promise<StripeMock | null> {
  const binary = findGoTool(STRIPE_MOCK) ?? buildGoTool(STRIPE_MOCK, log);
  if (!binary) return null;
  const fixtures = authorizingFixtures(log);
  // -http-port (unlike -http-addr) also keeps stripe-mock from opening its default HTTPS port,
  // which two runs on one machine would fight over.
  const args = ['-http-port', String(port), ...(fixtures ? ['-fixtures', fixtures] : [])];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`stripe-mock exited (${child.exitCode}): ${stderr}`);
    const answered = await fetch(`${url}/v1/balance`, { headers: { authorization: `Bearer ${STRIPE_MOCK_API_KEY}` } })
      .then((r) => r.ok)
      .catch(() => false);
    if (answered) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`stripe-mock did not answer on ${url} within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, pid: child.pid, stop: () => stopChild(child) };
}
