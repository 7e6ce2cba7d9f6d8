// GET /v1/compensations?status=&cursor=&limit= (support, admin): every compensation, oldest
// first, `nextCursor` pages. Each unit's own history is in GET /v1/orders/:id.
import { Router } from 'express';
import { z } from 'zod';
import { compensationPage } from '../../store/compensation-queries';
import { compensationView } from '../views/compensations';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { nextCursorOf, pageParams, timeCursor } from '../pagination';
import { parseOr422 } from '../problem';

export const ListCompensationsQuery = z.strictObject({
  status: z.enum(['open', 'awaiting_confirmation', 'completed']).optional(),
  ...pageParams({ max: 100, default: 50 }),
});

export function compensationsRouter({ db }: ApiDeps): Router {
  const router = Router();
  router.use(requireRole('support', 'admin'));

  router.get('/', async (req, res) => {
    const query = parseOr422(ListCompensationsQuery, req.query);
    const page = await compensationPage(db, {
      ...(query.status ? { status: query.status } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
      limit: query.limit,
    });
    res.json({
      compensations: page.rows.map((c) => ({
        ...compensationView(c, true),
        orderId: c.orderId,
        clientId: c.order.clientId,
        externalOrderId: c.order.externalOrderId,
        unitId: c.unitId,
        incident: c.incident,
      })),
      ...nextCursorOf(timeCursor, page.next),
    });
  });

  return router;
}
