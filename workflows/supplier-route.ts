// One unit through one supplier route, as the order workflow and a compensation's reissue both
// do it: buy; wait for an asynchronous supplier's answer; resolve anything unclear by looking
// the reference up at that supplier before the unit may be bought anywhere else.
import { isCancellation, proxyActivities } from '@temporalio/workflow';
import type { RouteOutcome, SourcingActivities, UnitRoute } from '../activities/suppliers/sourcing';
import type { PlannedRoute } from '../domain/suppliers';
import { messageOf } from './failures';

// Supplier calls are regular activities (network calls of up to the supplier's timeout). A
// failure that proves nothing is retried briefly at the same route; then the unit is
// resolved there (looked up) before the next route. The attempt's timeout is sized from the
// supplier's (lookup, quote and order in one attempt).
const BUY_RETRY = { initialInterval: '300ms', backoffCoefficient: 2, maximumAttempts: 3 } as const;
// Resolving keeps asking for about two minutes: buying elsewhere while the first supplier
// may have sold the unit is what the lookup exists to avoid.
const RESOLVE_RETRY = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 8,
} as const;
// The purchase and the lookup beat every second while they run (activities/suppliers/
// sourcing.ts), so an attempt on a worker that died (SIGKILL, a lost machine) is retried once
// no beat came for this long. The start-to-close timeout alone made it wait three supplier
// timeouts and 5 s (14 s at a 3 s supplier, 20 s at the default 5 s): in the crash test
// (tests/suppliers/crash.test.ts) the restarted worker polled 5.6 s after the kill and the
// purchases cut off waited for it until 14.8 s. The SDK sends beats at most every 0.8 × this
// timeout; a beat that comes too late only retries the purchase early, and a retry looks the
// unit up at the supplier (idempotent on the unit's reference) before buying.
const PURCHASE_HEARTBEAT_TIMEOUT = '5s';
function supplierCalls(route: PlannedRoute, retry: typeof BUY_RETRY | typeof RESOLVE_RETRY, beating = false) {
  return proxyActivities<SourcingActivities>({
    startToCloseTimeout: route.timeoutMs * 3 + 5_000,
    ...(beating ? { heartbeatTimeout: PURCHASE_HEARTBEAT_TIMEOUT } : {}),
    retry,
  });
}

/** Looks the unit up at a route that may have sold it; gives up (recorded) when the supplier never answers. */
async function resolveAt(input: UnitRoute, route: PlannedRoute): Promise<RouteOutcome> {
  try {
    return await supplierCalls(route, RESOLVE_RETRY, true).resolveUnit(input);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const detail = `no answer to the lookup: ${messageOf(err)}`;
    await supplierCalls(route, RESOLVE_RETRY).recordUnresolved({ ...input, detail });
    return { kind: 'next', reason: detail };
  }
}

/**
 * Buys the unit at the route; an asynchronous supplier's answer comes from `callback` (true:
 * obtained, false: not, undefined: none before the deadline, so the reference is looked up).
 * Returns whether the unit was obtained, and whether the purchase delivered the order too
 * (asked by `input.deliver`; only a synchronous sale does).
 */
export async function tryRoute(
  input: UnitRoute,
  route: PlannedRoute,
  callback: (deadlineMs: number) => Promise<boolean | undefined>,
): Promise<{ obtained: boolean; delivered: boolean }> {
  let outcome: RouteOutcome;
  try {
    outcome = await supplierCalls(route, BUY_RETRY, true).buyUnit(input);
  } catch (err) {
    if (isCancellation(err)) throw err;
    outcome = await resolveAt(input, route);
  }
  if (outcome.kind === 'pending') {
    const answered = await callback(outcome.deadlineMs);
    if (answered !== undefined) return { obtained: answered, delivered: false };
    outcome = await resolveAt(input, route);
  }
  return { obtained: outcome.kind === 'obtained', delivered: outcome.kind === 'obtained' && !!outcome.delivered };
}
