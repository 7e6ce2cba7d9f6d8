import type { ActivityDeps } from './deps';
import { orderActivities } from './orders';
import { probeActivities } from './probe';
import { webhookActivities } from './webhooks';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps) {
  return {
    ...probeActivities(deps),
    ...orderActivities(deps),
    ...webhookActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
