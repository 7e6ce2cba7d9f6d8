// Risk rules, the evaluator's precedence and the policy schema: pure, no stack.
import {
  type ClaimFacts,
  ClaimFactsSchema,
  type Geo,
  type IpFacts,
  type ListHit,
  type OrderFacts,
  OrderFactsSchema,
  RiskFactsSchema,
  type Window,
  type WindowCounts,
} from '../../domain/risk/facts';
import { impliedSpeedKmh } from '../../domain/risk/geo';
import {
  DEFAULT_RISK_POLICY,
  mergePolicy,
  type RiskPolicy,
  type RiskPolicyInput,
  RiskPolicySchema,
} from '../../domain/risk/policy';
import { evaluate, RULE_NAMES, type RuleName, type RuleResult } from '../../domain/risk/rules';

// --- factories: quiet facts (one order, one unit, one buyer, located in London) -----------

const T0 = Date.UTC(2025, 0, 1, 12);
const at = (minutesFromT0: number) => new Date(T0 + minutesFromT0 * 60_000).toISOString();

const LONDON: Geo = { country: 'GB', lat: 51.5074, lon: -0.1278, accuracyKm: 10 };
const PARIS: Geo = { country: 'FR', lat: 48.8566, lon: 2.3522, accuracyKm: 10 };
const BEIJING: Geo = { country: 'CN', lat: 39.9042, lon: 116.4074, accuracyKm: 10 };

const publicIp = (ip: string, geo: Geo | null, network = `${ip.split('.').slice(0, 3).join('.')}.0/24`): IpFacts => ({
  ip,
  kind: 'public',
  network,
  geo,
});
const LONDON_IP = publicIp('81.2.69.142', LONDON);
const PARIS_IP = publicIp('90.63.1.1', PARIS);
const BEIJING_IP = publicIp('61.135.169.121', BEIJING);
const PRIVATE_IP: IpFacts = { ip: '10.0.0.7', kind: 'private', network: '10.0.0.0/24', geo: null };

/** Order counts per window (1 unless given); units equal orders unless given. */
function counts(
  orders: Partial<Record<Window, number>> = {},
  units: Partial<Record<Window, number>> = {},
): WindowCounts {
  const counter = (w: Window) => {
    const n = orders[w] ?? 1;
    return { orders: n, units: units[w] ?? n, amountMinor: n * 1_000 };
  };
  return { '1m': counter('1m'), '1h': counter('1h'), '24h': counter('24h') };
}

type OrderPatch = Omit<Partial<OrderFacts>, 'velocity'> & { velocity?: Partial<OrderFacts['velocity']> };

function order(patch: OrderPatch = {}): OrderFacts {
  const { velocity, ...rest } = patch;
  return OrderFactsSchema.parse({
    kind: 'order',
    at: at(0),
    buyer: { id: 'buyer-1', deviceId: 'device-1' },
    ip: LONDON_IP,
    items: [{ sku: 'vip-month', units: 1 }],
    buyersOnDevice24h: 1,
    buyersOnIp24h: 1,
    unclaimedUnits: 0,
    skuHistory: [{ sku: 'vip-month', units24h: 1, dailyAverage30d: 0 }],
    previous: null,
    lists: [],
    ...rest,
    velocity: { buyer: counts(), device: counts(), ip: counts(), network: counts(), ...velocity },
  });
}

function claim(patch: Partial<ClaimFacts> = {}): ClaimFacts {
  return ClaimFactsSchema.parse({
    kind: 'claim',
    at: at(0),
    orderId: 'order-1',
    buyer: { id: 'buyer-1', deviceId: 'device-1' },
    ip: LONDON_IP,
    orderIp: LONDON_IP,
    orderAt: at(-60),
    lists: [],
    ...patch,
  });
}

const policy = (input: RiskPolicyInput = {}): RiskPolicy => RiskPolicySchema.parse(input);

function ruleOf(facts: OrderFacts | ClaimFacts, rule: RuleName, p: RiskPolicy = DEFAULT_RISK_POLICY): RuleResult {
  const found = evaluate(facts, p).results.find((r) => r.rule === rule);
  if (!found) throw new Error(`rule ${rule} did not run`);
  return found;
}

const hit = (list: ListHit['list'], kind: ListHit['kind'], value: string, note: string | null = null): ListHit => ({
  list,
  kind,
  value,
  note,
});

