import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';

export function probeActivities({ db, workerIdentity }: ActivityDeps) {
  return {
    /** Idempotent on the workflow id: a retried attempt returns the row the first one wrote. */
    async recordProbe(): Promise<{ probeId: string; workerIdentity: string }> {
      const workflowId = Context.current().info.workflowExecution?.workflowId;
      if (!workflowId) throw new Error('recordProbe runs only inside a workflow');
      const row = await db.probeRun.upsert({
        where: { workflowId },
        create: { workflowId, workerIdentity },
        update: {},
      });
      return { probeId: row.id, workerIdentity: row.workerIdentity };
    },
  };
}
