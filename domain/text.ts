// Text the API accepts. Control characters (NUL included) break storage and logs; format
// characters (bidi overrides, zero-width) make one string look like another; unpaired
// surrogates are not text. Identifiers additionally refuse surrounding whitespace: "A" and
// "A " are one order to a person and must not become two.
import { z } from 'zod';

const INVISIBLE_OR_BROKEN = /[\p{Cc}\p{Cf}\p{Cs}]/u;

/** A name or label: trimmed, 1..max characters, nothing invisible. */
export const FreeText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((v) => !INVISIBLE_OR_BROKEN.test(v), 'must not contain control, format or unpaired surrogate characters');

/** An identifier from another system: 1..max printable ASCII characters, no leading or trailing space. */
export const Identifier = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/, 'must be printable ASCII without leading or trailing spaces');
