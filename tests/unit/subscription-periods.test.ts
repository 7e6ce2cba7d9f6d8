// Renewal period math (pure): the anchor day kept across short months and leap years, the
// anchor's wall-clock time kept across DST in the buyer's zone, and, over random zones,
// anchors and plans, periods that never overlap or leave gaps.
import fc from 'fast-check';
import {
  addMonths,
  canonicalTimeZone,
  daysInMonth,
  firstSegment,
  instantOf,
  PERIOD_MONTHS,
  PERIODS,
  periodAt,
  periodBounds,
  segmentFrom,
  wallClockAt,
  type Period,
  type RenewalClock,
} from '../../domain/subscriptions/periods';

const iso = (ms: number) => new Date(ms).toISOString();
/** Period n's start as an ISO instant. */
const startOf = (clock: RenewalClock, period: Period, n: number) =>
  iso(periodBounds(clock, firstSegment(period), n).startsAt);

describe('the anchor day is kept (closest day to the anchor)', () => {
  test('Jan 31 → Feb 29 (leap year) → Mar 31 → Apr 30 → May 31, in Shanghai', () => {
    // 2024-01-31 10:00 in Shanghai (UTC+8, no DST).
    const clock = { anchor: '2024-01-31T02:00:00.000Z', timeZone: 'Asia/Shanghai' };
    expect([1, 2, 3, 4, 5].map((n) => startOf(clock, 'month', n))).toEqual([
      '2024-01-31T02:00:00.000Z',
      '2024-02-29T02:00:00.000Z',
      '2024-03-31T02:00:00.000Z',
      '2024-04-30T02:00:00.000Z',
      '2024-05-31T02:00:00.000Z',
    ]);
  });

  test('Jan 31 → Feb 28 in a common year, and Mar 31 again after it', () => {
    const clock = { anchor: '2023-01-31T02:00:00.000Z', timeZone: 'Asia/Shanghai' };
    expect(startOf(clock, 'month', 2)).toBe('2023-02-28T02:00:00.000Z');
    expect(startOf(clock, 'month', 3)).toBe('2023-03-31T02:00:00.000Z');
  });

  test('a year from Feb 29 is Feb 28, and Feb 29 again four years on', () => {
    const clock = { anchor: '2024-02-29T04:00:00.000Z', timeZone: 'UTC' };
    expect(startOf(clock, 'year', 2)).toBe('2025-02-28T04:00:00.000Z');
    expect(startOf(clock, 'year', 5)).toBe('2028-02-29T04:00:00.000Z');
  });

  test('quarters from Nov 30: Feb 28, May 30, Aug 30, Nov 30', () => {
    const clock = { anchor: '2022-11-30T00:00:00.000Z', timeZone: 'UTC' };
    expect([2, 3, 4, 5].map((n) => startOf(clock, 'quarter', n).slice(0, 10))).toEqual([
      '2023-02-28',
      '2023-05-30',
      '2023-08-30',
      '2023-11-30',
    ]);
  });

  test('the day is the buyer’s: Jan 31 00:30 in Shanghai is Jan 30 in UTC, and renews on Feb 29 in Shanghai', () => {
    const clock = { anchor: '2024-01-30T16:30:00.000Z', timeZone: 'Asia/Shanghai' };
    expect(startOf(clock, 'month', 2)).toBe('2024-02-28T16:30:00.000Z'); // Feb 29 00:30 in Shanghai
  });
});

