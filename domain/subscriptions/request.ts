// What the API takes for subscriptions: the one zod schema of each body, whose inferred types
// the store uses too (no hand copy of a request type).
import { z } from 'zod';
import { IpAddressSchema } from '../ip-address';
import { FreeText, HttpUrl, Identifier } from '../text';
import { canonicalTimeZone, PERIODS } from './periods';

/** The time zone whose calendar the periods follow; kept in its canonical IANA spelling. */
export const TimeZoneSchema = z
  .string()
  .max(64)
  .transform((name, ctx) => {
    const zone = canonicalTimeZone(name);
    if (zone === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be an IANA time zone such as Asia/Shanghai' });
      return z.NEVER;
    }
    return zone;
  });

export const PeriodSchema = z.enum(PERIODS);

/** A product's SKU (as products name it); an unknown one is 422 unknown_sku. */
const Sku = Identifier(64);

/** Who pays each renewal: the client's prepaid balance (default), or a card through Stripe. */
export const PaymentSchema = z.discriminatedUnion('method', [
  z.strictObject({ method: z.literal('balance') }),
  z.strictObject({
    method: z.literal('stripe'),
    /** A Stripe PaymentMethod id (`pm_…`) the order system obtained from the buyer for off-session use. */
    paymentMethodId: z.string().regex(/^pm_\w{1,200}$/, 'must be a Stripe PaymentMethod id (pm_…)'),
  }),
]);

export const CreateSubscriptionBody = z.strictObject({
  externalSubscriptionId: Identifier(128),
  buyer: z.strictObject({
    id: Identifier(128),
    ip: IpAddressSchema,
    deviceId: Identifier(128).optional(),
  }),
  sku: Sku,
  period: PeriodSchema,
  timeZone: TimeZoneSchema.default('Asia/Shanghai'),
  /** Direct top-ups: the buyer's account at the rights owner, credited every period. */
  account: Identifier(128).optional(),
  payment: PaymentSchema.optional(),
  callbackUrl: HttpUrl().optional(),
});
export type SubscriptionRequest = z.infer<typeof CreateSubscriptionBody>;

/** A reason support or the buyer gives; optional. */
const Reason = z.strictObject({ reason: FreeText(500).optional() });
export const CancelBody = Reason;
export const PauseBody = Reason;
/** Resume may bring a payment method that works (a declined card replaced). */
export const ResumeBody = z.strictObject({ reason: FreeText(500).optional(), payment: PaymentSchema.optional() });
/** Another SKU, another period, or both: from the next renewal on. */
export const ChangePlanBody = z
  .strictObject({ sku: Sku.optional(), period: PeriodSchema.optional() })
  .refine((b) => b.sku !== undefined || b.period !== undefined, 'name a sku, a period or both');
export type ChangePlanRequest = z.infer<typeof ChangePlanBody>;
