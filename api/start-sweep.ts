// The sweep for workflow starts that an outage lost, shared by orders (api/order-starts.ts)
// and subscriptions (api/subscription-starts.ts). Each caller says what shows a start was
// lost (`find`) and how to start one (`start`); the sweep takes a batch, starts its workflows
// one at a time and, run periodically, never overlaps itself. Starts are idempotent on the
// workflow id, so sweeping something whose workflow runs costs one refused call, and the
// sweeps of several API processes overlap harmlessly.
import type { Logger } from '../infra/logger';

/** Per sweep: at the default interval, up to 50 starts a second healed after an outage. */
export const SWEEP_BATCH = 500;

/** What one sweep looks at: everything, or one client's (the tests share a database). */
export interface SweepScope {
  clientId?: string;
}

export interface StartSweep {
  /** Starts the workflow of everything `find` reports lost (a batch); returns how many. */
  sweep(only?: SweepScope): Promise<number>;
  /** Sweeps every `everyMs` until stopped (a sweep still running skips its turn); returns the stop. */
  sweepPeriodically(): () => void;
}

export function createStartSweep<Row>(options: {
  /** What is started, for the logs: `order`, `subscription`. */
  what: string;
  find: (limit: number, only: SweepScope) => Promise<Row[]>;
  start: (row: Row) => Promise<void>;
  everyMs: number;
  logger: Logger;
}): StartSweep {
  const { what, find, start, everyMs, logger } = options;

  async function sweep(only: SweepScope = {}): Promise<number> {
    const lost = await find(SWEEP_BATCH, only);
    // One at a time: the sweep runs when Temporal was away or is overloaded, and should not add a burst.
    for (const row of lost) await start(row);
    if (lost.length > 0) logger.info({ count: lost.length }, `${what} starts swept`);
    return lost.length;
  }

  return {
    sweep,
    sweepPeriodically() {
      let sweeping = false;
      const timer = setInterval(() => {
        if (sweeping) return;
        sweeping = true;
        sweep()
          .catch((err: unknown) => logger.warn({ err }, `${what} start sweep failed; the next one retries`))
          .finally(() => (sweeping = false));
      }, everyMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
