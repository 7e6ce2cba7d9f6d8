// Rate limits as a sliding window estimated from two fixed windows: the previous window's
// count, weighted by how much of it still overlaps the last `windowMs`, plus the current
// window's count. Two counters per key (rows any process can increment) instead of one
// timestamp per request, at the price of assuming the previous window's requests were
// spread evenly.

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** How many more requests would be admitted right now (never negative). */
  remaining: number;
  /**
   * Whole seconds until one more request would be admitted, if nothing else arrives: at
   * least 1 when refused, 0 when one more is admitted now. Up to two windows: a window's
   * count weighs on the estimate until the window after it has passed.
   */
  retryAfterSeconds: number;
}

// Counts are integers but the elapsed fraction is not: a bound met exactly on paper can miss
// by a rounding error (0.9 + 2/3 windows is 94.00000000000001 s), which must not cost a second.
const EPSILON = 1e-9;

/** The start of the fixed window holding `nowMs`; windows are aligned to the epoch, so every process agrees. */
export function windowStartOf(nowMs: number, windowMs: number): number {
  return Math.floor(nowMs / windowMs) * windowMs;
}

/** `previous × (1 − elapsed fraction of the current window) + current`. */
export function slidingEstimate(previous: number, current: number, elapsedFraction: number): number {
  return previous * (1 - elapsedFraction) + current;
}

/**
 * The decision on a request already counted in `current` (every attempt counts, refused
 * ones too, so a client hammering a limit stays limited).
 */
export function decideRateLimit(input: {
  limit: number;
  windowMs: number;
  nowMs: number;
  previous: number;
  current: number;
}): RateLimitDecision {
  const { limit, windowMs, nowMs, previous, current } = input;
  if (!(limit >= 1) || !(windowMs > 0)) throw new RangeError('a rate limit needs limit >= 1 and windowMs > 0');
  const elapsed = (nowMs - windowStartOf(nowMs, windowMs)) / windowMs;
  const estimate = slidingEstimate(previous, current, elapsed);
  const waitMs = msUntilNextAdmitted({ limit, windowMs, elapsed, previous, current });
  const allowed = estimate <= limit + EPSILON;
  return {
    allowed,
    limit,
    remaining: Math.max(0, Math.floor(limit - estimate + EPSILON)),
    retryAfterSeconds: allowed && waitMs === 0 ? 0 : Math.max(1, Math.ceil(waitMs / 1000 - EPSILON)),
  };
}

/** When would a request arriving later, with nothing else in between, fit (its own hit included)? */
function msUntilNextAdmitted(w: {
  limit: number;
  windowMs: number;
  elapsed: number;
  previous: number;
  current: number;
}): number {
  const { limit, windowMs, elapsed, previous, current } = w;
  const fits = (estimate: number) => estimate + 1 <= limit + EPSILON;
  if (fits(slidingEstimate(previous, current, elapsed))) return 0;
  // Still in this window: the previous window's share fades linearly.
  if (previous > 0) {
    const fraction = (slidingEstimate(previous, current, elapsed) + 1 - limit) / previous;
    if (elapsed + fraction < 1) return fraction * windowMs;
  }
  // In the next window this window's count is the one that fades (and nothing is current yet).
  const intoNext = fits(current) ? 0 : 1 - (limit - 1) / current;
  return (1 - elapsed + intoNext) * windowMs;
}
