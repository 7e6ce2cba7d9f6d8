import type { ActivityDeps } from './deps';
import { probeActivities } from './probe';

export type { ActivityDeps } from './deps';

export function createActivities(deps: ActivityDeps) {
  return {
    ...probeActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
