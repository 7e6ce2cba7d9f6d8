// Money is integer minor units plus an ISO 4217 currency; never floats.
import { z } from 'zod';

export const CurrencySchema = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as CNY');

/** Upper bound for a single price or top-up: 10^10 minor units keeps every sum a safe integer. */
export const MAX_AMOUNT_MINOR = 10_000_000_000;

export const MoneySchema = z.strictObject({
  minor: z.number().int('must be an integer number of minor units').positive().max(MAX_AMOUNT_MINOR),
  currency: CurrencySchema,
});
export type Money = z.infer<typeof MoneySchema>;

/** The API's money shape from database minor units (BIGINT arrives as bigint). */
export function money(minor: number | bigint, currency: string): Money {
  return { minor: Number(minor), currency };
}
