// Subscriptions under load (issue 31, acceptance 9), on the bench's stack with months of
// seconds (SUBSCRIPTION_SECONDS_PER_MONTH; orders never read it, so no other section changes):
//
// - Renewal peak: N monthly subscriptions created in one burst through POST /v1/subscriptions,
//   their first periods delivered and their second periods' notices sent. Intake takes tens of
//   seconds for hundreds (anchors are intake times), so the second periods fall due over that
//   window, not in one second; to have all N due at once as the worker sees them — the first
//   of the month — the worker process is stopped before the first falls due and started
//   again once the last has. It then finds N renewals waiting, none of them cached, as after
//   a month asleep. Renewals/s runs from the restarted worker's first poll until the last
//   period-2 order is delivered; lateness is each delivery after that instant. Completion is
//   read from the database once a second (one query for all N): the measuring is not the load.
// - Sleeping subscriptions: on a fresh worker process, thousands of yearly subscriptions, their
//   first period delivered, then asleep on the renewal timer; the worker's resident memory
//   (VmRSS) then against a bare SDK worker's, side by side, and the worker's cache limit
//   (workflows it may keep in memory between tasks).
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import v8 from 'node:v8';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { noticeLeadMs } from '../../domain/subscriptions/notice';
import { workerTuning } from '../../workers/fulfillment-worker';
import { latencies, peakRssMb, rssMb } from './measure';
import { RENEWALS_SECONDS_APART_POLICY } from '../../scripts/lib/renewal-risk-policy';

/** What both sections need from the bench: the stack's API, Temporal and database, and the worker. */
export interface SubscriptionBenchContext {
  /** The platform worker process (one at a time here): its pid, a graceful stop, a start that resolves once it polls. */
  worker: { pid(): number; stop(): Promise<void>; start(): Promise<void> };
  admin: Api;
  apiFor(key: string): Api;
  client: Client;
  pool: Pool;
  taskQueue: string;
  /** CPU milliseconds used so far by each process the bench watches. */
  cpu(): Record<string, number>;
  /** Starts the bare SDK worker of the memory comparison. */
  startBareWorker(): ChildProcess;
  stopChild(child: ChildProcess): Promise<void>;
  log(line: string): void;
}

export interface Api {
  post(route: string, body: unknown): Promise<any>;
  patch(route: string, body: unknown): Promise<any>;
}

/**
 * The months and notices the bench's stack runs with. The month must outlast the burst and its
 * first periods (all delivered before the second periods' notices go out, 1.1 notices before
 * each renewal); the notice's lead must be longer than the burst, so that every notice is out
 * before the first renewal falls due and the worker stops; and a year (12 months: the
 * sleepers' period) must outlast the creation of every sleeper and the settle, so none wakes
 * before it is measured.
 */
export function subscriptionTiming(quick: boolean) {
  return quick
    ? { secondsPerMonth: 45, noticeSeconds: 15, peak: 60, sleeping: 1_000, settleMs: 30_000 }
    : { secondsPerMonth: 120, noticeSeconds: 45, peak: 400, sleeping: 10_000, settleMs: 60_000 };
}

/** For startProcessStack's `env`: only subscriptions read these. */
export function subscriptionEnv(quick: boolean): Record<string, string> {
  const t = subscriptionTiming(quick);
  return {
    SUBSCRIPTION_SECONDS_PER_MONTH: String(t.secondsPerMonth),
    SUBSCRIPTION_NOTICE_SECONDS: String(t.noticeSeconds),
  };
}

const PRICE_MINOR = 100;
const BURST_CONCURRENCY = 50;
const CREATE_CONCURRENCY = 20;
/** Sleepers whose first period may be under way at once: enough to keep the worker busy, few enough to stay a steady load. */
const BACKLOG = 100;
const POLL_MS = 1_000;
/** After the last notice is recorded, time for its webhook step to finish before the worker stops. */
const NOTICE_SETTLE_MS = 3_000;
const round = (n: number) => Math.round(n * 100) / 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A product with `keys` keys and a shop with a balance for every charge. The product's risk
 * policy has no velocity limits: a buyer renewing every 90 seconds would trip them (the
 * subscription tests do the same); risk control still runs on every period's order.
 */
