// The risk rules and the evaluator. Every rule is a pure function of the facts and the
// policy and always answers, fired or not, with a reason a reviewer can read: a verdict
// explains itself, and replaying the same facts gives the same verdict.
import { z } from 'zod';
import { type ClaimFacts, type IpFacts, type OrderFacts, type RiskFacts, WINDOWS } from './facts';
import { distanceKm, impliedSpeedKmh } from './geo';
import type { RiskPolicy } from './policy';
import { type RuleName, RuleNameSchema } from './rule-names';

export { RULE_NAMES, type RuleName } from './rule-names';

export const RuleResultSchema = z.strictObject({
  rule: RuleNameSchema,
  /** What the rule added to the score: 0 when it did not fire. */
  score: z.number().int().nonnegative(),
  reason: z.string(),
});
export type RuleResult = z.infer<typeof RuleResultSchema>;

export const VerdictSchema = z.strictObject({
  decision: z.enum(['allow', 'review', 'block']),
  score: z.number().int().nonnegative(),
  /** Every rule that applies to the subject, fired or not. */
  results: z.array(RuleResultSchema),
  /** Why: list and hard-limit reasons first, then fired rules, highest score first. */
  reasons: z.array(z.string()),
  decidedBy: z.enum(['allow_list', 'deny_list', 'hard_limit', 'score']),
});
export type Verdict = z.infer<typeof VerdictSchema>;

export type Rule<F> = (facts: F, policy: RiskPolicy) => RuleResult;

