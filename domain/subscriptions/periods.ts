// Renewal periods in the buyer's calendar. A subscription's periods are counted from its
// anchor (the instant the first period started): period n starts M months after the anchor,
// on the anchor's day of the month, or the month's last day when it has no such day (Stripe's
// "closest day to the anchor": Jan 31 → Feb 28/29 → Mar 31 → Apr 30), at the anchor's time of
// day, all on the wall clock of the buyer's IANA time zone, so a DST change does not move a
// renewal by an hour. Every boundary is computed from the anchor, never from the previous
// period, so a short month does not pull later renewals forward, and period n ends exactly
// where period n + 1 starts (no overlap, no gap). Pure and deterministic: workflows import it.
// Only Intl is used (the runtime's own time-zone data), no date library and no Node module.

export const PERIODS = ['month', 'quarter', 'year'] as const;
export type Period = (typeof PERIODS)[number];
export const PERIOD_MONTHS: Readonly<Record<Period, number>> = { month: 1, quarter: 3, year: 12 };

/** A time on a wall clock: month 1–12. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/**
 * Where a subscription's periods are counted from. `secondsPerMonth` replaces the calendar
 * with months of that many seconds (a quarter 3×, a year 12×): tests run real renewals in
 * seconds; production leaves it out.
 */
export interface RenewalClock {
  /** The first period's start, an ISO instant. */
  anchor: string;
  timeZone: string;
  secondsPerMonth?: number;
}

/**
 * A run of periods under one plan: from period `fromPeriod` on, each `period` long, the first
 * starting `monthsAtStart` months after the anchor. A plan change starts a new segment at a
 * period boundary (`segmentFrom`), which keeps the anchor's day and time.
 */
export interface PlanSegment {
  fromPeriod: number;
  monthsAtStart: number;
  period: Period;
}

export interface PeriodBounds {
  number: number;
  /** Epoch milliseconds; the period is [startsAt, endsAt). */
  startsAt: number;
  endsAt: number;
}

const DAY_MS = 86_400_000;
/** The Gregorian calendar's average month. */
const AVERAGE_MONTH_MS = (365.2425 / 12) * DAY_MS;
// IANA names (Area/Location…, or UTC and its aliases), not offsets such as "+08:00", which
// some runtimes also accept but which do not follow a region's DST rules.
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The zone's canonical IANA name (`asia/shanghai` → `Asia/Shanghai`), or undefined when the runtime does not know it. */
export function canonicalTimeZone(name: string): string | undefined {
  if (!IANA_NAME.test(name)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** What the zone's wall clock shows at the instant. */
export function wallClockAt(timeZone: string, epochMs: number): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatterOf(timeZone).formatToParts(epochMs)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
    millisecond: ((epochMs % 1000) + 1000) % 1000,
  };
}

const utcOf = (w: WallClock) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);

/** The zone's offset from UTC at the instant, in milliseconds (east positive). */
function offsetAt(timeZone: string, epochMs: number): number {
  return utcOf(wallClockAt(timeZone, epochMs)) - epochMs;
}

/**
 * The instant the zone's wall clock shows `wall`. A time shown twice (clocks turned back) is
 * its first occurrence; a time never shown (clocks turned forward) is moved forward by the
 * gap, to when it would have been (02:30 on a 02:00 → 03:00 night is 03:30), as ECMAScript
 * Temporal's "compatible" disambiguation does.
 */
export function instantOf(timeZone: string, wall: WallClock): number {
  const local = utcOf(wall);
  // The offsets around the wall time: any transition near it is between these.
  const before = offsetAt(timeZone, local - DAY_MS);
  const offsets = new Set([before, offsetAt(timeZone, local), offsetAt(timeZone, local + DAY_MS)]);
  const shown = [...offsets].map((offset) => local - offset).filter((t) => offsetAt(timeZone, t) === local - t);
  if (shown.length > 0) return Math.min(...shown);
  return local - before;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** `months` months after `wall`: the same day, or the month's last day when it has fewer; the same time of day. */
export function addMonths(wall: WallClock, months: number): WallClock {
  const total = wall.month - 1 + months;
  const year = wall.year + Math.floor(total / 12);
  const month = (((total % 12) + 12) % 12) + 1;
  return { ...wall, year, month, day: Math.min(wall.day, daysInMonth(year, month)) };
}

/** The instant `months` months after the clock's anchor. */
export function monthsAfterAnchor(clock: RenewalClock, months: number): number {
  const anchorMs = Date.parse(clock.anchor);
  if (clock.secondsPerMonth !== undefined) return anchorMs + months * clock.secondsPerMonth * 1000;
  return instantOf(clock.timeZone, addMonths(wallClockAt(clock.timeZone, anchorMs), months));
}

/** The plan a subscription starts with. */
export function firstSegment(period: Period): PlanSegment {
  return { fromPeriod: 1, monthsAtStart: 0, period };
}

/** Period `n`'s bounds (n ≥ segment.fromPeriod). */
export function periodBounds(clock: RenewalClock, segment: PlanSegment, n: number): PeriodBounds {
  if (!Number.isInteger(n) || n < segment.fromPeriod) {
    throw new RangeError(`period ${n} is not in the segment from period ${segment.fromPeriod}`);
  }
  const length = PERIOD_MONTHS[segment.period];
  const months = segment.monthsAtStart + (n - segment.fromPeriod) * length;
  return { number: n, startsAt: monthsAfterAnchor(clock, months), endsAt: monthsAfterAnchor(clock, months + length) };
}

/** A new plan (`period`) from period `n` on: period n starts where the current segment would start it. */
export function segmentFrom(segment: PlanSegment, n: number, period: Period): PlanSegment {
  if (!Number.isInteger(n) || n < segment.fromPeriod) {
    throw new RangeError(`period ${n} is not in the segment from period ${segment.fromPeriod}`);
  }
  return {
    fromPeriod: n,
    monthsAtStart: segment.monthsAtStart + (n - segment.fromPeriod) * PERIOD_MONTHS[segment.period],
    period,
  };
}

/**
 * The period whose bounds hold the instant (at least `segment.fromPeriod`): where a
 * subscription resumed after a long hold starts again, keeping its anchor.
 */
export function periodAt(clock: RenewalClock, segment: PlanSegment, epochMs: number): PeriodBounds {
  let bounds = periodBounds(clock, segment, segment.fromPeriod);
  if (epochMs < bounds.startsAt) return bounds;
  // Close to the answer by elapsed time over an average period, then step to it: a few
  // iterations whatever the subscription's age.
  const monthMs = clock.secondsPerMonth !== undefined ? clock.secondsPerMonth * 1000 : AVERAGE_MONTH_MS;
  let n = segment.fromPeriod + Math.floor((epochMs - bounds.startsAt) / (PERIOD_MONTHS[segment.period] * monthMs));
  bounds = periodBounds(clock, segment, n);
  while (bounds.startsAt > epochMs && n > segment.fromPeriod) bounds = periodBounds(clock, segment, --n);
  while (bounds.endsAt <= epochMs) bounds = periodBounds(clock, segment, ++n);
  return bounds;
}
