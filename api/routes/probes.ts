import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { workflowIds } from '../../domain/workflow-ids';
import type { probeWorkflow } from '../../workflows';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';

/** POST /v1/probes runs one workflow end to end (API → Temporal → worker → database). */
export function probesRouter({ temporal, config }: ApiDeps): Router {
  const router = Router();
  router.post('/', requireRole('admin'), async (_req, res) => {
    const started = Date.now();
    const workflowId = workflowIds.probe(randomUUID());
    const result = await temporal.workflow.execute<typeof probeWorkflow>('probeWorkflow', {
      workflowId,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowExecutionTimeout: '30s',
    });
    res.status(201).json({ workflowId, ...result, ms: Date.now() - started });
  });
  return router;
}
