// The one rule for a date a query names (`from`, `to` of reports and the statement; the time
// in a cursor): ISO 8601 with an offset (zod's format checks the day exists), between 1970
// and 9999 in UTC. PostgreSQL has no year 0 (22008), Prisma cannot send a year past 9999, and nothing on the
// platform happened before 1970: such a date is a caller's mistake, answered 422.
import { z } from 'zod';

export const EARLIEST = new Date('1970-01-01T00:00:00.000Z');
export const LATEST = new Date('9999-12-31T23:59:59.999Z');

/** Within the years the platform's records can hold. */
export const withinRecords = (at: Date) => at >= EARLIEST && at <= LATEST;

export const DateParam = z.iso
  .datetime({ offset: true })
  .transform((text) => new Date(text))
  .refine(withinRecords, { message: 'must be between 1970-01-01 and 9999-12-31 (UTC)', abort: true });

const RANGE_ORDER = { message: 'from must not be after to', path: ['to'] };
// Object refinements run even when a field failed (its value then is not a Date): the order
// is judged only between two dates that passed.
const inOrder = ({ from, to }: { from?: unknown; to?: unknown }) =>
  !(from instanceof Date) || !(to instanceof Date) || from <= to;

/** `from` and `to`, both required (reports). */
export const DateRange = z.strictObject({ from: DateParam, to: DateParam }).refine(inOrder, RANGE_ORDER);

/** A query object with optional `from` and `to` (and other parameters), refused when `from` is after `to`. */
export function inDateOrder<S extends z.ZodType<{ from?: Date | undefined; to?: Date | undefined }>>(schema: S) {
  return schema.refine(inOrder, RANGE_ORDER);
}
