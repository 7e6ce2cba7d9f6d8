// Issue 29, "37 answers of 500 from crafted cursors" and "the year 0000 in report and
// statement ranges": a cursor is the platform's own opaque text, and a date range is two
// dates the database can hold, one not after the other. Anything else is 422
// `validation_failed` naming the parameter, on every route that pages or takes a range —
// never a 500, never a query sent. Each route also still walks its pages with its own cursors.
import { randomUUID } from 'node:crypto';
import { adminKey } from '../support/clients';
import { clientFor, expectProblem, type HttpResponse } from '../support/http';
import { PRICE, shopWithStock, uniqueCodes } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';

const logLines: string[] = [];
let stack: TestStack;
let admin: ReturnType<typeof clientFor>;
beforeAll(async () => {
  stack = await startStack({ logDestination: { write: (line) => logLines.push(line) } });
  admin = clientFor(stack.url, await adminKey(stack));
});
afterAll(() => stack?.close());

const errorLogs = () => logLines.filter((l) => JSON.parse(l).level >= 50);
const b64 = (text: string) => Buffer.from(text).toString('base64url');
const UUID = '0b9e8f3c-4a8e-4f6e-9a59-0a2b3c4d5e6f';
const AT = '2026-01-01T00:00:00.000Z';

/** Routes that page by (created at, id): the cursor is base64url of "<ISO time>|<uuid>". */
const TIME_CURSOR_ROUTES = ['/v1/risk/reviews', '/v1/compensations', '/v1/inventory/batches', '/v1/risk/lists'];

const CRAFTED_TIME_CURSORS: Record<string, string> = {
  'not base64 at all': '!!!***',
  'base64 of nothing useful': b64('nonsense'),
  'a NUL': b64(`${AT}\u0000|${UUID}`),
  'no id': b64(`${AT}|`),
  'an id of 36 dashes': b64(`${AT}|${'-'.repeat(36)}`),
  'an id that is not hex': b64(`${AT}|zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz`),
  'the year 0000': b64(`0000-01-01T00:00:00.000Z|${UUID}`),
  'a year beyond 9999': b64(`+275760-09-13T00:00:00.000Z|${UUID}`),
  'a year before 1970': b64(`1969-12-31T23:59:59.999Z|${UUID}`),
  'a date that is no date': b64(`2026-02-30T00:00:00.000Z|${UUID}`),
  'a bare number for a date': b64(`0|${UUID}`),
  'a third field': b64(`${AT}|${UUID}|x`),
  'a canonical cursor with junk after it': `${b64(`${AT}|${UUID}`)}.`,
  'far too long': 'A'.repeat(5000),
};

function expectCursorRefused(res: HttpResponse, param = 'cursor') {
  expectProblem(res, 422, 'validation_failed');
  expect(res.body.errors).toEqual([expect.objectContaining({ path: param })]);
}

describe.each(TIME_CURSOR_ROUTES)('%s', (route) => {
  test.each(Object.entries(CRAFTED_TIME_CURSORS))('a cursor with %s is 422', async (_label, cursor) => {
    expectCursorRefused(await admin.get(`${route}?cursor=${encodeURIComponent(cursor)}`));
  });
});

test.each([
  ['beyond int8', '9223372036854775808'],
  ['at 19 nines', '9999999999999999999'],
  ['negative', '-1'],
  ['a fraction', '1.5'],
  ['with a leading zero', '0123'],
  ['a time cursor', b64(`${AT}|${UUID}`)],
])('/v1/balance/statement: a cursor %s is 422', async (_label, cursor) => {
  expectCursorRefused(await admin.get(`/v1/balance/statement?currency=CNY&cursor=${encodeURIComponent(cursor)}`));
});

const RANGE_ROUTES = ['/v1/reports/reconciliation', '/v1/reports/redemptions', '/v1/balance/statement?currency=CNY'];
const withRange = (route: string, range: string) => `${route}${route.includes('?') ? '&' : '?'}${range}`;

describe.each(RANGE_ROUTES)('%s', (route) => {
  test.each([
    ['from', 'the year 0000', 'from=0000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z'],
    ['to', 'the year 0000', 'from=1970-01-01T00:00:00Z&to=0000-06-01T00:00:00Z'],
    ['to', 'a moment past 9999 in UTC', 'from=2026-01-01T00:00:00Z&to=9999-12-31T23:30:00-01:00'],
    ['from', 'a year before 1970', 'from=1969-12-31T00:00:00Z&to=2026-01-01T00:00:00Z'],
    ['to', 'from after to', 'from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z'],
    ['from', 'a date that is no date', 'from=2026-02-30T00:00:00Z&to=2026-03-01T00:00:00Z'],
  ])('%s: %s is 422', async (param, _label, range) => {
    expectCursorRefused(await admin.get(withRange(route, encodeURI(range).replace(/\+/g, '%2B'))), param);
  });

  test('the widest range the platform takes is answered', async () => {
    const res = await admin.get(withRange(route, 'from=1970-01-01T00:00:00Z&to=9999-12-31T23:59:59.999Z'));
    expect(res.status).toBe(200);
  });
});

test('every page of import batches, walked by its own cursors, lists each batch once, oldest first', async () => {
  const { sku } = await shopWithStock(stack, { stock: 0, topUp: PRICE });
  const mine: string[] = [];
  for (let i = 0; i < 5; i++) {
    const batch = await admin.post('/v1/inventory/batches', { sku, keys: uniqueCodes(1), supplier: `s-${i}` });
    mine.push(batch.body.batchId);
  }
  const seen: { id: string; createdAt: string }[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await admin.get(`/v1/inventory/batches?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    expect(page.body.batches.length).toBeLessThanOrEqual(2);
    seen.push(...page.body.batches);
    cursor = page.body.nextCursor;
    pages += 1;
  } while (cursor && pages < 1000);
  expect(new Set(seen.map((b) => b.id)).size).toBe(seen.length);
  expect(seen.filter((b) => mine.includes(b.id)).map((b) => b.id)).toEqual(mine);
  const times = seen.map((b) => b.createdAt);
  expect([...times].sort()).toEqual(times);
});

test('a well-formed cursor for a row that does not exist is an ordinary (empty or later) page', async () => {
  for (const route of TIME_CURSOR_ROUTES) {
    const res = await admin.get(`${route}?cursor=${b64(`9999-12-31T23:59:59.999Z|${randomUUID()}`)}`);
    expect({ route, status: res.status, nextCursor: res.body.nextCursor }).toEqual({
      route,
      status: 200,
      nextCursor: undefined,
    });
  }
  const statement = await admin.get('/v1/balance/statement?currency=CNY&cursor=9223372036854775807');
  expect(statement.status).toBe(200);
  expect(statement.body.lines).toEqual([]);
});

test('none of it was an error on the server', () => {
  expect(errorLogs()).toEqual([]);
});