// --- the quiet baseline ------------------------------------------------------------------

describe('quiet facts', () => {
  test('a quiet order fires nothing and is allowed by score', () => {
    const verdict = evaluate(order(), DEFAULT_RISK_POLICY);
    expect(verdict).toMatchObject({ decision: 'allow', score: 0, reasons: [], decidedBy: 'score' });
    expect(verdict.results.map((r) => r.rule)).toEqual([...RULE_NAMES]);
    for (const r of verdict.results) expect(r.reason).not.toBe('');
  });

  test('a quiet claim runs the claim rules only', () => {
    const verdict = evaluate(claim(), DEFAULT_RISK_POLICY);
    expect(verdict).toMatchObject({ decision: 'allow', score: 0, reasons: [], decidedBy: 'score' });
    expect(verdict.results.map((r) => r.rule)).toEqual(['country_mismatch', 'impossible_travel', 'unknown_ip']);
  });

  test('the factories produce facts the union schema accepts', () => {
    expect(RiskFactsSchema.parse(order()).kind).toBe('order');
    expect(RiskFactsSchema.parse(claim()).kind).toBe('claim');
    expect(() => RiskFactsSchema.parse({ ...order(), surprise: 1 })).toThrow();
  });
});

// --- each rule: the smallest scenario that fires it, and one that does not ------------------

describe('velocity', () => {
  test('orders at the limit do not fire; one more does, naming key, window and limit', () => {
    const atLimit = ruleOf(order({ velocity: { buyer: counts({ '1m': 3 }) } }), 'velocity');
    expect(atLimit).toEqual({ rule: 'velocity', score: 0, reason: 'buyer placed 3 orders in 1m (limit 3)' });
    const over = ruleOf(order({ velocity: { buyer: counts({ '1m': 4 }) } }), 'velocity');
    expect(over).toEqual({ rule: 'velocity', score: 30, reason: 'buyer placed 4 orders in 1m (limit 3)' });
  });

  test.each([
    ['device', '24h', 30, 'device placed 31 orders in 24h (limit 30)'],
    ['ip', '1m', 5, 'IP 81.2.69.142 placed 6 orders in 1m (limit 5)'],
    ['network', '1h', 60, 'network 81.2.69.0/24 placed 61 orders in 1h (limit 60)'],
  ] as const)('%s over its %s limit fires', (key, window, limit, reason) => {
    const quiet = ruleOf(order({ velocity: { [key]: counts({ [window]: limit }) } }), 'velocity');
    expect(quiet.score).toBe(0);
    const over = ruleOf(order({ velocity: { [key]: counts({ [window]: limit + 1 }) } }), 'velocity');
    expect(over).toEqual({ rule: 'velocity', score: 30, reason });
  });

  test('the reason names the worst limit and counts the others exceeded', () => {
    const facts = order({ velocity: { buyer: counts({ '1m': 4 }), ip: counts({ '24h': 300 }) } });
    expect(ruleOf(facts, 'velocity').reason).toBe(
      'IP 81.2.69.142 placed 300 orders in 24h (limit 100); 1 other limit exceeded',
    );
  });

  test('the score is added once however many limits are exceeded', () => {
    const facts = order({ velocity: { buyer: counts({ '1m': 9 }), device: counts({ '1m': 9 }) } });
    expect(ruleOf(facts, 'velocity').score).toBe(30);
  });

  test('without a device id there is nothing to count per device', () => {
    const facts = order({
      buyer: { id: 'buyer-1', deviceId: null },
      buyersOnDevice24h: null,
      velocity: { device: null },
    });
    expect(ruleOf(facts, 'velocity').score).toBe(0);
  });

  test('a non-public IP is not counted per IP or network', () => {
    const facts = order({ ip: PRIVATE_IP, velocity: { ip: counts({ '1m': 500 }), network: counts({ '1m': 500 }) } });
    expect(ruleOf(facts, 'velocity').score).toBe(0);
  });

  test('a window whose limit is lifted (null) is not limited', () => {
    const lifted = policy({ limits: { velocity: { buyer: { '1m': null } } } });
    expect(ruleOf(order({ velocity: { buyer: counts({ '1m': 9 }) } }), 'velocity', lifted).score).toBe(0);
  });

  test('with every limit lifted the rule says so', () => {
    const none = policy({ limits: { velocity: { buyer: {}, device: {}, ip: {}, network: {} } } });
    expect(ruleOf(order(), 'velocity', none)).toEqual({
      rule: 'velocity',
      score: 0,
      reason: 'no velocity limit applies',
    });
  });
});

