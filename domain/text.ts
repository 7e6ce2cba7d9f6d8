// Text the API accepts. Control characters (NUL included) break storage and logs; format
// characters (bidi overrides, zero-width) make one string look like another; unpaired
// surrogates are not text. Identifiers additionally refuse surrounding whitespace: "A" and
// "A " are one order to a person and must not become two.
import { z } from 'zod';

const INVISIBLE_OR_BROKEN = /[\p{Cc}\p{Cf}\p{Cs}]/u;
const visible = (v: string) => !INVISIBLE_OR_BROKEN.test(v);
const VISIBLE_ONLY = 'must not contain control, format or unpaired surrogate characters';

/** A name, label, reason or note a person writes: trimmed, 1..max characters, nothing invisible. */
export const FreeText = (max: number) => z.string().trim().min(1).max(max).refine(visible, VISIBLE_ONLY);

/** Text that means exactly what was written (a pattern, a secret): min..max characters, nothing invisible, not trimmed. */
export const VerbatimText = (max: number, min = 1) => z.string().min(min).max(max).refine(visible, VISIBLE_ONLY);

/**
 * An http(s) URL the platform stores and later calls or hands out. The URL parser keeps raw
 * control and format characters in a path or query as they are, so they are refused here.
 */
export const HttpUrl = (max = 2048) =>
  z
    .url({ protocol: /^https?$/ })
    .max(max)
    .refine(visible, VISIBLE_ONLY);

/** An identifier from another system: 1..max printable ASCII characters, no leading or trailing space. */
export const Identifier = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/, 'must be printable ASCII without leading or trailing spaces');
