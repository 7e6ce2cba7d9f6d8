// POST /v1/orders/:id/units/:unitId/compensations (support, admin): a delivered key turned out
// bad. One compensation per unit and incident (the key that failed): the same request again,
// or ten at once, is the same compensation and the same workflow. The answer waits a few
// seconds for the outcome, else says it is under way.
import { Router } from 'express';
import { z } from 'zod';
import { roleFromDb } from '../../domain/roles';
import { FreeText } from '../../domain/text';
import { compensationView } from '../views/compensations';
import { requestAndStartCompensation } from '../compensation-starts';
import type { ApiDeps } from '../deps';
import { actorOf, callerOf, requireRole } from '../middleware/auth';
import { parseOr422, Problem, problems } from '../problem';

export const CompensationBody = z.strictObject({
  action: z.enum(['reissue', 'refund']),
  reason: FreeText(500).pipe(z.string().min(1)),
  note: FreeText(2000).optional(),
  /** Admins only: compensate a key the rights owner reports redeemed. */
  override: z.boolean().optional(),
});

const ANSWER_WITHIN_MS = 10_000;

export function unitCompensationsRouter({ db, temporal, config }: ApiDeps): Router {
  const router = Router({ mergeParams: true });

  router.post('/', requireRole('support', 'admin'), async (req, res) => {
    const params = req.params as { id?: string; unitId?: string };
    const ids = z.object({ id: z.uuid(), unitId: z.uuid() }).safeParse(params);
    if (!ids.success) throw problems.notFound('unit');
    const body = parseOr422(CompensationBody, req.body);
    if (body.override && roleFromDb(callerOf(req).role) !== 'admin') {
      throw new Problem(403, 'override_forbidden', 'only an admin may compensate a redeemed key');
    }
    const { compensation, created } = await requestAndStartCompensation(
      { db, temporal, config },
      { orderId: ids.data.id, unitId: ids.data.unitId, trigger: 'support', ...body },
      actorOf(req),
      'unit',
    );
    if (compensation.status !== 'awaiting_confirmation') {
      await temporal
        .withDeadline(Date.now() + ANSWER_WITHIN_MS, () =>
          temporal.workflow.getHandle(compensation.workflowId).result(),
        )
        .catch(() => undefined);
    }
    const now = await db.compensation.findUniqueOrThrow({ where: { id: compensation.id } });
    res.status(created ? 202 : 200).json({ orderId: now.orderId, unitId: now.unitId, ...compensationView(now, true) });
  });
  return router;
}
