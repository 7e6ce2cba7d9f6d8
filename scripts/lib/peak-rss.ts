// A process's peak resident memory, from /proc (VmHWM). Not `resourceUsage().maxRSS`: Linux
// carries that figure across exec, so a child started by a big parent (a long test run)
// reports the parent's peak.
import { readFileSync } from 'node:fs';

export function peakRssMb(pid: number | 'self' = 'self'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}
