import { Router } from 'express';
import type { ApiDeps } from '../deps';

export function healthRouter({ db, temporal }: ApiDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  /** Ready when both the database and Temporal answer; load balancers route on this. */
  router.get('/readyz', async (_req, res) => {
    const [database, temporalCheck] = await Promise.allSettled([
      db.$queryRaw`SELECT 1`,
      temporal.connection.workflowService.getSystemInfo({}),
    ]);
    const checks = {
      database: database.status === 'fulfilled' ? 'ok' : 'unreachable',
      temporal: temporalCheck.status === 'fulfilled' ? 'ok' : 'unreachable',
    };
    const ready = checks.database === 'ok' && checks.temporal === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });
  return router;
}