describe('hoarding_unclaimed', () => {
  test('unclaimed units at the limit do not fire; one more does', () => {
    expect(ruleOf(order({ unclaimedUnits: 20 }), 'hoarding_unclaimed').score).toBe(0);
    expect(ruleOf(order({ unclaimedUnits: 21 }), 'hoarding_unclaimed')).toEqual({
      rule: 'hoarding_unclaimed',
      score: 40,
      reason: 'buyer holds 21 delivered units not yet claimed (limit 20)',
    });
  });
});

describe('sku_above_norm', () => {
  const history = (units24h: number, dailyAverage30d: number, sku = 'vip-month') => ({
    skuHistory: [{ sku, units24h, dailyAverage30d }],
  });

  test('a buyer new to the SKU may take the factor (5) units a day, not one more', () => {
    expect(ruleOf(order(history(5, 0)), 'sku_above_norm').score).toBe(0);
    expect(ruleOf(order(history(6, 0)), 'sku_above_norm')).toEqual({
      rule: 'sku_above_norm',
      score: 30,
      reason: 'buyer took 6 units of vip-month in 24h (norm 5: 5 × max(daily average 0, 1))',
    });
  });

  test('the norm scales with the 30-day daily average', () => {
    expect(ruleOf(order(history(10, 2)), 'sku_above_norm').score).toBe(0);
    expect(ruleOf(order(history(11, 2)), 'sku_above_norm').score).toBe(30);
  });

  test('the reason names the SKU furthest above its norm', () => {
    const facts = order({
      items: [
        { sku: 'a', units: 1 },
        { sku: 'b', units: 1 },
      ],
      skuHistory: [
        { sku: 'a', units24h: 7, dailyAverage30d: 0 },
        { sku: 'b', units24h: 40, dailyAverage30d: 2 },
      ],
    });
    expect(ruleOf(facts, 'sku_above_norm').reason).toMatch(/^buyer took 40 units of b in 24h/);
  });
});

describe('shared_device', () => {
  test('buyers on the device at the limit do not fire; one more does', () => {
    expect(ruleOf(order({ buyersOnDevice24h: 3 }), 'shared_device').score).toBe(0);
    expect(ruleOf(order({ buyersOnDevice24h: 4 }), 'shared_device')).toEqual({
      rule: 'shared_device',
      score: 30,
      reason: '4 buyers on this device in 24h (limit 3)',
    });
  });

  test('no device id, no device rule', () => {
    const facts = order({
      buyer: { id: 'buyer-1', deviceId: null },
      buyersOnDevice24h: null,
      velocity: { device: null },
    });
    expect(ruleOf(facts, 'shared_device')).toEqual({ rule: 'shared_device', score: 0, reason: 'no device id' });
  });
});

describe('shared_ip', () => {
  test('buyers on the IP at the limit do not fire; one more does', () => {
    expect(ruleOf(order({ buyersOnIp24h: 5 }), 'shared_ip').score).toBe(0);
    expect(ruleOf(order({ buyersOnIp24h: 6 }), 'shared_ip')).toEqual({
      rule: 'shared_ip',
      score: 20,
      reason: '6 buyers ordered from IP 81.2.69.142 in 24h (limit 5)',
    });
  });

  test('a non-public IP is not counted', () => {
    expect(ruleOf(order({ ip: PRIVATE_IP, buyersOnIp24h: 500 }), 'shared_ip')).toEqual({
      rule: 'shared_ip',
      score: 0,
      reason: 'IP 10.0.0.7 is private; buyers per IP not counted',
    });
  });
});

