// `npm run keys:import -- --sku SKU [--supplier NAME] [--cost-minor N] file.csv`: imports a
// supplier's card keys from a CSV (first column) into stock. The file is streamed line by line,
// so memory stays flat however large it is; keys are encrypted and deduplicated by importKeys.
// Key plaintext is never printed: bad lines are reported by line number only.
import { type FileHandle, open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { CardKeySchema } from '../domain/card-key';
import { FreeText } from '../domain/text';
import { loadConfigOrExit } from '../infra/config';
import { keyringFrom } from '../infra/crypto';
import { closeDb, createDb } from '../infra/db';
import { importKeys } from '../store/inventory';
import { peakRssMb } from './lib/peak-rss';

const USAGE = 'usage: npm run keys:import -- --sku SKU [--supplier NAME] [--cost-minor N] file.csv';
const HEADERS = new Set(['key', 'code', 'card_key']);
/** Past this many, rejected lines are only counted, so a wrong file cannot flood the terminal. */
const MAX_REPORTED_REJECTS = 100;
const ACTOR = { clientId: null, name: 'cli:keys-import' };

/** Set once keys start going in: a failure after that leaves a partial batch behind. */
let importing = false;

const fail = (line: string) => process.stderr.write(`keys:import: ${line}\n`);

interface Options {
  sku: string;
  supplier: string | undefined;
  costMinor: number | undefined;
  file: string;
}

function usageError(problem: string): never {
  fail(`${problem}; ${USAGE}`);
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        sku: { type: 'string' },
        supplier: { type: 'string' },
        'cost-minor': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // Node's own messages add a paragraph on `--`; the first sentence is the useful part.
    usageError(err instanceof Error ? err.message.split('. ')[0]! : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const sku = values.sku?.trim();
  if (!sku) usageError('--sku is required');
  if (positionals.length !== 1)
    usageError(positionals.length === 0 ? 'the CSV file is required' : 'give exactly one file');
  let supplier: string | undefined;
  if (values.supplier !== undefined) {
    // The same rule as the API's batch import: a name, nothing invisible.
    const checked = FreeText(100).safeParse(values.supplier);
    if (!checked.success) usageError(`--supplier ${checked.error.issues[0]?.message ?? 'is invalid'}`);
    else supplier = checked.data;
  }
  let costMinor: number | undefined;
  if (values['cost-minor'] !== undefined) {
    costMinor = Number(values['cost-minor']);
    // Minor units (fen, cents) in a 32-bit column: an integer, never a float.
    if (!/^\d+$/.test(values['cost-minor']) || costMinor > 2_147_483_647) {
      usageError('--cost-minor must be a whole number of minor units (e.g. 1250 for 12.50)');
    }
  }
  return { sku, supplier, costMinor, file: positionals[0]! };
}

/** The first field of a CSV line, unquoted; undefined when its quoting is broken. */
function firstField(line: string): string | undefined {
  if (!line.startsWith('"')) {
    const comma = line.indexOf(',');
    return comma === -1 ? line : line.slice(0, comma);
  }
  let value = '';
  for (let i = 1; i < line.length; i++) {
    if (line[i] !== '"') {
      value += line[i];
    } else if (line[i + 1] === '"') {
      value += '"';
      i++;
    } else {
      const rest = line.slice(i + 1).trimStart();
      return rest === '' || rest.startsWith(',') ? value : undefined;
    }
  }
  return undefined;
}

/** The key as it will be stored (normalised), or why it cannot be. */
function checkKey(key: string): { key: string } | { problem: string } {
  // The file is read as UTF-8; a replacement character means it was not (e.g. a GBK export).
  if (key.includes('\uFFFD')) return { problem: 'not valid UTF-8' };
  const checked = CardKeySchema.safeParse(key);
  return checked.success ? { key: checked.data } : { problem: checked.error.issues[0]?.message ?? 'invalid key' };
}

/** Progress on stderr: one redrawn line on a terminal, a line per ~10% otherwise (CI logs, tests). */
class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private readonly startedAt = Date.now();
  private lastDraw = 0;
  private nextStep = 10;
  private drawn = false;

  constructor(private readonly totalBytes: number) {}

  update(bytesRead: number, keys: number, final = false): void {
    const percent = this.totalBytes === 0 ? 100 : Math.min(100, Math.floor((bytesRead / this.totalBytes) * 100));
    const seconds = (Date.now() - this.startedAt) / 1000;
    const rate = seconds > 0 ? Math.round(keys / seconds) : 0;
    const stats = `${String(percent).padStart(3)}%  ${keys.toLocaleString('en-US')} keys  ${rate.toLocaleString('en-US')} keys/s`;
    if (this.tty) {
      const now = Date.now();
      if (!final && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const width = 30;
      const filled = Math.round((percent / 100) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${stats}\x1b[K`);
      this.drawn = true;
      if (final) this.finish();
    } else if (percent >= this.nextStep || (final && this.nextStep <= 100)) {
      process.stderr.write(`keys:import: ${stats}\n`);
      this.nextStep = percent >= 100 ? Infinity : (Math.floor(percent / 10) + 1) * 10;
    }
  }

  /** Prints a message without mangling the redrawn progress line. */
  note(line: string): void {
    if (this.tty && this.drawn) process.stderr.write('\r\x1b[K');
    fail(line);
    this.lastDraw = 0;
  }

  finish(): void {
    if (this.tty && this.drawn) process.stderr.write('\n');
    this.drawn = false;
  }
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  // Opened before touching the database, so an unreadable file fails fast and writes nothing.
  let file: FileHandle;
  let size: number;
  try {
    file = await open(options.file, 'r');
    const info = await file.stat();
    if (!info.isFile()) {
      await file.close();
      throw new Error('not a regular file');
    }
    size = info.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    fail(`cannot read ${options.file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    return 1;
  }

  const config = loadConfigOrExit();
  const db = createDb(config.DATABASE_URL, 2);
  let streaming = false;
  try {
    const product = await db.product.findUnique({ where: { sku: options.sku } });
    if (!product) {
      fail(`unknown sku "${options.sku}": no product has it`);
      return 1;
    }
    if (!product.active) {
      fail(`product "${options.sku}" is inactive; activate it before importing keys`);
      return 1;
    }
    if (product.kind !== 'card_key') {
      fail(`product "${options.sku}" is delivered as ${product.kind}, not as card keys`);
      return 1;
    }

    const progress = new Progress(size);
    let bytesRead = 0;
    let rejected = 0;

    async function* keysFrom(): AsyncGenerator<string> {
      streaming = true;
      const input = file.createReadStream({ encoding: 'utf8' }); // closes the handle when done
      const lines = createInterface({ input, crlfDelay: Infinity });
      let lineNo = 0;
      let sawContent = false;
      try {
        for await (const rawLine of lines) {
          lineNo += 1;
          bytesRead += Buffer.byteLength(rawLine, 'utf8') + 1;
          const line = lineNo === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine; // spreadsheet BOM
          if (line.trim() === '') continue;
          const field = firstField(line);
          const key = field?.trim();
          if (!sawContent) {
            sawContent = true;
            if (key !== undefined && HEADERS.has(key.toLowerCase())) continue;
          }
          const checked: { key: string } | { problem: string } =
            key === undefined
              ? { problem: 'unbalanced quotes' }
              : key === ''
                ? { problem: 'empty key' }
                : checkKey(key);
          if ('problem' in checked) {
            const { problem } = checked;
            rejected += 1;
            if (rejected <= MAX_REPORTED_REJECTS) progress.note(`line ${lineNo}: skipped, ${problem}`);
            else if (rejected === MAX_REPORTED_REJECTS + 1) progress.note('more lines skipped; only counted from here');
            continue;
          }
          yield checked.key;
        }
      } finally {
        lines.close();
        input.destroy();
      }
    }

    const startedAt = process.hrtime.bigint();
    let processed = 0;
    importing = true;
    const result = await importKeys(
      db,
      {
        keyring: keyringFrom(config.KEY_ENCRYPTION_KEY_ID, config.KEY_ENCRYPTION_KEY),
        fingerprintSecret: config.KEY_FINGERPRINT_SECRET,
      },
      {
        product,
        keys: keysFrom(),
        supplier: options.supplier,
        costMinor: options.costMinor,
        actor: ACTOR,
        onProgress: (done) => {
          processed = done;
          progress.update(bytesRead, done);
        },
      },
    );
    progress.update(size, processed, true);
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    const summary = {
      batchId: result.batchId,
      imported: result.imported,
      duplicates: result.duplicates,
      rejected,
      seconds: Math.round(seconds * 100) / 100,
      peakRssMb: Math.round(peakRssMb()),
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  } finally {
    if (!streaming) await file.close();
    await closeDb(db);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (process.stderr.isTTY) process.stderr.write('\n');
    fail(`failed: ${err instanceof Error ? err.message : String(err)}`);
    if (importing) {
      fail('keys stored before the failure stay in stock; importing the same file again skips them as duplicates');
    }
    process.exitCode = 1;
  },
);
