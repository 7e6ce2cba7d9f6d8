// Heartbeats that say only "this worker is alive". An activity scheduled with a heartbeat
// timeout whose worker dies (SIGKILL, a lost machine) is retried once that timeout passes
// without a beat, instead of after its whole start-to-close timeout; the beats carry no
// progress unless `details` is given. The first beat comes `everyMs` after the start, so a
// call quicker than that costs no round trip to the server (the SDK throttles later beats to
// 0.8 × the heartbeat timeout).
import { Context } from '@temporalio/activity';

export async function keepAlive<T>(work: () => Promise<T>, everyMs: number, details?: unknown): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(details), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