function result(rule: RuleName, policy: RiskPolicy, fired: boolean, reason: string): RuleResult {
  return { rule, score: fired ? policy.scores[rule] : 0, reason };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const decimal = (n: number) => String(Math.round(n * 100) / 100);

// Per-IP and per-network counts mean something only for a public address: behind a
// misconfigured proxy, or in development, every buyer shares 127.0.0.1 and would trip them.
// unknown_ip scores such an address instead.
const isCountedIp = (ip: IpFacts) => ip.kind === 'public';

const velocity: Rule<OrderFacts> = (facts, policy) => {
  const keys = [
    { key: 'buyer', label: 'buyer', counts: facts.velocity.buyer },
    { key: 'device', label: 'device', counts: facts.velocity.device },
    { key: 'ip', label: `IP ${facts.ip.ip}`, counts: isCountedIp(facts.ip) ? facts.velocity.ip : null },
    {
      key: 'network',
      label: `network ${facts.ip.network}`,
      counts: isCountedIp(facts.ip) ? facts.velocity.network : null,
    },
  ] as const;
  const checks = keys.flatMap(({ key, label, counts }) =>
    counts === null
      ? []
      : WINDOWS.flatMap((window) => {
          const limit = policy.limits.velocity[key][window];
          if (limit === null || limit === undefined) return [];
          const orders = counts[window].orders;
          return [{ label, window, orders, limit, over: orders > limit }];
        }),
  );
  // The worst is the one furthest past (or closest to) its limit, relatively.
  const worst = checks.reduce<(typeof checks)[number] | undefined>(
    (acc, c) => (acc === undefined || c.orders / c.limit > acc.orders / acc.limit ? c : acc),
    undefined,
  );
  if (!worst) return result('velocity', policy, false, 'no velocity limit applies');
  const others = checks.filter((c) => c.over).length - 1;
  const more = others > 0 ? `; ${plural(others, 'other limit')} exceeded` : '';
  const reason = `${worst.label} placed ${plural(worst.orders, 'order')} in ${worst.window} (limit ${worst.limit})${more}`;
  return result('velocity', policy, worst.over, reason);
};

const hoardingUnclaimed: Rule<OrderFacts> = (facts, policy) => {
  const max = policy.limits.maxUnclaimedUnits;
  const reason = `buyer holds ${plural(facts.unclaimedUnits, 'delivered unit')} not yet claimed (limit ${max})`;
  return result('hoarding_unclaimed', policy, facts.unclaimedUnits > max, reason);
};

const skuAboveNorm: Rule<OrderFacts> = (facts, policy) => {
  const factor = policy.limits.skuNormFactor;
  // A buyer new to the SKU (average near 0) may still take `factor` units a day.
  const checks = facts.skuHistory.map((h) => ({ ...h, norm: factor * Math.max(h.dailyAverage30d, 1) }));
  const worst = checks.reduce<(typeof checks)[number] | undefined>(
    (acc, c) => (acc === undefined || c.units24h / c.norm > acc.units24h / acc.norm ? c : acc),
    undefined,
  );
  if (!worst) return result('sku_above_norm', policy, false, 'no SKU history');
  const reason =
    `buyer took ${plural(worst.units24h, 'unit')} of ${worst.sku} in 24h ` +
    `(norm ${decimal(worst.norm)}: ${decimal(factor)} × max(daily average ${decimal(worst.dailyAverage30d)}, 1))`;
  return result('sku_above_norm', policy, worst.units24h > worst.norm, reason);
};

const sharedDevice: Rule<OrderFacts> = (facts, policy) => {
  const buyers = facts.buyersOnDevice24h;
  if (buyers === null) return result('shared_device', policy, false, 'no device id');
  const max = policy.limits.maxBuyersPerDevice;
  return result(
    'shared_device',
    policy,
    buyers > max,
    `${plural(buyers, 'buyer')} on this device in 24h (limit ${max})`,
  );
};

const sharedIp: Rule<OrderFacts> = (facts, policy) => {
  if (!isCountedIp(facts.ip)) {
    return result('shared_ip', policy, false, `IP ${facts.ip.ip} is ${facts.ip.kind}; buyers per IP not counted`);
  }
  const buyers = facts.buyersOnIp24h;
  const max = policy.limits.maxBuyersPerIp;
  const reason = `${plural(buyers, 'buyer')} ordered from IP ${facts.ip.ip} in 24h (limit ${max})`;
  return result('shared_ip', policy, buyers > max, reason);
};

const orderCountryMismatch: Rule<OrderFacts> = (facts, policy) => {
  const allowed = policy.countries;
  if (allowed === null) return result('country_mismatch', policy, false, 'the SKU sells to any country');
  const country = facts.ip.geo?.country;
  if (country === undefined) return result('country_mismatch', policy, false, 'IP country unknown');
  const fired = !allowed.includes(country);
  const reason = `IP country ${country} is ${fired ? 'not ' : ''}among the SKU's countries (${allowed.join(', ')})`;
  return result('country_mismatch', policy, fired, reason);
};

const claimCountryMismatch: Rule<ClaimFacts> = (facts, policy) => {
  const claimed = facts.ip.geo?.country;
  const ordered = facts.orderIp.geo?.country;
  if (claimed === undefined || ordered === undefined) {
    return result('country_mismatch', policy, false, 'claim or order IP country unknown');
  }
  const fired = claimed !== ordered;
  const reason = fired
    ? `claimed from ${claimed}, ordered from ${ordered}`
    : `claimed from ${claimed}, where it was ordered`;
  return result('country_mismatch', policy, fired, reason);
};

function elapsedText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes < 120 ? `${Math.max(0, minutes)} min` : `${decimal(minutes / 60)} h`;
}

/** Travel between two located events, `since` naming the earlier one for the reason. */
function travel(
  policy: RiskPolicy,
  from: { ip: IpFacts; at: string },
  to: { ip: IpFacts; at: string },
  since: string,
): RuleResult {
  if (!from.ip.geo || !to.ip.geo) {
    return result('impossible_travel', policy, false, `no location for this or ${since}`);
  }
  const a = { geo: from.ip.geo, at: from.at };
  const b = { geo: to.ip.geo, at: to.at };
  const speed = impliedSpeedKmh(a, b);
  const max = policy.limits.maxTravelKmh;
  const km = Math.round(distanceKm(a.geo, b.geo));
  const elapsed = elapsedText(Date.parse(b.at) - Date.parse(a.at));
  const implied = Number.isFinite(speed) ? `at least ${Math.round(speed)} km/h` : 'no time to travel at all';
  const reason =
    `${a.geo.country} → ${b.geo.country}: ${km} km (±${a.geo.accuracyKm}/±${b.geo.accuracyKm} km) ` +
    `${elapsed} after ${since}, ${implied} (limit ${max} km/h)`;
  return result('impossible_travel', policy, speed > max, reason);
}

const orderImpossibleTravel: Rule<OrderFacts> = (facts, policy) =>
  facts.previous === null
    ? result('impossible_travel', policy, false, 'no previous order')
    : travel(policy, facts.previous, facts, 'the previous order');

