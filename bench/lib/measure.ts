// What the benchmark reads: latency percentiles (HdrHistogram), CPU time and peak memory
// of processes (from /proc, steadier across a noisy machine than any rate).
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import * as hdr from 'hdr-histogram-js';

export function latencies() {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  return {
    /** Milliseconds, recorded in microseconds. */
    record: (ms: number) => histogram.recordValue(Math.max(1, Math.round(ms * 1000))),
    count: () => histogram.totalCount,
    ms: (percentile: number) => histogram.getValueAtPercentile(percentile) / 1000,
    summary: () => ({
      count: histogram.totalCount,
      p50: histogram.getValueAtPercentile(50) / 1000,
      p95: histogram.getValueAtPercentile(95) / 1000,
      p99: histogram.getValueAtPercentile(99) / 1000,
      max: histogram.maxValue / 1000,
    }),
  };
}

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** User + system CPU milliseconds a process has used so far (0 once it is gone). */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** Every PostgreSQL server process (backends, writers): their CPU is what the load costs the database. */
export function postgresPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        return false;
      }
    });
}

/**
 * CPU of all PostgreSQL processes, including backends that exited (their time is added to
 * the postmaster's children counters).
 */
export function postgresCpuMs(): number {
  let total = 0;
  for (const pid of postgresPids()) {
    total += cpuMs(pid);
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const parent = Number(fields[1]);
      if (readFileSync(`/proc/${parent}/comm`, 'utf8').trim() !== 'postgres') {
        total += (Number(fields[13]) + Number(fields[14])) * TICK_MS; // the postmaster's reaped children
      }
    } catch {
      // gone between the listing and the read
    }
  }
  return total;
}

/** Peak resident set (VmHWM) in MB. */
export { peakRssMb } from '../../scripts/lib/peak-rss';

/**
 * Resident set now (VmRSS) in MB: what a process holds at a moment, where the peak would still
 * show whatever an earlier section made it hold.
 */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

export function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  return {
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? 'unknown',
    cores: (cpuinfo.match(/^processor\s*:/gm) ?? []).length,
    memoryGb: Math.round(Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0) / 1024 / 1024),
    node: process.version,
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
  };
}
