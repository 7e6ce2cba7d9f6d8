// Issue 29, "a refund that can never happen": a NUL in a refund reason was accepted (202) and
// then refused by PostgreSQL on every retry. One rule for text at the boundary, checked like a
// lint: every string a request schema takes — each zod schema the routes export, and the
// schemas the supplier and policy routes check nested values with — refuses NUL, a bidi
// override, a zero-width space and an unpaired surrogate, or (card keys, which are normalised
// on purpose) drops them. The scan walks the schemas, so a field added later is covered too.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { RiskPolicySchema } from '../../domain/risk/policy';
import { CREDENTIALS_BY_PROTOCOL } from '../../domain/suppliers';

const BAD = { NUL: '\u0000', 'bidi override': '\u202E', 'zero-width space': '\u200B', 'unpaired surrogate': '\uD800' };

/** Shapes a field might need before the bad character is even looked at: short, long, a URL. */
const carriers = (bad: string) => [
  `a${bad}b`,
  `${'a'.repeat(20)}${bad}${'b'.repeat(20)}`,
  `https://example.com/p${bad}q`,
];

/**
 * Where a string enters this schema's input is one "leaf": a string schema, or a pipe or
 * transform whose input is a string (the whole pipe is tried, as a request would meet it).
 */
type Schema = z.core.$ZodType;
const defOf = (s: Schema) => s._zod.def as unknown as Record<string, any> & { type: string };
const takesString = (s: Schema): boolean =>
  defOf(s).type === 'string' || (defOf(s).type === 'pipe' && takesString(defOf(s).in));

function* textLeaves(schema: Schema, path: string): Generator<[string, Schema]> {
  const def = defOf(schema);
  if (takesString(schema)) {
    yield [path, schema];
    return;
  }
  switch (def.type) {
    case 'object':
      for (const [key, value] of Object.entries(def.shape as Record<string, Schema>))
        yield* textLeaves(value, `${path}.${key}`);
      return;
    case 'union':
      for (const [i, option] of (def.options as Schema[]).entries()) yield* textLeaves(option, `${path}|${i}`);
      return;
    case 'intersection':
      yield* textLeaves(def.left, path);
      yield* textLeaves(def.right, path);
      return;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      yield* textLeaves(def.innerType, path);
      return;
    case 'pipe':
      yield* textLeaves(def.in, path);
      return;
    case 'array':
      yield* textLeaves(def.element, `${path}[]`);
      return;
    case 'record':
      yield* textLeaves(def.keyType, `${path}{key}`);
      yield* textLeaves(def.valueType, `${path}{value}`);
      return;
    case 'lazy':
      yield* textLeaves(def.getter(), path);
      return;
    default:
      // Numbers, booleans, enums, literals, unknown (parsed again by a schema listed below).
      return;
  }
}

function exportedSchemas(): [string, Schema][] {
  const dir = join(__dirname, '../../api/routes');
  const found: [string, Schema][] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const module = require(join(dir, file)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      if (value instanceof z.ZodType) found.push([`${file.replace(/\.ts$/, '')}:${name}`, value]);
    }
  }
  return found;
}

const schemas: [string, Schema][] = [
  ...exportedSchemas(),
  // Checked inside the routes, on values the route schemas take as `unknown` or as a record.
  ...Object.entries(CREDENTIALS_BY_PROTOCOL).map(([protocol, s]): [string, Schema] => [`credentials:${protocol}`, s]),
  ['risk-policies:RiskPolicySchema', RiskPolicySchema],
];

/**
 * Not refused by its schema, on purpose, and refused before anything is written: an IP list
 * value is parsed by the store (`canonicalIpValue`: anything that is not an address or network
 * is 422 `validation_failed`), whose address rules the IP work owns.
 */
const CHECKED_ELSEWHERE = new Set(['risk-lists:NewListEntryBody|2.value']);

const carries = (value: unknown, bad: string): boolean =>
  typeof value === 'string'
    ? value.includes(bad)
    : typeof value === 'object' && value !== null && Object.values(value).some((v) => carries(v, bad));

const leaves = schemas.flatMap(([name, schema]) => [...textLeaves(schema, name)]);

test('the scan reaches the free-text fields people type', () => {
  const paths = leaves.map(([path]) => path);
  expect(paths).toEqual(
    expect.arrayContaining([
      'refunds:RefundBody.reason',
      'risk-reviews:DecisionBody.note',
      'batches:ReleaseBatchBody.reason',
      'batches:VoidBatchBody.reason',
      'risk-lists:NewListEntryBody|0.note',
      'claims:ReportBody.reason',
      'unit-reveal:RevealBody.reason',
      'unit-compensations:CompensationBody.note',
      'inventory:ImportBatchBody.supplier',
      'products:CreateProductBody.name',
      'products:CreateProductBody.accountPattern',
      'clients:CreateClientBody.webhookUrl',
      'orders:CreateOrderBody.callbackUrl',
      'credentials:reference.secret',
    ]),
  );
});

describe.each(Object.entries(BAD))('%s', (_label, bad) => {
  const checked = leaves.filter(([path]) => !CHECKED_ELSEWHERE.has(path));
  test.each(checked)('%s refuses it (or drops it)', (_path, leaf) => {
    for (const text of carriers(bad)) {
      const parsed = z.safeParse(leaf, text);
      if (parsed.success) expect(carries(parsed.data, bad)).toBe(false);
    }
  });
});

test('the free-text fields still take ordinary text, in any script', () => {
  const fields = new Map(leaves);
  for (const path of ['refunds:RefundBody.reason', 'risk-reviews:DecisionBody.note']) {
    expect(z.safeParse(fields.get(path)!, '  客户说卡密无效 — Code rejected (twice)  ')).toEqual({
      success: true,
      data: '客户说卡密无效 — Code rejected (twice)',
    });
  }
});
