// Money is integer minor units plus an ISO 4217 currency; never floats.
import { z } from 'zod';

// ISO 4217 codes of currencies in use, from the runtime's ICU data; the X-codes that are
// not money (precious metals, test, "no currency") are not accepted.
const NOT_MONEY = new Set(['XAG', 'XAU', 'XBA', 'XBB', 'XBC', 'XBD', 'XDR', 'XPD', 'XPT', 'XSU', 'XTS', 'XUA', 'XXX']);
export const CURRENCIES: ReadonlySet<string> = new Set(
  Intl.supportedValuesOf('currency').filter((code) => !NOT_MONEY.has(code)),
);

export const CurrencySchema = z
  .string()
  .refine((code) => CURRENCIES.has(code), 'must be an ISO 4217 currency code such as CNY');

/** Digits after the decimal point of the currency's minor unit: CNY 2, JPY 0, KWD 3. */
export function minorUnitExponent(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

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
