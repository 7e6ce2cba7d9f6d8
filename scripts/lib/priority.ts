// Where the whole platform shares one machine (`npm start`, the benchmark), the worker runs
// at a lower CPU priority than the request path (API, Temporal server, PostgreSQL): a client
// waits on `POST /v1/orders`, while fulfilment absorbs a short queue. On saturated cores this
// keeps intake latency near its unloaded figure; the worker still gets every cycle the
// request path leaves (bench/RESULTS.md). Separate hosts need none of it.
import { setPriority } from 'node:os';

export const COLOCATED_WORKER_NICENESS = 10;

export function lowerPriority(pid: number | undefined, niceness = COLOCATED_WORKER_NICENESS): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, niceness);
  } catch {
    // Not permitted here (some containers): the worker keeps the default priority.
  }
}
