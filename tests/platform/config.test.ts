// Acceptance: each missing or malformed variable produces one clear line naming it and exit
// code 1; production refuses development secrets.
import { spawnSync } from 'node:child_process';
import { DEV_SECRETS, parseConfig, ConfigError } from '../../infra/config';
import { nodeTsArgs, ROOT } from '../../scripts/lib/node-ts';

const GOOD_PRODUCTION = {
  NODE_ENV: 'production',
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  KEY_FINGERPRINT_SECRET: 'f'.repeat(40),
  CLAIM_TOKEN_SECRET: 'c'.repeat(40),
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

test.each([
  ['DATABASE_URL', 'mysql://root@localhost/db', 'DATABASE_URL: must be a postgresql:// URL'],
  ['API_PORT', 'eighty', 'API_PORT: '],
  ['API_PORT', '70000', 'API_PORT: '],
  ['TEMPORAL_ADDRESS', 'localhost', 'TEMPORAL_ADDRESS: must be host:port'],
  ['KEY_ENCRYPTION_KEY', 'c2hvcnQ=', 'KEY_ENCRYPTION_KEY: must be 32 bytes, base64-encoded'],
  ['CLAIM_TOKEN_SECRET', 'short', 'CLAIM_TOKEN_SECRET: must be at least 32 characters'],
  ['NODE_ENV', 'staging', 'NODE_ENV: '],
  ['LOG_LEVEL', 'loud', 'LOG_LEVEL: '],
])('%s=%s is refused with one line naming it', (name, value, line) => {
  const problems = problemsOf({ [name]: value });
  expect(problems).toHaveLength(1);
  expect(problems[0]).toContain(line);
});

test('every bad variable gets its own line', () => {
  expect(problemsOf({ API_PORT: 'x', DATABASE_URL: 'nope', LOG_LEVEL: 'loud' }).map((l) => l.split(':')[0])).toEqual(
    expect.arrayContaining(['API_PORT', 'DATABASE_URL', 'LOG_LEVEL']),
  );
});

test('production requires its secrets and refuses the development defaults', () => {
  expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
    'KEY_ENCRYPTION_KEY: required in production',
    'KEY_FINGERPRINT_SECRET: required in production',
    'CLAIM_TOKEN_SECRET: required in production',
  ]);
  expect(problemsOf({ ...GOOD_PRODUCTION, CLAIM_TOKEN_SECRET: DEV_SECRETS.CLAIM_TOKEN_SECRET })).toEqual([
    'CLAIM_TOKEN_SECRET: the development default is not allowed in production',
  ]);
  expect(problemsOf({ ...GOOD_PRODUCTION, BOOTSTRAP_ADMIN_KEY: DEV_SECRETS.BOOTSTRAP_ADMIN_KEY })).toEqual([
    'BOOTSTRAP_ADMIN_KEY: the development default is not allowed in production',
  ]);
  expect(problemsOf(GOOD_PRODUCTION)).toEqual([]);
});

test('development falls back to the development secrets', () => {
  const config = parseConfig({ NODE_ENV: 'development' });
  expect(config.KEY_ENCRYPTION_KEY).toBe(DEV_SECRETS.KEY_ENCRYPTION_KEY);
  expect(config.PUBLIC_BASE_URL).toBe('http://127.0.0.1:3000');
});

test.each([['api/main.ts'], ['workers/main.ts']])('%s exits 1 printing one line per bad variable', (entry) => {
  const run = spawnSync(process.execPath, nodeTsArgs(entry), {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', API_PORT: 'eighty' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(run.status).toBe(1);
  expect(run.stderr.trim().split('\n')).toEqual([
    expect.stringMatching(/^config error: API_PORT: /),
    'config error: KEY_ENCRYPTION_KEY: required in production',
    'config error: KEY_FINGERPRINT_SECRET: required in production',
    'config error: CLAIM_TOKEN_SECRET: required in production',
  ]);
});
