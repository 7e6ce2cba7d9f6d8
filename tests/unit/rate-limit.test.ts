// Issue 19: the sliding-window estimate, the decision and its Retry-After, on given counts.
import fc from 'fast-check';
import { decideRateLimit, slidingEstimate, windowStartOf } from '../../domain/rate-limit';

const W = 60_000;
const T0 = 1_800_000_000_000; // a multiple of W: the start of a window
const at = (fraction: number) => T0 + fraction * W;

test('windows are aligned to the epoch, so every process computes the same start', () => {
  expect(windowStartOf(T0, W)).toBe(T0);
  expect(windowStartOf(T0 + W - 1, W)).toBe(T0);
  expect(windowStartOf(T0 + W, W)).toBe(T0 + W);
  expect(windowStartOf(T0 + 1_234, 1_000)).toBe(T0 + 1_000);
});

test('the estimate weighs the previous window by the part of it still inside the sliding window', () => {
  expect(slidingEstimate(10, 3, 0)).toBe(13);
  expect(slidingEstimate(10, 3, 0.25)).toBe(10.5);
  expect(slidingEstimate(10, 3, 1)).toBe(3);
});

test('under the limit: admitted, with what is left and no wait', () => {
  expect(decideRateLimit({ limit: 10, windowMs: W, nowMs: at(0.5), previous: 4, current: 3 })).toEqual({
    allowed: true,
    limit: 10,
    remaining: 5, // 10 − (4 × 0.5 + 3)
    retryAfterSeconds: 0,
  });
});

test('exactly at the limit is admitted; the request after it is not', () => {
  const last = decideRateLimit({ limit: 5, windowMs: W, nowMs: at(0.1), previous: 0, current: 5 });
  expect(last).toMatchObject({ allowed: true, remaining: 0 });
  // Nothing more fits until this window's count has faded enough in the next one.
  expect(last.retryAfterSeconds).toBeGreaterThan(0);
  expect(decideRateLimit({ limit: 5, windowMs: W, nowMs: at(0.1), previous: 0, current: 6 })).toMatchObject({
    allowed: false,
    remaining: 0,
  });
});

test('a busy previous window refuses until its share has faded: Retry-After is that time', () => {
  // 10 last window, 2 now, limit 10, 40 % in: estimate 6 + 2 = 8 … admitted.
  expect(decideRateLimit({ limit: 10, windowMs: W, nowMs: at(0.4), previous: 10, current: 2 }).allowed).toBe(true);
  // 20 last window, 2 now, 40 % in: 12 + 2 = 14 > 10. One more fits once 20 × (1 − f) + 2 + 1 ≤ 10,
  // at f = 0.65: 0.25 of a window (15 s) from now.
  const refused = decideRateLimit({ limit: 10, windowMs: W, nowMs: at(0.4), previous: 20, current: 2 });
  expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 15 });
  // And at that time it does fit.
  const later = decideRateLimit({ limit: 10, windowMs: W, nowMs: at(0.65), previous: 20, current: 3 });
  expect(later).toMatchObject({ allowed: true });
});

test('hammering within one window: the wait runs into the next window, where this one fades', () => {
  // Limit 5, 12 attempts (refused ones count) 10 % into a window with a quiet previous one.
  // Next window: 12 × (1 − s) + 1 ≤ 5 at s = 2/3, so 0.9 + 0.667 windows = 94 s.
  const refused = decideRateLimit({ limit: 5, windowMs: W, nowMs: at(0.1), previous: 0, current: 12 });
  expect(refused).toMatchObject({ allowed: false, retryAfterSeconds: 94 });
  // Waiting that long is enough, and a second less is not.
  const next = T0 + W;
  expect(decideRateLimit({ limit: 5, windowMs: W, nowMs: next + 40_000, previous: 12, current: 1 }).allowed).toBe(true);
  expect(decideRateLimit({ limit: 5, windowMs: W, nowMs: next + 39_000, previous: 12, current: 1 }).allowed).toBe(
    false,
  );
});

test('Retry-After is at least one second and never more than two windows', () => {
  // Barely over: 1000 × 0.01 + 1 = 11 fades to 9 (room for one) in 0.12 s; the header says 1.
  const barely = decideRateLimit({ limit: 10, windowMs: W, nowMs: at(0.99), previous: 1_000, current: 1 });
  expect(barely).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
  // A limit of one and a huge count: fits only once the window after this one has passed.
  const worst = decideRateLimit({ limit: 1, windowMs: W, nowMs: T0, previous: 1_000, current: 1_000 });
  expect(worst).toMatchObject({ allowed: false, retryAfterSeconds: 120 });
});

// Counts as the store returns them: the request itself is in `current`.
const situation = fc.record({
  limit: fc.integer({ min: 1, max: 50 }),
  windowMs: fc.constantFrom(1_000, 2_000, 10_000, 60_000),
  into: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  previous: fc.integer({ min: 0, max: 200 }),
  current: fc.integer({ min: 1, max: 200 }),
});
const SEED = 20261219;

test('the decision stays in range for any counts', () => {
  fc.assert(
    fc.property(situation, ({ limit, windowMs, into, previous, current }) => {
      const d = decideRateLimit({ limit, windowMs, nowMs: T0 + Math.floor(into * windowMs), previous, current });
      expect(d.remaining).toBeGreaterThanOrEqual(0);
      expect(d.remaining).toBeLessThanOrEqual(limit);
      if (!d.allowed) expect(d.remaining).toBe(0);
      if (!d.allowed) expect(d.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(d.retryAfterSeconds).toBeLessThanOrEqual(Math.ceil((2 * windowMs) / 1000));
    }),
    { seed: SEED, numRuns: 2_000 },
  );
});

test('the wait it announces is the wait that admits, and a second less would not', () => {
  // After retryAfterSeconds, with no request in between, one more request fits.
  const countsAt = (nowMs: number, then: number, windowMs: number, previous: number, current: number) => {
    const windowsLater = (windowStartOf(then, windowMs) - windowStartOf(nowMs, windowMs)) / windowMs;
    if (windowsLater === 0) return { previous, current: current + 1 };
    if (windowsLater === 1) return { previous: current, current: 1 };
    return { previous: 0, current: 1 };
  };
  fc.assert(
    fc.property(situation, ({ limit, windowMs, into, previous, current }) => {
      const nowMs = T0 + Math.floor(into * windowMs);
      const d = decideRateLimit({ limit, windowMs, nowMs, previous, current });
      if (d.allowed) return;
      const then = nowMs + d.retryAfterSeconds * 1000;
      const admitted = (at: number) =>
        decideRateLimit({ limit, windowMs, nowMs: at, ...countsAt(nowMs, at, windowMs, previous, current) }).allowed;
      expect(admitted(then)).toBe(true);
      if (d.retryAfterSeconds > 1) expect(admitted(then - 1_000)).toBe(false);
    }),
    { seed: SEED, numRuns: 5_000 },
  );
});

test('a limit below one is a programming error (0 means "no limiter", decided before)', () => {
  expect(() => decideRateLimit({ limit: 0, windowMs: W, nowMs: T0, previous: 0, current: 1 })).toThrow(RangeError);
});