describe('the anchor’s time of day is kept across DST', () => {
  test('New York: 09:00 EST in January renews at 09:00 EDT in March (13:00Z, not 14:00Z)', () => {
    const clock = { anchor: '2024-01-15T14:00:00.000Z', timeZone: 'America/New_York' };
    expect(startOf(clock, 'month', 3)).toBe('2024-03-15T13:00:00.000Z');
    expect(startOf(clock, 'month', 11)).toBe('2024-11-15T14:00:00.000Z');
  });

  test('a wall time that does not exist (Berlin, 31 Mar 2024, 02:30) moves forward by the gap: 03:30 CEST', () => {
    const clock = { anchor: '2024-01-31T01:30:00.000Z', timeZone: 'Europe/Berlin' }; // 02:30 CET
    const start = periodBounds(clock, firstSegment('month'), 3).startsAt;
    expect(iso(start)).toBe('2024-03-31T01:30:00.000Z');
    expect(wallClockAt('Europe/Berlin', start)).toMatchObject({ month: 3, day: 31, hour: 3, minute: 30 });
  });

  test('a wall time shown twice (Berlin, 27 Oct 2024, 02:30) is its first occurrence (CEST)', () => {
    const clock = { anchor: '2024-09-27T00:30:00.000Z', timeZone: 'Europe/Berlin' }; // 02:30 CEST
    expect(startOf(clock, 'month', 2)).toBe('2024-10-27T00:30:00.000Z');
    expect(startOf(clock, 'month', 3)).toBe('2024-11-27T01:30:00.000Z'); // 02:30 CET
  });

  test('southern hemisphere and half-hour zones: Sydney and Kathmandu keep their wall time', () => {
    const sydney = { anchor: '2024-03-10T23:00:00.000Z', timeZone: 'Australia/Sydney' }; // Mar 11 10:00 AEDT
    expect(wallClockAt('Australia/Sydney', periodBounds(sydney, firstSegment('month'), 2).startsAt)).toMatchObject({
      month: 4,
      day: 11,
      hour: 10,
      minute: 0,
    });
    expect(startOf(sydney, 'month', 2)).toBe('2024-04-11T00:00:00.000Z'); // AEST (+10)
    const kathmandu = { anchor: '2024-01-31T18:15:00.000Z', timeZone: 'Asia/Kathmandu' }; // Feb 1 00:00 +05:45
    expect(startOf(kathmandu, 'month', 2)).toBe('2024-02-29T18:15:00.000Z'); // Mar 1 00:00
  });
});

describe('time zone names', () => {
  test('IANA names are canonicalised; offsets and unknown names are refused', () => {
    expect(canonicalTimeZone('asia/shanghai')).toBe('Asia/Shanghai');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    // Three-part names are IANA names too (ICU may answer with the zone's CLDR alias).
    expect(canonicalTimeZone('America/Argentina/Buenos_Aires')).toMatch(/Buenos_Aires$/);
    for (const bad of ['Mars/Olympus_Mons', '+08:00', 'Asia/Shanghai ', '', 'Asia//Shanghai']) {
      expect(canonicalTimeZone(bad)).toBeUndefined();
    }
  });
});

describe('seconds instead of months (tests)', () => {
  test('a month of 4 s: periods of 4, 12 and 48 s from the anchor', () => {
    const clock = { anchor: '2026-01-01T00:00:00.000Z', timeZone: 'Asia/Shanghai', secondsPerMonth: 4 };
    expect(periodBounds(clock, firstSegment('month'), 3)).toEqual({
      number: 3,
      startsAt: Date.parse('2026-01-01T00:00:08.000Z'),
      endsAt: Date.parse('2026-01-01T00:00:12.000Z'),
    });
    expect(periodBounds(clock, firstSegment('quarter'), 2).startsAt - Date.parse(clock.anchor)).toBe(12_000);
    expect(periodBounds(clock, firstSegment('year'), 2).startsAt - Date.parse(clock.anchor)).toBe(48_000);
  });
});

describe('plan changes', () => {
  test('a monthly plan from Jan 31 becomes quarterly from period 3 and keeps day 31 where the month has it', () => {
    const clock = { anchor: '2024-01-31T02:00:00.000Z', timeZone: 'Asia/Shanghai' };
    const monthly = firstSegment('month');
    const quarterly = segmentFrom(monthly, 3, 'quarter');
    expect(periodBounds(clock, quarterly, 3).startsAt).toBe(periodBounds(clock, monthly, 3).startsAt);
    expect([3, 4, 5].map((n) => iso(periodBounds(clock, quarterly, n).startsAt).slice(0, 10))).toEqual([
      '2024-03-31',
      '2024-06-30',
      '2024-09-30',
    ]);
    expect(iso(periodBounds(clock, quarterly, 6).startsAt).slice(0, 10)).toBe('2024-12-31');
  });

  test('a period before the segment is refused', () => {
    expect(() =>
      periodBounds(
        { anchor: '2024-01-01T00:00:00Z', timeZone: 'UTC' },
        segmentFrom(firstSegment('month'), 4, 'year'),
        3,
      ),
    ).toThrow(RangeError);
  });
});

