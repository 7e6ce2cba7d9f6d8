import type { Request, RequestHandler } from 'express';
import type { Db } from '../../infra/db';
import { hitRateLimit, sweepRateLimits } from '../../store/rate-limits';
import { Problem } from '../problem';

export interface RateLimitOptions {
  db: Db;
  /** Names the limiter in logs and prefixes its keys: `<name>:<keyOf(req)>`. */
  name: string;
  /** Requests admitted per window and key, summed over every API process; 0 turns the limiter off. */
  limit: number;
  windowMs: number;
  /** Whom a request counts against (a client id, an address). */
  keyOf: (req: Request) => string;
}

// Old windows go in a sweep of this limiter's keys at most once a minute per process,
// started by a request but not awaited by it. Not in the counting statement: deleting a
// key's old rows there would clean only keys that come back, while a buyer's address seen
// once never does, so a sweep is needed anyway — and with it the hot statement stays a
// single-row upsert. The table holds at most the keys seen in the last two windows plus a
// minute, which a sequential scan deletes from in a moment.
const SWEEP_EVERY_MS = 60_000;
// A database outage would otherwise log one warning per request.
const WARN_EVERY_MS = 10_000;

/**
 * Counts every request against `limit` per `windowMs` (sliding estimate, counters shared in
 * PostgreSQL); over it, 429 `rate_limited` with Retry-After. Every response that passes a
 * limiter carries RateLimit-Limit and RateLimit-Remaining.
 *
 * If the counters cannot be read the request goes through, with a warning at most every
 * ten seconds (fail open). The limiter protects capacity and grants nothing, so letting
 * requests through while its table is unreachable costs at most some unmetered traffic; a
 * route that needs the database then fails with its own error anyway. Failing closed (503)
 * would turn every failure of the limiter's one query (a dropped connection, a restarting
 * PostgreSQL) into a refusal of every limited route, including requests that would have
 * succeeded on the next connection.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const { db, name, limit, windowMs, keyOf } = options;
  if (limit <= 0) return (_req, _res, next) => next();
  let sweptAt = Date.now();
  let warnedAt = 0;

  return async (req, res, next) => {
    const now = new Date();
    if (now.getTime() - sweptAt >= SWEEP_EVERY_MS) {
      sweptAt = now.getTime();
      sweepRateLimits(db, { prefix: `${name}:`, windowMs, now }).then(
        (deleted) => req.log.debug({ limiter: name, deleted }, 'rate limit windows swept'),
        (err) => req.log.warn({ limiter: name, err }, 'rate limit sweep failed'),
      );
    }
    const key = `${name}:${keyOf(req)}`;
    let decision;
    try {
      decision = await hitRateLimit(db, { key, limit, windowMs, now });
    } catch (err) {
      if (now.getTime() - warnedAt >= WARN_EVERY_MS) {
        warnedAt = now.getTime();
        req.log.warn({ limiter: name, err }, 'rate limit not checked (counters unavailable): request let through');
      }
      return next();
    }
    res.setHeader('RateLimit-Limit', String(limit));
    res.setHeader('RateLimit-Remaining', String(decision.remaining));
    if (!decision.allowed) {
      res.setHeader('Retry-After', String(decision.retryAfterSeconds));
      throw new Problem(
        429,
        'rate_limited',
        `Too many requests: at most ${limit} per ${windowMs / 1000} s; retry after ${decision.retryAfterSeconds} s`,
      );
    }
    next();
  };
}