describe('country_mismatch', () => {
  test('orders: any country while the policy names none', () => {
    expect(ruleOf(order({ ip: BEIJING_IP }), 'country_mismatch').score).toBe(0);
  });

  test("orders: an IP outside the SKU's countries fires; inside does not", () => {
    const cnOnly = policy({ countries: ['CN'] });
    expect(ruleOf(order({ ip: BEIJING_IP }), 'country_mismatch', cnOnly).score).toBe(0);
    expect(ruleOf(order({ ip: LONDON_IP }), 'country_mismatch', cnOnly)).toEqual({
      rule: 'country_mismatch',
      score: 40,
      reason: "IP country GB is not among the SKU's countries (CN)",
    });
    expect(ruleOf(order({ ip: LONDON_IP }), 'country_mismatch', policy({ countries: ['CN', 'GB'] })).score).toBe(0);
  });

  test('orders: an unlocated IP is left to unknown_ip', () => {
    const facts = order({ ip: publicIp('1.1.1.1', null) });
    expect(ruleOf(facts, 'country_mismatch', policy({ countries: ['CN'] })).score).toBe(0);
  });

  test('claims: claimed from another country than the order fires; the same does not', () => {
    expect(ruleOf(claim({ orderIp: LONDON_IP, ip: PARIS_IP, orderAt: at(-600) }), 'country_mismatch')).toEqual({
      rule: 'country_mismatch',
      score: 40,
      reason: 'claimed from FR, ordered from GB',
    });
    expect(ruleOf(claim({ orderIp: LONDON_IP, ip: publicIp('81.2.70.1', LONDON) }), 'country_mismatch').score).toBe(0);
  });

  test('claims: needs both countries', () => {
    expect(ruleOf(claim({ orderIp: PRIVATE_IP, ip: PARIS_IP }), 'country_mismatch').score).toBe(0);
    expect(ruleOf(claim({ orderIp: LONDON_IP, ip: publicIp('1.1.1.1', null) }), 'country_mismatch').score).toBe(0);
  });
});

describe('impossible_travel', () => {
  const previous = (ip: IpFacts, minutesBefore: number) => ({ previous: { at: at(-minutesBefore), ip } });

  test('orders: Beijing an hour before London fires; a day before does not', () => {
    const fired = ruleOf(order(previous(BEIJING_IP, 60)), 'impossible_travel');
    expect(fired.score).toBe(60);
    expect(fired.reason).toMatch(
      /^CN → GB: \d+ km \(±10\/±10 km\) 60 min after the previous order, at least \d+ km\/h \(limit 900 km\/h\)$/,
    );
    expect(ruleOf(order(previous(BEIJING_IP, 24 * 60)), 'impossible_travel').score).toBe(0);
  });

  test('orders: exactly the limit speed does not fire; above it does', () => {
    const facts = order(previous(PARIS_IP, 30));
    const speed = impliedSpeedKmh({ geo: PARIS, at: at(-30) }, { geo: LONDON, at: at(0) });
    expect(ruleOf(facts, 'impossible_travel', policy({ limits: { maxTravelKmh: speed } })).score).toBe(0);
    expect(ruleOf(facts, 'impossible_travel', policy({ limits: { maxTravelKmh: speed - 1 } })).score).toBe(60);
  });

  test('orders: two places at the same instant fire', () => {
    expect(ruleOf(order(previous(PARIS_IP, 0)), 'impossible_travel')).toMatchObject({
      score: 60,
      reason: expect.stringContaining('no time to travel at all'),
    });
  });

  test('orders: no previous order, or an unlocated end, does not fire', () => {
    expect(ruleOf(order(), 'impossible_travel')).toEqual({
      rule: 'impossible_travel',
      score: 0,
      reason: 'no previous order',
    });
    expect(ruleOf(order(previous(PRIVATE_IP, 1)), 'impossible_travel').score).toBe(0);
    expect(ruleOf(order({ ip: PRIVATE_IP, ...previous(BEIJING_IP, 1) }), 'impossible_travel').score).toBe(0);
  });

  test('claims: ordered in Beijing, claimed in London an hour (or eight) later fires', () => {
    expect(ruleOf(claim({ orderIp: BEIJING_IP, orderAt: at(-60) }), 'impossible_travel')).toMatchObject({
      score: 60,
      reason: expect.stringMatching(/^CN → GB: .* 60 min after the order,/),
    });
    expect(ruleOf(claim({ orderIp: BEIJING_IP, orderAt: at(-8 * 60) }), 'impossible_travel').score).toBe(60);
  });

  test('claims: claimed a day after ordering on the other side of the world does not fire', () => {
    expect(ruleOf(claim({ orderIp: BEIJING_IP, orderAt: at(-24 * 60) }), 'impossible_travel').score).toBe(0);
  });

  test('claims: the same place does not fire, whenever', () => {
    expect(ruleOf(claim({ orderIp: LONDON_IP, orderAt: at(0) }), 'impossible_travel').score).toBe(0);
  });
});

