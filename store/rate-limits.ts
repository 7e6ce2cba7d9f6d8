// Rate-limit counters in PostgreSQL, so every API process counts against the same limit:
// one row per key and fixed window (rate_limit_buckets), incremented by every attempt.
import { decideRateLimit, type RateLimitDecision, windowStartOf } from '../domain/rate-limit';
import { type Db, sqlOf } from '../infra/db';

// One round trip on every limited request (through the pg pool, as the other hot paths):
// the upsert counts this attempt in the current window — its row lock serialises concurrent
// hits on one key, in any process — and the same statement reads the previous window's count.
// Windows start at epoch multiples of windowMs on the API host's clock (NTP-synchronised
// hosts agree to within milliseconds, which moves a few hits across a window boundary at most).
//
// The statement commits asynchronously (synchronous_commit off for its own transaction
// only): the request does not wait for the WAL flush (measured on the 2-core build box:
// median 0.8 → 0.65 ms and p90 2.5 → 1.3 ms idle, median 1.9 → 0.7 ms with a test run
// beside it). A PostgreSQL crash can then forget the last fraction of a second of
// increments — a few requests uncounted, nothing inconsistent — which a rate limit can afford.
const HIT = `
  WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
  hit AS (
    INSERT INTO rate_limit_buckets AS b (key, window_start, count)
    VALUES ($1, $2, 1)
    ON CONFLICT (key, window_start) DO UPDATE SET count = b.count + 1
    RETURNING b.count
  )
  SELECT hit.count AS current,
         COALESCE((SELECT p.count FROM rate_limit_buckets p WHERE p.key = $1 AND p.window_start = $3), 0) AS previous
    FROM hit, async_commit`;

/** Counts one attempt on `key` and decides it against `limit` per `windowMs` (sliding estimate). */
export async function hitRateLimit(
  db: Db,
  input: { key: string; limit: number; windowMs: number; now: Date },
): Promise<RateLimitDecision> {
  const { key, limit, windowMs, now } = input;
  const start = windowStartOf(now.getTime(), windowMs);
  const [row] = await sqlOf(db).rows<{ current: number; previous: number }>(
    HIT,
    [key, new Date(start), new Date(start - windowMs)],
    'rate_limit_hit',
  );
  if (!row) throw new Error('rate limit upsert returned no row');
  return decideRateLimit({ limit, windowMs, nowMs: now.getTime(), previous: row.previous, current: row.current });
}

/**
 * Deletes the windows of keys under `prefix` that no longer count: older than the previous
 * window at `now`. Rows of keys that never come back (a buyer's IP seen once) would stay
 * forever otherwise. Returns how many rows went.
 */
export async function sweepRateLimits(db: Db, input: { prefix: string; windowMs: number; now: Date }): Promise<number> {
  const stillCounted = windowStartOf(input.now.getTime(), input.windowMs) - input.windowMs;
  const rows = await sqlOf(db).rows<{ n: number }>(
    `WITH gone AS (
       DELETE FROM rate_limit_buckets WHERE starts_with(key, $1) AND window_start < $2 RETURNING 1
     )
     SELECT count(*)::int AS n FROM gone`,
    [input.prefix, new Date(stillCounted)],
  );
  return rows[0]?.n ?? 0;
}
