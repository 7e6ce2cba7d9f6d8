// Reports for operators. GET /v1/reports/reconciliation?from=&to= (admin): every mismatch
// between the ledger and what was delivered, each naming its order, transaction or account.
import { Router } from 'express';
import { z } from 'zod';
import { reconcile } from '../../store/reconciliation';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { parseOr422 } from '../problem';

const Range = z
  .strictObject({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) })
  .refine((r) => new Date(r.from) < new Date(r.to), { message: 'from must be before to', path: ['to'] });

export function reportsRouter({ db }: ApiDeps): Router {
  const router = Router();
  router.get('/reconciliation', requireRole('admin'), async (req, res) => {
    const range = parseOr422(Range, req.query);
    const from = new Date(range.from);
    const to = new Date(range.to);
    const result = await reconcile(db, { from, to });
    res.json({ from: from.toISOString(), to: to.toISOString(), ...result });
  });
  return router;
}