describe('unknown_ip', () => {
  test('a located public IP does not fire', () => {
    expect(ruleOf(order(), 'unknown_ip')).toEqual({
      rule: 'unknown_ip',
      score: 0,
      reason: 'IP 81.2.69.142 is located in GB',
    });
  });

  test.each([
    [PRIVATE_IP, 'IP 10.0.0.7 is private'],
    [{ ip: '127.0.0.1', kind: 'reserved', network: '127.0.0.0/24', geo: null } as const, 'IP 127.0.0.1 is reserved'],
    [{ ip: 'n/a', kind: 'invalid', network: 'n/a', geo: null } as const, 'IP n/a is invalid'],
    [publicIp('1.1.1.1', null), 'IP 1.1.1.1 has no known location'],
  ])('%j fires', (ip, reason) => {
    expect(ruleOf(order({ ip }), 'unknown_ip')).toEqual({ rule: 'unknown_ip', score: 20, reason });
    expect(ruleOf(claim({ ip }), 'unknown_ip')).toEqual({ rule: 'unknown_ip', score: 20, reason });
  });
});

// --- the evaluator ---------------------------------------------------------------------------

describe('evaluate: precedence', () => {
  const loud = {
    unclaimedUnits: 100,
    buyersOnDevice24h: 10,
    velocity: { buyer: counts({ '1m': 10 }, { '24h': 500 }) },
  } satisfies OrderPatch;
  const hardLimit = policy({ limits: { maxUnitsPerBuyerPerDay: 50 } });

  test('a deny-list hit blocks, even with an allow-list hit too', () => {
    const facts = order({
      lists: [hit('allow', 'buyer', 'buyer-1'), hit('deny', 'ip', '81.2.69.0/24', 'chargebacks')],
    });
    expect(evaluate(facts, DEFAULT_RISK_POLICY)).toMatchObject({
      decision: 'block',
      decidedBy: 'deny_list',
      score: 0,
      reasons: ['IP 81.2.69.0/24 is on the deny list: chargebacks'],
    });
  });

  test('an allow-list hit allows past a hard limit and a blocking score, reasons kept', () => {
    const verdict = evaluate(order({ ...loud, lists: [hit('allow', 'device', 'device-1')] }), hardLimit);
    expect(verdict).toMatchObject({ decision: 'allow', decidedBy: 'allow_list' });
    expect(verdict.score).toBeGreaterThanOrEqual(80);
    expect(verdict.reasons[0]).toBe('device device-1 is on the allow list');
    expect(verdict.reasons.length).toBeGreaterThan(1);
  });

  test('a hard limit blocks before the score is consulted', () => {
    const verdict = evaluate(order({ velocity: { buyer: counts({}, { '24h': 51 }) } }), hardLimit);
    expect(verdict).toMatchObject({
      decision: 'block',
      decidedBy: 'hard_limit',
      score: 0,
      reasons: ['buyer took 51 units in 24h (hard limit 50)'],
    });
  });

  test('units exactly at the hard limit pass to the score', () => {
    const verdict = evaluate(order({ velocity: { buyer: counts({}, { '24h': 50 }) } }), hardLimit);
    expect(verdict).toMatchObject({ decision: 'allow', decidedBy: 'score' });
  });

  test('no hard limit by default', () => {
    const verdict = evaluate(order({ velocity: { buyer: counts({}, { '24h': 10_000 }) } }), DEFAULT_RISK_POLICY);
    expect(verdict.decidedBy).toBe('score');
  });

  test('a deny-list hit blocks a claim', () => {
    expect(evaluate(claim({ lists: [hit('deny', 'buyer', 'buyer-1')] }), DEFAULT_RISK_POLICY)).toMatchObject({
      decision: 'block',
      decidedBy: 'deny_list',
      reasons: ['buyer buyer-1 is on the deny list'],
    });
  });

  test('an allow-list hit allows a claim that would block', () => {
    const facts = claim({ orderIp: BEIJING_IP, ip: PRIVATE_IP, lists: [hit('allow', 'buyer', 'buyer-1')] });
    expect(evaluate(facts, policy({ scores: { unknown_ip: 100 } }))).toMatchObject({
      decision: 'allow',
      decidedBy: 'allow_list',
    });
  });
});