describe('properties over random zones, anchors and plans', () => {
  const zones = Intl.supportedValuesOf('timeZone');
  const anchorMs = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2090, 0, 1) });
  const zone = fc.constantFrom(...zones);
  const period = fc.constantFrom(...PERIODS);
  const clockArb = fc.record({ anchor: anchorMs.map(iso), timeZone: zone });
  /** Whether the zone's wall clock ever shows `wall` (false inside a DST gap). */
  const exists = (timeZone: string, wall: ReturnType<typeof wallClockAt>) => {
    const shown = wallClockAt(timeZone, instantOf(timeZone, wall));
    return shown.day === wall.day && shown.hour === wall.hour && shown.minute === wall.minute;
  };

  test('consecutive periods share their boundary and every period has a length (no overlap, no gap)', () => {
    fc.assert(
      fc.property(clockArb, period, fc.integer({ min: 1, max: 120 }), (clock, p, n) => {
        const segment = firstSegment(p);
        const current = periodBounds(clock, segment, n);
        const next = periodBounds(clock, segment, n + 1);
        expect(current.endsAt).toBe(next.startsAt);
        expect(current.startsAt).toBeLessThan(current.endsAt);
        // A month is 28–31 days, give or take a DST shift (at most a day's, as in Samoa 2011).
        const days = (current.endsAt - current.startsAt) / 86_400_000;
        expect(days).toBeGreaterThan(PERIOD_MONTHS[p] * 28 - 1.1);
        expect(days).toBeLessThan(PERIOD_MONTHS[p] * 31 + 1.1);
      }),
      { numRuns: 300 },
    );
  });

  test('the anchor day (and time of day) returns whenever the month has it; otherwise the month’s last day', () => {
    const lateDayAnchor = fc.record({
      timeZone: zone,
      year: fc.integer({ min: 1995, max: 2080 }),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.integer({ min: 28, max: 31 }),
      hour: fc.integer({ min: 0, max: 23 }),
      minute: fc.integer({ min: 0, max: 59 }),
    });
    fc.assert(
      fc.property(lateDayAnchor, fc.integer({ min: 0, max: 240 }), (a, months) => {
        const day = Math.min(a.day, daysInMonth(a.year, a.month));
        const wall = { year: a.year, month: a.month, day, hour: a.hour, minute: a.minute, second: 0, millisecond: 0 };
        fc.pre(exists(a.timeZone, wall));
        const clock = { anchor: iso(instantOf(a.timeZone, wall)), timeZone: a.timeZone };
        const expected = addMonths(wallClockAt(a.timeZone, Date.parse(clock.anchor)), months);
        fc.pre(exists(a.timeZone, expected));
        const start = periodBounds(clock, firstSegment('month'), months + 1).startsAt;
        const shown = wallClockAt(a.timeZone, start);
        expect({ year: shown.year, month: shown.month, day: shown.day }).toEqual({
          year: expected.year,
          month: expected.month,
          day: Math.min(day, daysInMonth(expected.year, expected.month)),
        });
        expect({ hour: shown.hour, minute: shown.minute }).toEqual({ hour: a.hour, minute: a.minute });
      }),
      { numRuns: 400 },
    );
  });

  test('a plan change starts its first period where the old plan would have, and periods stay contiguous', () => {
    fc.assert(
      fc.property(
        clockArb,
        period,
        period,
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 20 }),
        (clock, p, q, at, k) => {
          const before = firstSegment(p);
          const after = segmentFrom(before, at, q);
          expect(periodBounds(clock, after, at).startsAt).toBe(periodBounds(clock, before, at).startsAt);
          expect(periodBounds(clock, after, at + k).endsAt).toBe(periodBounds(clock, after, at + k + 1).startsAt);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('periodAt finds the period that holds the instant, also in seconds-long months', () => {
    fc.assert(
      fc.property(
        clockArb,
        period,
        fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (base, p, secondsPerMonth, fraction) => {
          const clock = secondsPerMonth === undefined ? base : { ...base, secondsPerMonth };
          const segment = firstSegment(p);
          const span = periodBounds(clock, segment, 60).endsAt - Date.parse(clock.anchor);
          const instant = Date.parse(clock.anchor) + Math.floor(fraction * (span - 1));
          const found = periodAt(clock, segment, instant);
          expect(found.startsAt).toBeLessThanOrEqual(instant);
          expect(found.endsAt).toBeGreaterThan(instant);
        },
      ),
      { numRuns: 300 },
    );
  });
});
