// POST /v1/supplier-callbacks/:supplier/invalidations — the supplier says a key it sold does
// not work (revoked at the rights owner, a bad batch): `{reference, reason}`, signed like its
// other callbacks (docs/supplier-protocol.md). Starts a compensation with trigger `supplier`
// as support's request would, without the buyer report's wait for confirmation (the supplier
// is the confirmation): the key is voided and another delivered, else the unit refunded. One
// compensation per unit and key: a repeated notice finds the one already made.
import type { Supplier } from '@prisma/client';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { FreeText } from '../../domain/text';
import { requestAndStartCompensation } from '../compensation-starts';
import type { ApiDeps } from '../deps';
import { Problem, problems } from '../problem';

const InvalidationNotice = z.object({ reference: z.uuid(), reason: FreeText(500) });

/** `verify` is the callbacks' own check: the supplier named in the path, its signature good. */
export function supplierInvalidationsRouter(
  deps: Pick<ApiDeps, 'db' | 'config' | 'temporal'>,
  verify: (req: Request) => Promise<Supplier>,
): Router {
  const { db } = deps;
  const router = Router();
  router.post('/:supplier/invalidations', async (req, res) => {
    const supplier = await verify(req);
    const notice = InvalidationNotice.safeParse(req.body);
    if (!notice.success) {
      throw new Problem(422, 'invalid_callback', 'the body is not an invalidation of a reference this platform issued');
    }
    const { reference, reason } = notice.data;
    // Only a unit this supplier sold: a supplier cannot undo another's sale (or own stock).
    const unit = await db.orderUnit.findFirst({
      where: { id: reference, supplierId: supplier.id },
      select: { id: true, orderId: true },
    });
    if (!unit) throw problems.notFound('unit sold by this supplier under this reference');
    const { compensation, created } = await requestAndStartCompensation(
      deps,
      { orderId: unit.orderId, unitId: unit.id, action: 'reissue', reason, trigger: 'supplier' },
      { clientId: null, name: `supplier:${supplier.name}` },
      'unit sold by this supplier under this reference',
    );
    req.log.info(
      { supplier: supplier.name, unitId: unit.id, compensationId: compensation.id },
      'supplier invalidation',
    );
    res
      .status(created ? 202 : 200)
      .json({ reference, compensation: { id: compensation.id, status: compensation.status } });
  });
  return router;
}