describe('evaluate: score', () => {
  // Only unknown_ip fires for a private IP; its score is set to land on each side of a threshold.
  test.each([
    [39, 'allow'],
    [40, 'review'],
    [79, 'review'],
    [80, 'block'],
    [200, 'block'],
  ] as const)('score %d → %s (thresholds 40 / 80)', (score, decision) => {
    const verdict = evaluate(order({ ip: PRIVATE_IP }), policy({ scores: { unknown_ip: score } }));
    expect(verdict).toMatchObject({ decision, score, decidedBy: 'score' });
  });

  test('thresholds come from the policy', () => {
    const strict = policy({ thresholds: { review: 10, block: 20 } });
    expect(evaluate(order({ ip: PRIVATE_IP }), strict).decision).toBe('block');
    expect(evaluate(order({ unclaimedUnits: 21 }), policy({ thresholds: { review: 50, block: 90 } })).decision).toBe(
      'allow',
    );
  });

  test('the score is the sum of the fired rules, reasons highest score first', () => {
    const facts = order({
      velocity: { buyer: counts({ '1m': 4 }) },
      unclaimedUnits: 21,
      previous: { at: at(-60), ip: BEIJING_IP },
    });
    const verdict = evaluate(facts, DEFAULT_RISK_POLICY);
    expect(verdict.score).toBe(30 + 40 + 60);
    expect(verdict.decision).toBe('block');
    expect(verdict.reasons).toEqual([
      expect.stringMatching(/^CN → GB/),
      'buyer holds 21 delivered units not yet claimed (limit 20)',
      'buyer placed 4 orders in 1m (limit 3)',
    ]);
    expect(verdict.results.filter((r) => r.score > 0).map((r) => r.rule)).toEqual([
      'velocity',
      'hoarding_unclaimed',
      'impossible_travel',
    ]);
  });

  test('a rule scored 0 by the policy adds nothing and gives no reason', () => {
    const verdict = evaluate(order({ unclaimedUnits: 21 }), policy({ scores: { hoarding_unclaimed: 0 } }));
    expect(verdict).toMatchObject({ decision: 'allow', score: 0, reasons: [] });
  });

  test('a claim from another continent an hour after the order blocks', () => {
    const verdict = evaluate(claim({ orderIp: BEIJING_IP, orderAt: at(-60), ip: LONDON_IP }), DEFAULT_RISK_POLICY);
    expect(verdict).toMatchObject({ decision: 'block', score: 100, decidedBy: 'score' });
  });

  test('the same facts give the same verdict', () => {
    const facts = order({ unclaimedUnits: 21, buyersOnIp24h: 9 });
    expect(evaluate(facts, DEFAULT_RISK_POLICY)).toEqual(evaluate(structuredClone(facts), DEFAULT_RISK_POLICY));
  });
});

// --- the policy ------------------------------------------------------------------------------