async function subscriptionShop(ctx: SubscriptionBenchContext, keys: number) {
  const sku = `bench-sub-${randomUUID().slice(0, 8)}`;
  await ctx.admin.post('/v1/products', {
    sku,
    name: 'Bench monthly VIP',
    kind: 'card_key',
    price: { minor: PRICE_MINOR, currency: 'CNY' },
  });
  await ctx.admin.patch(`/v1/risk/policies/${sku}`, RENEWALS_SECONDS_APART_POLICY);
  for (let i = 0; i < keys; i += 1000) {
    await ctx.admin.post('/v1/inventory/batches', {
      sku,
      keys: Array.from({ length: Math.min(1000, keys - i) }, () => `BENCH-SUB-${randomUUID()}`),
    });
  }
  const shop = await ctx.admin.post('/v1/clients', { name: 'bench subscriptions', role: 'order-system' });
  await ctx.admin.post(`/v1/clients/${shop.id}/topups`, { amount: { minor: 1_000_000_000, currency: 'CNY' } });
  const api = ctx.apiFor(shop.apiKey);
  const subscribe = async (label: string, period: 'month' | 'year'): Promise<string> => {
    const id = randomUUID();
    const created = await api.post('/v1/subscriptions', {
      externalSubscriptionId: `${label}-${id}`,
      buyer: { id: `buyer-${label}-${id.slice(0, 8)}`, ip: '203.0.113.7' },
      sku,
      period,
    });
    return created.id as string;
  };
  return { sku, clientId: shop.id as string, api, subscribe };
}

interface Parallel<T> {
  results: T[];
  errors: number;
  firstError?: string;
}

/** `count` calls of `call` with at most `concurrency` in flight; resolves to the results that succeeded. */
async function inParallel<T>(
  count: number,
  concurrency: number,
  call: (i: number) => Promise<T>,
): Promise<Parallel<T>> {
  const results: T[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count; i = next++) {
        try {
          results.push(await call(i));
        } catch (err) {
          errors += 1;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  return { results, errors, ...(firstError ? { firstError } : {}) };
}

/** Waits until `check` says so (polled every `everyMs`), or throws after `withinMs`. */
async function until<T>(
  what: string,
  withinMs: number,
  everyMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs / 1000} s`);
    await sleep(everyMs);
  }
}

/** The client's subscriptions whose period `period` has been paid (their workflows recorded it). */
async function paidOf(pool: Pool, clientId: string, period: number): Promise<number> {
  const { rows } = await pool.query(
    'SELECT count(*)::int AS n FROM subscriptions WHERE client_id = $1 AND current_period >= $2',
    [clientId, period],
  );
  return rows[0].n;
}

/** The client's subscriptions whose period `period` has been noticed (the renewal notice recorded). */
async function noticedOf(pool: Pool, clientId: string, period: number): Promise<number> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n FROM subscription_periods p JOIN subscriptions s ON s.id = p.subscription_id
      WHERE s.client_id = $1 AND p.number = $2 AND p.notice_sent_at IS NOT NULL`,
    [clientId, period],
  );
  return rows[0].n;
}

/** Period `period` of each of the client's subscriptions that has its order: its due instant, the order's delivery. */
async function periodOrders(pool: Pool, clientId: string, period: number) {
  const { rows } = await pool.query(
    `SELECT extract(epoch FROM p.starts_at) * 1000 AS due_ms,
            extract(epoch FROM d.at) * 1000 AS delivered_ms,
            o.status
       FROM subscriptions s
       JOIN subscription_periods p ON p.subscription_id = s.id AND p.number = $2
       JOIN orders o ON o.id = p.order_id
       LEFT JOIN LATERAL (SELECT min(h.at) AS at FROM order_status_history h
                           WHERE h.order_id = o.id AND h.status = 'delivered') d ON true
      WHERE s.client_id = $1`,
    [clientId, period],
  );
  return rows.map((r) => ({
    dueMs: Number(r.due_ms),
    deliveredMs: r.delivered_ms === null ? null : Number(r.delivered_ms),
    status: r.status as string,
  }));
}

const ENDED_ORDER = ['failed', 'refunded', 'rejected'];

/**
 * N monthly subscriptions in one burst; their second periods all fall due within the burst's
 * window, and the worker renews them as fast as it can: renewals/s from the first due instant
 * to the last delivery, and each delivery's lateness against its period's start.
 */
