// What the platform accepts as a card key, wherever keys come in (API batch or CLI file).
import { z } from 'zod';

export const MAX_CARD_KEY_LENGTH = 256;

/** Printable, no control characters, at most 256 characters; surrounding whitespace is never part of a key. */
export const CardKeySchema = z
  .string()
  .trim()
  .min(1, 'empty key')
  .max(MAX_CARD_KEY_LENGTH, `longer than ${MAX_CARD_KEY_LENGTH} characters`)
  .regex(/^[^\p{Cc}]+$/u, 'contains control characters');
