// Durations as operators type them in query strings: 90s, 10m, 2h, 1d.
import { z } from 'zod';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration like `10m`, parsed to milliseconds; at most 30 days. */
export const DurationSchema = z
  .string()
  .regex(/^\d{1,6}[smhd]$/, 'must be a number and a unit s, m, h or d, such as 10m')
  .transform((v) => Number(v.slice(0, -1)) * UNIT_MS[v.slice(-1) as keyof typeof UNIT_MS])
  .refine((ms) => ms > 0 && ms <= 30 * UNIT_MS.d, 'must be more than 0 and at most 30d');