export async function renewalPeak(ctx: SubscriptionBenchContext, quick: boolean) {
  const timing = subscriptionTiming(quick);
  const n = timing.peak;
  // Three periods' keys: a third period renews if a cancel below comes too late.
  const shop = await subscriptionShop(ctx, n * 3);
  const monthMs = timing.secondsPerMonth * 1000;
  const leadMs = noticeLeadMs(timing.noticeSeconds);

  ctx.log(`  ${n} monthly subscriptions in one burst (${BURST_CONCURRENCY} at a time)…`);
  const t0 = Date.now();
  const burst = await inParallel(n, BURST_CONCURRENCY, (i) => shop.subscribe(`peak-${i}`, 'month'));
  const burstSeconds = (Date.now() - t0) / 1000;
  if (burst.errors > 0) throw new Error(`renewal peak: ${burst.errors} subscriptions refused (${burst.firstError})`);
  const ids = burst.results;

  // Period 1 is charged at creation: that load is over before the peak's notices go out.
  await until('renewal peak: first periods paid', 10 * monthMs, POLL_MS, async () =>
    (await paidOf(ctx.pool, shop.clientId, 1)) === n ? true : undefined,
  );
  const firstPeriodsDoneMs = Date.now();
  const { rows } = await ctx.pool.query(
    `SELECT extract(epoch FROM min(anchor_at)) * 1000 AS first, extract(epoch FROM max(anchor_at)) * 1000 AS last
       FROM subscriptions WHERE client_id = $1`,
    [shop.clientId],
  );
  const firstDueMs = Number(rows[0].first) + monthMs;
  const lastDueMs = Number(rows[0].last) + monthMs;
  const firstPeriodsOverlapNotices = firstPeriodsDoneMs > firstDueMs - leadMs;
  ctx.log(
    `  first periods paid ${round((firstPeriodsDoneMs - t0) / 1000)} s after the burst began; ` +
      `second periods due within ${round((lastDueMs - firstDueMs) / 1000)} s, from ${round((firstDueMs - Date.now()) / 1000)} s on`,
  );

  // Every notice out (a notice that came after the stop would move its renewal later), then
  // the worker down from just before the first renewal falls due until just after the last.
  await until('renewal peak: second periods noticed', 2 * monthMs, POLL_MS, async () =>
    (await noticedOf(ctx.pool, shop.clientId, 2)) === n ? true : undefined,
  );
  const noticesDoneBeforeDueSeconds = round((firstDueMs - Date.now()) / 1000);
  await sleep(Math.max(NOTICE_SETTLE_MS, firstDueMs - 1_000 - Date.now()));
  const stoppedMs = Date.now();
  await ctx.worker.stop();
  const early = await periodOrders(ctx.pool, shop.clientId, 2);
  await sleep(Math.max(0, lastDueMs + 500 - Date.now()));
  await ctx.worker.start();
  const releasedMs = Date.now();
  const cpuBefore = ctx.cpu();
  ctx.log(`  worker down ${round((releasedMs - stoppedMs) / 1000)} s over the due window; ${n} renewals waiting…`);
  const delivered = await until(
    'renewal peak: second periods delivered',
    Math.max(180_000, n * 500),
    POLL_MS,
    async () => {
      const orders = await periodOrders(ctx.pool, shop.clientId, 2);
      const settled = orders.filter((o) => o.deliveredMs !== null || ENDED_ORDER.includes(o.status));
      return settled.length === n ? orders : undefined;
    },
  );
  const cpuAfter = ctx.cpu();

  const done = delivered.filter((o) => o.deliveredMs !== null);
  const lastDeliveredMs = Math.max(...done.map((o) => o.deliveredMs!));
  const late = latencies();
  for (const o of done) late.record(o.deliveredMs! - Math.max(o.dueMs, releasedMs));
  const seconds = (lastDeliveredMs - releasedMs) / 1000;
  const cpuMsPerRenewal = Object.fromEntries(
    Object.keys(cpuAfter).map((k) => [k, round((cpuAfter[k]! - cpuBefore[k]!) / Math.max(1, done.length))]),
  );

  // The peak's subscriptions are cancelled: their third periods would renew in the sections after.
  await inParallel(n, CREATE_CONCURRENCY, (i) => shop.api.post(`/v1/subscriptions/${ids[i]}/cancel`, {}));

  return {
    subscriptions: n,
    secondsPerMonth: timing.secondsPerMonth,
    noticeSeconds: timing.noticeSeconds,
    burstSeconds: round(burstSeconds),
    burstPerSecond: round(n / burstSeconds),
    firstPeriodsPaidAfterSeconds: round((firstPeriodsDoneMs - t0) / 1000),
    firstPeriodsOverlapNotices,
    dueWindowSeconds: round((lastDueMs - firstDueMs) / 1000),
    noticesDoneBeforeDueSeconds,
    // Renewals placed before the worker stopped (should be 0: they would not be part of the peak).
    placedBeforeStop: early.length,
    workerDownSeconds: round((releasedMs - stoppedMs) / 1000),
    renewed: done.length,
    notRenewed: n - done.length,
    seconds: round(seconds),
    rate: done.length / seconds,
    /** Each renewal's delivery after the restarted worker began (all were due by then). */
    lateness: late.summary(),
    cpuMsPerRenewal,
  };
}

