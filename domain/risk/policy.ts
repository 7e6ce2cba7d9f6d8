// The per-SKU risk policy: limits, allowed countries, rule scores and what happens to an
// order left in review. Every field has a default, so `{}` is a complete policy and an
// operator only writes what differs.
import { z } from 'zod';
import { CountryCodeSchema, WindowSchema } from './facts';
import { type RuleName, RuleNameSchema } from './rule-names';

export { RULE_NAMES, type RuleName } from './rule-names';

const count = z.number().int().nonnegative();
const positiveCount = z.number().int().positive();

// A window left out has no limit; null says so explicitly, which is how a PATCH lifts a
// default limit (a deep merge can add and change keys but not remove them).
const VelocityLimitsSchema = z.partialRecord(WindowSchema, positiveCount.nullable());

const velocityDefault = (perMinute: number, perHour: number, perDay: number) => () => ({
  '1m': perMinute,
  '1h': perHour,
  '24h': perDay,
});

export const DEFAULT_SCORES: Readonly<Record<RuleName, number>> = {
  velocity: 30,
  hoarding_unclaimed: 40,
  sku_above_norm: 30,
  shared_device: 30,
  shared_ip: 20,
  country_mismatch: 40,
  impossible_travel: 60,
  unknown_ip: 20,
};

const DAY_SECONDS = 86_400;

export const RiskPolicySchema = z.strictObject({
  thresholds: z
    .strictObject({ review: z.number().nonnegative().default(40), block: z.number().nonnegative().default(80) })
    .refine((t) => t.review < t.block, {
      message: 'review threshold must be below the block threshold',
      path: ['review'],
    })
    .prefault({}),
  limits: z
    .strictObject({
      /** A hard cap: above it the order is blocked whatever the score. */
      maxUnitsPerBuyerPerDay: positiveCount.nullable().default(null),
      /** Maximum orders per key and window. */
      velocity: z
        .strictObject({
          buyer: VelocityLimitsSchema.default(velocityDefault(3, 10, 30)),
          device: VelocityLimitsSchema.default(velocityDefault(3, 10, 30)),
          ip: VelocityLimitsSchema.default(velocityDefault(5, 30, 100)),
          network: VelocityLimitsSchema.default(velocityDefault(10, 60, 300)),
        })
        .prefault({}),
      maxBuyersPerDevice: positiveCount.default(3),
      maxBuyersPerIp: positiveCount.default(5),
      maxUnclaimedUnits: count.default(20),
      /** A buyer's 24 h units of a SKU above factor × max(their daily average, 1) are unusual. */
      skuNormFactor: z.number().positive().default(5),
      /** Faster than an airliner between two located events is not one person travelling. */
      maxTravelKmh: z.number().positive().default(900),
    })
    .prefault({}),
  /** Countries the SKU may be bought from (by IP); null allows any. */
  countries: z.array(CountryCodeSchema).min(1).nullable().default(null),
  /** What each rule adds to the score when it fires; rules left out keep their default. */
  scores: z
    .partialRecord(RuleNameSchema, count)
    .prefault({})
    .transform((scores): Record<RuleName, number> => ({ ...DEFAULT_SCORES, ...scores })),
  review: z
    .strictObject({
      deadlineSeconds: z
        .number()
        .int()
        .min(10)
        .max(7 * DAY_SECONDS)
        .default(3600),
      /** An order nobody reviewed in time is rejected unless the SKU says otherwise. */
      onDeadline: z.enum(['approve', 'reject']).default('reject'),
    })
    .prefault({}),
});
export type RiskPolicy = z.infer<typeof RiskPolicySchema>;
/** What an operator writes: every field optional, nested objects included. */
export type RiskPolicyInput = z.input<typeof RiskPolicySchema>;

export const DEFAULT_RISK_POLICY: RiskPolicy = RiskPolicySchema.parse({});

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

// Objects merge key by key; anything else (arrays, null, numbers) replaces. Object.fromEntries
// defines keys rather than assigning them, so a "__proto__" key in a JSON body stays an
// ordinary (and, for the strict schema, unknown) key instead of changing the prototype.
function deepMerge(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch;
  const keys = new Set([...Object.keys(base), ...Object.keys(patch)]);
  return Object.fromEntries([...keys].map((key) => [key, deepMerge(base[key], patch[key])]));
}

/**
 * Applies an operator's partial policy (a PATCH body) over a stored one. The merged result is
 * validated as a whole, so a patch is judged against the policy it lands on (lowering only
 * `block` below the stored `review` is refused); throws a ZodError when invalid.
 */
export function mergePolicy(base: RiskPolicy, patch: unknown): RiskPolicy {
  return RiskPolicySchema.parse(deepMerge(base, patch));
}
