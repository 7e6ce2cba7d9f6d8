import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../domain/failures';
import { refusedDataOf } from '../infra/db';
import { compensationActivities } from './compensation';
import type { ActivityDeps } from './deps';
import { orderActivities } from './orders';
import { paymentActivities } from './payments';
import { probeActivities } from './probe';
import { riskActivities } from './risk';
import { subscriptionActivities } from './subscriptions';
import { catalogActivities } from './suppliers/catalog';
import { disputeActivities } from './suppliers/disputes';
import { sourcingActivities } from './suppliers/sourcing';
import { reconciliationActivities } from './suppliers/reconciliation';
import { webhookActivities } from './webhooks';

export type { ActivityDeps } from './deps';

type Merged<T extends object[]> = T extends [infer Head, ...infer Rest extends object[]]
  ? Head & Merged<Rest>
  : unknown;

/**
 * Every activity, of every area: a step whose data the database refuses (a NUL in a reason,
 * a number out of range) fails for good instead of being retried without end — the next
 * attempt would send the same data (issue 29: a refund retried forever on PostgreSQL 22021).
 * Other errors pass unchanged, to be retried or handled as the step's own code says.
 */
function failingOnRefusedData(name: string, fn: (...args: unknown[]) => Promise<unknown>) {
  return async (...args: unknown[]) => {
    try {
      return await fn(...args);
    } catch (err) {
      const refused = refusedDataOf(err);
      if (refused === undefined) throw err;
      throw ApplicationFailure.create({
        message: `${name}: ${refused}`,
        type: FailureType.DatabaseRefusedData,
        nonRetryable: true,
      });
    }
  };
}

/** Object spread would let one area's activity silently replace another's of the same name. */
function composeActivities<T extends object[]>(...groups: T): Merged<T> {
  const all: Record<string, unknown> = {};
  for (const group of groups) {
    for (const [name, fn] of Object.entries(group)) {
      if (name in all) throw new Error(`two activities are named ${name}`);
      all[name] = failingOnRefusedData(name, fn as (...args: unknown[]) => Promise<unknown>);
    }
  }
  return all as Merged<T>;
}

export function createActivities(deps: ActivityDeps) {
  return composeActivities(
    probeActivities(deps),
    orderActivities(deps),
    paymentActivities(deps),
    riskActivities(deps),
    compensationActivities(deps),
    reconciliationActivities(deps),
    sourcingActivities(deps),
    catalogActivities(deps),
    disputeActivities(deps),
    webhookActivities(deps),
    subscriptionActivities(deps),
  );
}

export type Activities = ReturnType<typeof createActivities>;
