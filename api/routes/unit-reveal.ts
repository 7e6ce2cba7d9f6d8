// POST /v1/orders/:id/units/:unitId/reveal {reason} (support, admin): one delivered unit's
// code, for phone support, audited with who and why in the transaction that decrypts it.
// Never cached, never logged. A unit without a card key (a top-up) or whose key the buyer
// has not received yet is 409; the order system (which has its claim link) is 403.
import { Router } from 'express';
import { z } from 'zod';
import { FreeText } from '../../domain/text';
import { revealUnitKey } from '../../store/unit-reveal';
import type { ApiDeps } from '../deps';
import { actorOf, requireRole } from '../middleware/auth';
import { parseOr422, Problem, problems } from '../problem';

export const RevealBody = z.strictObject({ reason: FreeText(500) });

export function unitRevealRouter({ db, keyring }: ApiDeps): Router {
  const router = Router({ mergeParams: true });

  router.post('/', requireRole('support', 'admin'), async (req, res) => {
    const params = z.object({ id: z.uuid(), unitId: z.uuid() }).safeParse(req.params);
    const body = parseOr422(RevealBody, req.body ?? {});
    if (!params.success) throw problems.notFound('unit');
    const { id: orderId, unitId } = params.data;
    const outcome = await revealUnitKey(db, keyring, { orderId, unitId, reason: body.reason, actor: actorOf(req) });
    if (outcome.kind === 'not_found') throw problems.notFound('unit');
    if (outcome.kind === 'no_card_key') throw new Problem(409, 'no_card_key', 'this unit has no card key to reveal');
    if (outcome.kind === 'not_delivered') {
      throw new Problem(409, 'unit_not_delivered', "this unit's key has not been delivered to the buyer");
    }
    req.log.info({ orderId, unitId }, 'unit key revealed to staff');
    res.setHeader('Cache-Control', 'no-store');
    res.json({ orderId, unitId, sku: outcome.sku, keyStatus: outcome.keyStatus, code: outcome.code });
  });

  return router;
}
