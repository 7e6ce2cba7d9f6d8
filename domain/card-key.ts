// What the platform accepts as a card key, wherever keys come in (API batch or CLI file).
import { z } from 'zod';

export const MAX_CARD_KEY_LENGTH = 256;

/**
 * One physical key has one spelling here: compatibility forms folded (fullwidth "ＡＢＣ" is
 * "ABC", a decomposed accent is the composed one: Unicode NFKC) and invisible format
 * characters (zero-width spaces and joiners, bidi marks) dropped, before the key is
 * fingerprinted for duplicates and sealed.
 */
export function normaliseCardKey(raw: string): string {
  return raw
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .trim();
}

/** Printable, no control characters or unpaired surrogates, at most 256 characters once normalised. */
export const CardKeySchema = z
  .string()
  .refine((v) => !/\p{Cs}/u.test(v), 'contains an unpaired surrogate')
  .transform(normaliseCardKey)
  .pipe(
    z
      .string()
      .min(1, 'empty key')
      .max(MAX_CARD_KEY_LENGTH, `longer than ${MAX_CARD_KEY_LENGTH} characters`)
      .regex(/^[^\p{Cc}]+$/u, 'contains control characters'),
  );