describe('RiskPolicySchema', () => {
  test('{} is the default policy', () => {
    expect(DEFAULT_RISK_POLICY).toEqual({
      thresholds: { review: 40, block: 80 },
      limits: {
        maxUnitsPerBuyerPerDay: null,
        velocity: {
          buyer: { '1m': 3, '1h': 10, '24h': 30 },
          device: { '1m': 3, '1h': 10, '24h': 30 },
          ip: { '1m': 5, '1h': 30, '24h': 100 },
          network: { '1m': 10, '1h': 60, '24h': 300 },
        },
        maxBuyersPerDevice: 3,
        maxBuyersPerIp: 5,
        maxUnclaimedUnits: 20,
        skuNormFactor: 5,
        maxTravelKmh: 900,
      },
      countries: null,
      scores: {
        velocity: 30,
        hoarding_unclaimed: 40,
        sku_above_norm: 30,
        shared_device: 30,
        shared_ip: 20,
        country_mismatch: 40,
        impossible_travel: 60,
        unknown_ip: 20,
      },
      review: { deadlineSeconds: 3600, onDeadline: 'reject' },
    });
  });

  test('a partial policy keeps the defaults it does not mention', () => {
    const p = policy({ thresholds: { block: 100 }, limits: { maxBuyersPerIp: 8 }, scores: { shared_ip: 5 } });
    expect(p.thresholds).toEqual({ review: 40, block: 100 });
    expect(p.limits.maxBuyersPerDevice).toBe(3);
    expect(p.limits.maxBuyersPerIp).toBe(8);
    expect(p.scores).toMatchObject({ shared_ip: 5, velocity: 30 });
  });

  test('parses do not share default objects', () => {
    const a = policy();
    a.limits.velocity.buyer['1m'] = 99;
    expect(policy().limits.velocity.buyer['1m']).toBe(3);
  });

  test.each([
    ['review equal to block', { thresholds: { review: 80, block: 80 } }],
    ['review above block', { thresholds: { review: 90 } }],
    ['an unknown top-level key', { surprise: true }],
    ['an unknown nested key', { limits: { maxOrders: 3 } }],
    ['an unknown rule score', { scores: { vibes: 10 } }],
    ['an unknown window', { limits: { velocity: { buyer: { '5m': 1 } } } }],
    ['a fractional count', { limits: { maxBuyersPerIp: 2.5 } }],
    ['a negative score', { scores: { velocity: -1 } }],
    ['a zero velocity limit', { limits: { velocity: { ip: { '1m': 0 } } } }],
    ['a lower-case country', { countries: ['cn'] }],
    ['an empty country list', { countries: [] }],
    ['a review deadline under ten seconds', { review: { deadlineSeconds: 9 } }],
    ['a review deadline over a week', { review: { deadlineSeconds: 7 * 86_400 + 1 } }],
    ['an unknown deadline outcome', { review: { onDeadline: 'escalate' } }],
  ])('rejects %s', (_name, input) => {
    expect(RiskPolicySchema.safeParse(input).success).toBe(false);
  });

  test('accepts the deadline bounds', () => {
    expect(policy({ review: { deadlineSeconds: 10 } }).review.deadlineSeconds).toBe(10);
    expect(policy({ review: { deadlineSeconds: 7 * 86_400, onDeadline: 'approve' } }).review).toEqual({
      deadlineSeconds: 604_800,
      onDeadline: 'approve',
    });
  });
});

describe('mergePolicy', () => {
  const base = policy({ countries: ['CN'], limits: { maxUnitsPerBuyerPerDay: 10 } });

  test('merges nested objects key by key', () => {
    const merged = mergePolicy(base, { limits: { velocity: { buyer: { '1m': 5 } } }, scores: { velocity: 50 } });
    expect(merged.limits.velocity.buyer).toEqual({ '1m': 5, '1h': 10, '24h': 30 });
    expect(merged.limits.maxUnitsPerBuyerPerDay).toBe(10);
    expect(merged.scores).toMatchObject({ velocity: 50, impossible_travel: 60 });
    expect(merged.countries).toEqual(['CN']);
  });

  test('null lifts a limit; arrays replace', () => {
    const merged = mergePolicy(base, {
      limits: { maxUnitsPerBuyerPerDay: null, velocity: { ip: { '24h': null } } },
      countries: ['GB', 'FR'],
    });
    expect(merged.limits.maxUnitsPerBuyerPerDay).toBeNull();
    expect(merged.limits.velocity.ip).toEqual({ '1m': 5, '1h': 30, '24h': null });
    expect(merged.countries).toEqual(['GB', 'FR']);
    expect(mergePolicy(base, { countries: null }).countries).toBeNull();
  });

  test('an empty patch changes nothing, and the base is never mutated', () => {
    const snapshot = structuredClone(base);
    expect(mergePolicy(base, {})).toEqual(base);
    mergePolicy(base, { thresholds: { review: 10 }, limits: { velocity: { buyer: { '1m': 1 } } } });
    expect(base).toEqual(snapshot);
  });

  test('the patch is judged against the policy it lands on', () => {
    const high = policy({ thresholds: { review: 60, block: 95 } });
    expect(mergePolicy(high, { thresholds: { block: 70 } }).thresholds).toEqual({ review: 60, block: 70 });
    expect(() => mergePolicy(DEFAULT_RISK_POLICY, { thresholds: { block: 30 } })).toThrow(/review threshold/);
  });

  test.each([
    ['an unknown key', { limits: { velocity: { phone: { '1m': 1 } } } }],
    ['a wrong type', { limits: { maxBuyersPerIp: '5' } }],
    ['a non-object', 'block everything'],
    ['a prototype key', JSON.parse('{"__proto__": {"thresholds": {"block": 1}}}') as unknown],
  ])('rejects %s', (_name, patch) => {
    expect(() => mergePolicy(base, patch)).toThrow();
  });
});