const claimImpossibleTravel: Rule<ClaimFacts> = (facts, policy) =>
  travel(policy, { ip: facts.orderIp, at: facts.orderAt }, facts, 'the order');

const unknownIp: Rule<OrderFacts | ClaimFacts> = (facts, policy) => {
  const { ip, kind, geo } = facts.ip;
  if (kind !== 'public') return result('unknown_ip', policy, true, `IP ${ip} is ${kind}`);
  if (!geo) return result('unknown_ip', policy, true, `IP ${ip} has no known location`);
  return result('unknown_ip', policy, false, `IP ${ip} is located in ${geo.country}`);
};

export const ORDER_RULES: readonly Rule<OrderFacts>[] = [
  velocity,
  hoardingUnclaimed,
  skuAboveNorm,
  sharedDevice,
  sharedIp,
  orderCountryMismatch,
  orderImpossibleTravel,
  unknownIp,
];

export const CLAIM_RULES: readonly Rule<ClaimFacts>[] = [claimCountryMismatch, claimImpossibleTravel, unknownIp];

function listReason(hit: RiskFacts['lists'][number]): string {
  const subject = hit.kind === 'ip' ? 'IP' : hit.kind;
  return `${subject} ${hit.value} is on the ${hit.list} list${hit.note ? `: ${hit.note}` : ''}`;
}

/**
 * Lists and hard limits decide before the score does: a deny-list hit blocks, then an
 * allow-list hit allows, then a hard limit blocks, and only then does the score choose. The
 * rules run regardless, so a reviewer sees everything the score would have said.
 */
export function evaluate(facts: RiskFacts, policy: RiskPolicy): Verdict {
  const results =
    facts.kind === 'order'
      ? ORDER_RULES.map((rule) => rule(facts, policy))
      : CLAIM_RULES.map((rule) => rule(facts, policy));
  const score = results.reduce((sum, r) => sum + r.score, 0);
  // Array.prototype.sort is stable: equal scores keep the rules' order.
  const ruleReasons = results
    .filter((r) => r.score > 0)
    .sort((a, b) => b.score - a.score)
    .map((r) => r.reason);
  const verdict = (decision: Verdict['decision'], decidedBy: Verdict['decidedBy'], first: string[] = []): Verdict => ({
    decision,
    score,
    results,
    reasons: [...first, ...ruleReasons],
    decidedBy,
  });

  const deny = facts.lists.filter((hit) => hit.list === 'deny');
  if (deny.length > 0) return verdict('block', 'deny_list', deny.map(listReason));
  const allow = facts.lists.filter((hit) => hit.list === 'allow');
  if (allow.length > 0) return verdict('allow', 'allow_list', allow.map(listReason));

  const maxUnits = policy.limits.maxUnitsPerBuyerPerDay;
  if (facts.kind === 'order' && maxUnits !== null) {
    const units = facts.velocity.buyer['24h'].units;
    if (units > maxUnits) {
      return verdict('block', 'hard_limit', [`buyer took ${plural(units, 'unit')} in 24h (hard limit ${maxUnits})`]);
    }
  }

  const { review, block } = policy.thresholds;
  if (score >= block) return verdict('block', 'score');
  if (score >= review) return verdict('review', 'score');
  return verdict('allow', 'score');
}

const SEVERITY: Record<Verdict['decision'], number> = { allow: 0, review: 1, block: 2 };

/**
 * An order of several SKUs answers to each SKU's policy: the strictest verdict stands (a
 * block over a review over an allow; between equals, the higher score), with the policy that
 * gave it — its review deadline applies.
 */
export function evaluateUnder<P extends { policy: RiskPolicy }>(
  facts: RiskFacts,
  policies: readonly P[],
): { verdict: Verdict; under: P } {
  const judged = policies.map((under) => ({ verdict: evaluate(facts, under.policy), under }));
  const worst = judged.reduce((a, b) =>
    SEVERITY[b.verdict.decision] > SEVERITY[a.verdict.decision] ||
    (SEVERITY[b.verdict.decision] === SEVERITY[a.verdict.decision] && b.verdict.score > a.verdict.score)
      ? b
      : a,
  );
  return worst;
}
