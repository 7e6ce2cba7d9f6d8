// Load generators. Closed loop: N callers, each starting its next call when the last ends.
// Open loop: calls start on a fixed schedule whatever the system does, and latency counts
// from the scheduled start, so a stall shows as latency instead of as fewer requests.
import { latencies } from './measure';

export interface LoadResult {
  completed: number;
  errors: number;
  seconds: number;
  rate: number;
  latency: ReturnType<ReturnType<typeof latencies>['summary']>;
}

export async function closedLoop(
  concurrency: number,
  durationMs: number,
  call: () => Promise<void>,
): Promise<LoadResult> {
  const latency = latencies();
  let errors = 0;
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await call();
          latency.record(performance.now() - t0);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { completed: latency.count(), errors, seconds, rate: latency.count() / seconds, latency: latency.summary() };
}

export async function openLoop(
  ratePerSecond: number,
  durationMs: number,
  call: () => Promise<void>,
): Promise<LoadResult> {
  const latency = latencies();
  let errors = 0;
  const interval = 1000 / ratePerSecond;
  const total = Math.round((durationMs / 1000) * ratePerSecond);
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = started + i * interval;
    const wait = scheduled - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      call().then(
        () => latency.record(performance.now() - scheduled),
        () => {
          errors += 1;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  return { completed: latency.count(), errors, seconds, rate: latency.count() / seconds, latency: latency.summary() };
}
