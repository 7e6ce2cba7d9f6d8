import { compensationActivities } from './compensation';
import type { ActivityDeps } from './deps';
import { orderActivities } from './orders';
import { paymentActivities } from './payments';
import { probeActivities } from './probe';
import { riskActivities } from './risk';
import { catalogActivities } from './suppliers/catalog';
import { sourcingActivities } from './suppliers/sourcing';
import { webhookActivities } from './webhooks';

export type { ActivityDeps } from './deps';

type Merged<T extends object[]> = T extends [infer Head, ...infer Rest extends object[]]
  ? Head & Merged<Rest>
  : unknown;

/** Object spread would let one area's activity silently replace another's of the same name. */
function composeActivities<T extends object[]>(...groups: T): Merged<T> {
  const all: Record<string, unknown> = {};
  for (const group of groups) {
    for (const [name, fn] of Object.entries(group)) {
      if (name in all) throw new Error(`two activities are named ${name}`);
      all[name] = fn;
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
    sourcingActivities(deps),
    catalogActivities(deps),
    webhookActivities(deps),
  );
}

export type Activities = ReturnType<typeof createActivities>;
