// `npm run keys:import` end to end, as a child process against the run's database: 100k keys
// stream through in bounded memory with progress, duplicates are counted not stored, bad lines
// are reported by number, and no key plaintext reaches the database or the output.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../infra/config';
import { keyringFrom } from '../../infra/crypto';
import { closeDb, createDb, type Db } from '../../infra/db';
import { fingerprintOf, openKey } from '../../store/inventory';
import { nodeTsArgs, ROOT } from '../../scripts/lib/node-ts';

const PROGRESS_LINE = /^keys:import: +\d+% /;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeTsArgs('scripts/keys-import.ts', args), {
      cwd: ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function summaryOf(run: Run) {
  const lines = run.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as {
    batchId: string;
    imported: number;
    duplicates: number;
    rejected: number;
    seconds: number;
    peakRssMb: number;
  };
}

/** Deterministic per index, random per generator, so keys never collide with another test's. */
function keyGenerator(tag: string) {
  const run = randomBytes(6).toString('hex').toUpperCase();
  return (i: number) => `${tag}-${run}-${i.toString(36).toUpperCase().padStart(5, '0')}`;
}

let db: Db;
let dir: string;
const config = parseConfig(process.env);

beforeAll(() => {
  db = createDb(process.env.DATABASE_URL!, 2);
  dir = mkdtempSync(path.join(tmpdir(), 'keys-import-'));
});
afterAll(async () => {
  await closeDb(db);
  rmSync(dir, { recursive: true, force: true });
});

async function newProduct() {
  const sku = `cli-import-${randomUUID().slice(0, 8)}`;
  return db.product.create({
    data: { sku, name: `CLI import ${sku}`, kind: 'card_key', priceMinor: 100, currency: 'CNY' },
  });
}

function csv(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

test('100,000 keys stream in with progress, bounded memory and no plaintext anywhere', async () => {
  const product = await newProduct();
  const keyAt = keyGenerator('BIG');
  const keys = Array.from({ length: 100_000 }, (_, i) => keyAt(i));
  const file = csv('big.csv', ['key', ...keys]);

  const run = await runCli(['--sku', product.sku, file]);
  expect(run).toMatchObject({ code: 0 });
  const summary = summaryOf(run);
  console.log(`keys:import of 100,000 keys: ${summary.seconds} s, peak RSS ${summary.peakRssMb} MB`);
  expect(summary).toMatchObject({ imported: 100_000, duplicates: 0, rejected: 0 });
  expect(summary.peakRssMb).toBeLessThan(300);
  const progress = run.stderr.split('\n').filter((line) => PROGRESS_LINE.test(line));
  expect(progress.length).toBeGreaterThanOrEqual(5);
  expect(progress.at(-1)).toMatch(/^keys:import: +100% +100,000 keys/);

  expect(await db.cardKey.count({ where: { productId: product.id } })).toBe(100_000);
  expect(await db.keyBatch.findUniqueOrThrow({ where: { id: summary.batchId } })).toMatchObject({
    productId: product.id,
    importedCount: 100_000,
    duplicateCount: 0,
  });

  const sample = Array.from({ length: 50 }, (_, i) => keys[i * 1999]!);
  // The stored rows are the keys: each sample is found by fingerprint and opens back to itself.
  const keyring = keyringFrom(config.KEY_ENCRYPTION_KEY_ID, config.KEY_ENCRYPTION_KEY);
  const fingerprints = sample.map((k) => fingerprintOf(config.KEY_FINGERPRINT_SECRET, product.id, k));
  const found = await db.cardKey.findMany({ where: { productId: product.id, fingerprint: { in: fingerprints } } });
  expect(found.map((row) => openKey(keyring, row)).sort()).toEqual([...sample].sort());

  // …and none of them is readable as plaintext in the database or the CLI's output.
  const rows = await db.$queryRaw<{ ciphertext: string; fingerprint: string }[]>`
    SELECT ciphertext, fingerprint FROM card_keys WHERE product_id = ${product.id}::uuid`;
  const stored = rows.map((r) => `${r.ciphertext}\n${r.fingerprint}`).join('\n');
  const [batch] = await db.$queryRaw<{ dump: string }[]>`
    SELECT row_to_json(b)::text || coalesce((SELECT string_agg(row_to_json(a)::text, '') FROM audit_log a
      WHERE a.subject_id = b.id::text), '') AS dump
    FROM key_batches b WHERE b.id = ${summary.batchId}::uuid`;
  for (const key of sample) {
    expect(stored.includes(key)).toBe(false);
    expect(batch!.dump.includes(key)).toBe(false);
    expect(run.stdout.includes(key)).toBe(false);
    expect(run.stderr.includes(key)).toBe(false);
  }
}, 240_000);

test('duplicates within a file and across imports are counted, not stored', async () => {
  const product = await newProduct();
  const keyAt = keyGenerator('DUP');
  const [a, b, c, d, e, f] = [0, 1, 2, 3, 4, 5].map(keyAt) as [string, string, string, string, string, string];

  const first = await runCli([
    '--sku',
    product.sku,
    '--supplier',
    'Acme Cards',
    '--cost-minor',
    '80',
    csv('first.csv', [a, b, c, a, d]),
  ]);
  expect(first).toMatchObject({ code: 0 });
  expect(summaryOf(first)).toMatchObject({ imported: 4, duplicates: 1, rejected: 0 });
  expect(await db.keyBatch.findUniqueOrThrow({ where: { id: summaryOf(first).batchId } })).toMatchObject({
    supplier: 'Acme Cards',
    costMinor: 80,
    importedCount: 4,
    duplicateCount: 1,
  });

  const second = await runCli(['--sku', product.sku, csv('second.csv', [b, e, d, f])]);
  expect(second).toMatchObject({ code: 0 });
  expect(summaryOf(second)).toMatchObject({ imported: 2, duplicates: 2, rejected: 0 });

  expect(await db.cardKey.count({ where: { productId: product.id } })).toBe(6);
  const audit = await db.auditLog.findMany({
    where: { action: 'inventory.imported', subjectId: { in: [summaryOf(first).batchId, summaryOf(second).batchId] } },
  });
  expect(audit).toHaveLength(2);
  expect(audit.every((entry) => entry.actor === 'cli:keys-import' && entry.actorClientId === null)).toBe(true);
}, 60_000);

test('bad lines are skipped and reported by line number, never by value', async () => {
  const product = await newProduct();
  const keyAt = keyGenerator('ODD');
  const tooLong = `LONG${'x'.repeat(300)}`;
  const withControl = `CTRL\u0007${keyAt(90)}`;
  const file = path.join(dir, 'odd.csv');
  writeFileSync(
    file,
    [
      '\uFEFFCard_Key,serial', // header in any case, behind a spreadsheet's BOM
      `  ${keyAt(1)}  ,first`, // trimmed, other columns ignored
      '',
      `"${keyAt(2)}",second`, // quoted
      tooLong, // line 5
      '   ',
      withControl, // line 7
      `${keyAt(3)}\r`, // CRLF
    ].join('\n'),
  );

  const run = await runCli(['--sku', product.sku, file]);
  expect(run).toMatchObject({ code: 0 });
  expect(summaryOf(run)).toMatchObject({ imported: 3, duplicates: 0, rejected: 2 });
  expect(run.stderr).toContain('line 5: skipped, longer than 256 characters');
  expect(run.stderr).toContain('line 7: skipped, contains control characters');
  expect(run.stderr).not.toContain('LONG');
  expect(run.stderr).not.toContain('CTRL');

  const keyring = keyringFrom(config.KEY_ENCRYPTION_KEY_ID, config.KEY_ENCRYPTION_KEY);
  const stored = await db.cardKey.findMany({ where: { productId: product.id } });
  expect(stored.map((row) => openKey(keyring, row)).sort()).toEqual([keyAt(1), keyAt(2), keyAt(3)].sort());
});

test('an unknown sku exits 1 naming it and writes nothing', async () => {
  const sku = `no-such-sku-${randomUUID().slice(0, 8)}`;
  const batchesBefore = await db.keyBatch.count();
  const run = await runCli(['--sku', sku, csv('unknown.csv', ['key', 'SOME-KEY-0001'])]);
  expect(run.code).toBe(1);
  expect(run.stderr).toContain(sku);
  expect(run.stdout).toBe('');
  expect(await db.keyBatch.count()).toBe(batchesBefore);
});

test.each([
  [[], '--sku is required'],
  [['--sku', 'x'], 'the CSV file is required'],
  [['--sku', 'x', '--cost-minor', '12.5', 'f.csv'], '--cost-minor'],
  [['--sku', 'x', '--bogus', 'f.csv'], "Unknown option '--bogus'"],
  [['--sku', 'x', '--supplier', 'acme\u202e', 'f.csv'], '--supplier must not contain control'],
  [['--sku', 'x', '--supplier', '   ', 'f.csv'], '--supplier'],
])('bad usage %j exits 2 with one line', async (args, message) => {
  const run = await runCli(args);
  expect(run.code).toBe(2);
  expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
});
