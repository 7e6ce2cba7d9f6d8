// GET /v1/me (any role): who the key belongs to. The console asks it once after sign-in to
// decide which views to show; integrators use it to check a key without side effects.
import { Router } from 'express';
import { roleFromDb } from '../../domain/roles';
import type { ApiDeps } from '../deps';
import { callerOf } from '../middleware/auth';

export function meRouter(_deps: ApiDeps): Router {
  const router = Router();
  router.get('/', (req, res) => {
    const client = callerOf(req);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ id: client.id, name: client.name, role: roleFromDb(client.role) });
  });
  return router;
}