/**
 * Thousands of yearly subscriptions, created by callers that keep at most BACKLOG first periods
 * under way (the count of paid ones read from the database twice a second), then left asleep
 * on the renewal timer; after a settle, the worker's resident memory against a bare SDK
 * worker's, read at the same moment.
 */
export async function sleepingMemory(ctx: SubscriptionBenchContext, quick: boolean) {
  const timing = subscriptionTiming(quick);
  const n = timing.sleeping;
  const shop = await subscriptionShop(ctx, Math.ceil(n * 1.05));
  // A fresh worker process: what the earlier sections made the worker hold stays resident
  // (bench/RESULTS.md), and is not what this section asks about.
  await ctx.worker.stop();
  await ctx.worker.start();
  await sleep(5_000);
  const workerPid = ctx.worker.pid();
  const before = { rssMb: round(rssMb(workerPid)) };
  ctx.log(`  ${n} yearly subscriptions, ${CREATE_CONCURRENCY} callers, at most ${BACKLOG} first periods under way…`);
  const t0 = Date.now();
  const step = quick ? 250 : 1_000;
  let paid = 0;
  let started = 0;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const now = await paidOf(ctx.pool, shop.clientId, 1);
      if (Math.floor(now / step) > Math.floor(paid / step)) {
        ctx.log(`    ${now} / ${n} first periods paid (${round(now / ((Date.now() - t0) / 1000))}/s)`);
      }
      paid = now;
      await sleep(500);
    }
  })();
  let created: Parallel<string> | undefined;
  try {
    created = await inParallel(n, CREATE_CONCURRENCY, async (i) => {
      while (started - paid >= BACKLOG) await sleep(50);
      started += 1;
      return shop.subscribe(`sleep-${i}`, 'year');
    });
    // Asleep: each workflow recorded its first period and waits for the next one's notice.
    await until('sleeping subscriptions: first periods paid', 300_000, 1_000, async () =>
      paid >= created!.results.length ? true : undefined,
    );
  } finally {
    polling = false;
    await poller;
  }
  const createSeconds = (Date.now() - t0) / 1000;
  if (!created) throw new Error('sleeping subscriptions: not created');
  const asleep = created.results.length;
  ctx.log(`  ${asleep} asleep after ${round(createSeconds)} s; settling beside a bare SDK worker…`);
  const bare = ctx.startBareWorker();
  try {
    await sleep(timing.settleMs);
    const worker = round(rssMb(workerPid));
    const bareMb = round(rssMb(bare.pid!));
    const { rows } = await ctx.pool.query(
      `SELECT extract(epoch FROM min(next_charge_at) - now()) AS s FROM subscriptions WHERE client_id = $1`,
      [shop.clientId],
    );
    const nextNoticeInSeconds = round(Number(rows[0].s) - noticeLeadMs(timing.noticeSeconds) / 1000);
    return {
      subscriptions: n,
      asleep,
      errors: created.errors,
      ...(created.firstError ? { firstError: created.firstError } : {}),
      createSeconds: round(createSeconds),
      createdPerSecond: round(asleep / createSeconds),
      settleSeconds: timing.settleMs / 1000,
      // Positive: no sleeper had woken (its next notice) when the memory was read.
      nextNoticeInSeconds,
      workerRssMb: worker,
      workerRssBeforeMb: before.rssMb,
      workerPeakRssMb: round(peakRssMb(workerPid)),
      bareSdkWorkerRssMb: bareMb,
      workerToBare: round(worker / bareMb),
      growthMbPer1000: round(((worker - before.rssMb) * 1000) / Math.max(1, asleep)),
      // The SDK's own default when the worker sets none (it grows with the heap limit).
      maxCachedWorkflows: workerTuning.maxCachedWorkflows ?? sdkDefaultCache(),
    };
  } finally {
    await ctx.stopChild(bare);
  }
}

/** The TS SDK's maxCachedWorkflows default (reused V8 context) for this process's heap limit, the worker's too. */
function sdkDefaultCache(): number {
  const heapMiB = v8.getHeapStatistics().heap_size_limit / 1024 / 1024;
  return Math.max(Math.floor((Math.max(heapMiB - 200, 0) * 600) / 1024), 10);
}
