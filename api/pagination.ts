// Keyset pagination, the API's half: `?cursor=&limit=` of every paginated route and the
// `nextCursor` of its answer. A cursor is the platform's own text, opaque to callers, and is
// taken back only as the platform wrote it: decoded, checked (a time the records can hold, an
// id that is a uuid or fits int8) and written again to the same text. Anything else — garbage
// base64, a NUL, the year 0000, 36 dashes for an id, a number beyond int8 — is 422
// `validation_failed` at `cursor`, before any query (issue 29: 37 answers of 500).
import { z } from 'zod';
import type { TimeKey } from '../store/keyset';
import { withinRecords } from './date-range';

interface CursorCodec<Key> {
  encode(key: Key): string;
  /** The key, or null for text this codec did not write. */
  decode(text: string): Key | null;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const INT8_MAX = 2n ** 63n - 1n;

/** (created at, id) as base64url of "<ISO time>|<uuid>". */
export const timeCursor: CursorCodec<TimeKey> = {
  encode: (key) => Buffer.from(`${key.at.toISOString()}|${key.id}`).toString('base64url'),
  decode(text) {
    const [at = '', id = '', ...rest] = Buffer.from(text, 'base64url').toString('utf8').split('|');
    if (rest.length > 0 || !ISO_TIME.test(at) || !UUID.test(id)) return null;
    const when = new Date(at);
    if (Number.isNaN(when.getTime()) || !withinRecords(when)) return null;
    const key = { at: when, id };
    // Node's base64 decoder skips what it cannot read; only the exact text it was is taken.
    return timeCursor.encode(key) === text ? key : null;
  },
};

/** A serial (bigint) id as its decimal digits. */
export const serialCursor: CursorCodec<bigint> = {
  encode: (key) => key.toString(),
  decode(text) {
    if (!/^(0|[1-9]\d{0,18})$/.test(text)) return null;
    const key = BigInt(text);
    return key <= INT8_MAX ? key : null;
  },
};

/** The `cursor` query parameter of a route whose pages `codec` writes. */
export function cursorParam<Key>(codec: CursorCodec<Key>) {
  return z
    .string()
    .max(200, 'must be a cursor from a previous page')
    .transform((text, ctx): Key => {
      const key = codec.decode(text);
      if (key === null) {
        ctx.addIssue({ code: 'custom', message: 'must be a cursor from a previous page' });
        return z.NEVER;
      }
      return key;
    });
}

/** `cursor` and `limit` of a list paged by (created at, id), to spread into the route's query schema. */
export function pageParams(limit: { max: number; default: number }) {
  return {
    cursor: cursorParam(timeCursor).optional(),
    limit: z.coerce.number().int().min(1).max(limit.max).default(limit.default),
  };
}

/** The answer's `nextCursor`, present only when another page follows. */
export function nextCursorOf<Key>(codec: CursorCodec<Key>, next: Key | undefined): { nextCursor?: string } {
  return next === undefined ? {} : { nextCursor: codec.encode(next) };
}
