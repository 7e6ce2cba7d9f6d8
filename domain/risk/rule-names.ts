// The rule names live apart from the rules so that the policy (which scores them) and the
// rules (which read the policy) can both import them without a cycle.
import { z } from 'zod';

export const RULE_NAMES = [
  'velocity',
  'hoarding_unclaimed',
  'sku_above_norm',
  'shared_device',
  'shared_ip',
  'country_mismatch',
  'impossible_travel',
  'unknown_ip',
] as const;

export const RuleNameSchema = z.enum(RULE_NAMES);
export type RuleName = z.infer<typeof RuleNameSchema>;
