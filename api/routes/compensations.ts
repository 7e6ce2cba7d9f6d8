// GET /v1/compensations?status=&cursor=&limit= (support, admin): every compensation, oldest
// first, `nextCursor` pages. Each unit's own history is in GET /v1/orders/:id.
import { Router } from 'express';
import { z } from 'zod';
import { compensationPage, compensationView } from '../../store/compensation-queries';
import { decodeReviewCursor, encodeReviewCursor } from '../../store/risk/review-queue';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { parseOr422, problems } from '../problem';

const ListQuery = z.strictObject({
  status: z.enum(['open', 'awaiting_confirmation', 'completed']).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export function compensationsRouter({ db }: ApiDeps): Router {
  const router = Router();
  router.use(requireRole('support', 'admin'));

  router.get('/', async (req, res) => {
    const query = parseOr422(ListQuery, req.query);
    // Same cursor shape as the review queue: (created at, id) of the last row seen.
    const cursor = query.cursor === undefined ? undefined : decodeReviewCursor(query.cursor);
    if (cursor === null) {
      throw problems.validation([{ path: 'cursor', message: 'must be a cursor from a previous page' }]);
    }
    const page = await compensationPage(db, {
      ...(query.status ? { status: query.status } : {}),
      ...(cursor ? { cursor } : {}),
      limit: query.limit,
    });
    res.json({
      compensations: page.compensations.map((c) => ({
        ...compensationView(c, true),
        orderId: c.orderId,
        clientId: c.order.clientId,
        externalOrderId: c.order.externalOrderId,
        unitId: c.unitId,
        incident: c.incident,
      })),
      ...(page.next ? { nextCursor: encodeReviewCursor(page.next) } : {}),
    });
  });

  return router;
}
