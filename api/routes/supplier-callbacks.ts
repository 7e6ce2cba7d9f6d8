// POST /v1/supplier-callbacks/:supplier — an asynchronous supplier reports a sale's outcome
// (docs/supplier-protocol.md). No API key: the request signature, under the supplier's own
// secret, is the credential. The result is recorded first, then the waiting workflow is
// signalled with ids only; a duplicate callback is answered the same and changes nothing.
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Supplier } from '@prisma/client';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { parseSupplierOrder, saleStateOf } from '../../domain/supplier-sales';
import { ReferenceCredentials } from '../../domain/suppliers';
import { workflowIds } from '../../domain/workflow-ids';
import { verifyRequest } from '../../infra/request-signature';
import { startOnce } from '../../infra/temporal';
import { credentialsOf } from '../../store/suppliers/registry';
import { settleCallback } from '../../store/suppliers/sourcing';
import { markRedeemedBySupplier } from '../../store/redemptions';
import type { RefusedSale } from '../../activities/suppliers/disputes';
import { supplierResultSignal } from '../../workflows/order-messages';
import type { ApiDeps } from '../deps';
import { supplierInvalidationsRouter } from './supplier-invalidations';
import { Problem, problems } from '../problem';
import { SupplierNameSchema } from './suppliers';

export function supplierCallbacksRouter({ db, keyring, config, temporal }: ApiDeps): Router {
  const router = Router();
  const secrets = { keyring, fingerprintSecret: config.KEY_FINGERPRINT_SECRET };

  router.post('/:supplier', async (req, res) => {
    const supplier = await verifiedSupplier({ db, keyring }, req);
    const order = parseSupplierOrder(req.body);
    if (!order || !z.uuid().safeParse(order.reference).success) {
      throw new Problem(422, 'invalid_callback', 'the body is not an order with a reference this platform issued');
    }
    const settled = await settleCallback(db, secrets, supplier, order.reference, saleStateOf(order));
    if (!settled) throw problems.notFound('pending order for this reference');
    if (settled.refused) {
      // Not taken, yet sold: the supplier is told in a workflow of its own (the API calls no supplier).
      const sale: RefusedSale = {
        unitId: order.reference,
        supplierId: supplier.id,
        source: supplier.name,
        reason: settled.refused,
      };
      await startOnce(temporal, 'supplierDisputeWorkflow', {
        workflowId: workflowIds.supplierDispute(sale.unitId, sale.supplierId),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        args: [sale],
      });
    }
    if (order.status !== 'pending') {
      try {
        await temporal.workflow.getHandle(settled.workflowId).signal(supplierResultSignal, {
          unitId: order.reference,
          supplierId: supplier.id,
          obtained: settled.obtained,
        });
      } catch (err) {
        // The order finished meanwhile (it resolved the unit by lookup): nothing is waiting.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
    req.log.info({ supplier: supplier.name, unitId: order.reference, status: order.status }, 'supplier callback');
    res.status(204).end();
  });

  // POST /v1/supplier-callbacks/:supplier/redemptions — the key the supplier sold under
  // `reference` was redeemed (核销) at `redeemedAt`. 204 once recorded (a repeat too); 409 when
  // the platform holds no delivered key there (not delivered yet, or withdrawn).
  router.post('/:supplier/redemptions', async (req, res) => {
    const supplier = await verifiedSupplier({ db, keyring }, req);
    const notice = RedemptionNotice.safeParse(req.body);
    if (!notice.success) {
      throw new Problem(422, 'invalid_callback', 'the body is not a redemption of a reference this platform issued');
    }
    const { reference: unitId, redeemedAt } = notice.data;
    const marked = await markRedeemedBySupplier(db, { supplier, unitId, reportedAt: new Date(redeemedAt) });
    if (!marked) throw problems.notFound('key sold by this supplier under this reference');
    req.log.info({ supplier: supplier.name, unitId, outcome: marked.outcome }, 'supplier redemption');
    if (marked.outcome === 'not_delivered' || marked.outcome === 'void') {
      throw new Problem(
        409,
        'key_not_delivered',
        `the key sold under this reference is not delivered (${marked.outcome})`,
      );
    }
    res.status(204).end();
  });
  router.use(supplierInvalidationsRouter({ db, config, temporal }, (req) => verifiedSupplier({ db, keyring }, req)));
  return router;
}

const RedemptionNotice = z.object({ reference: z.uuid(), redeemedAt: z.iso.datetime({ offset: true }) });

/**
 * Checked against a name that is no supplier's, so an unknown name costs what a known one
 * does: the answer (and its time) must not tell which suppliers exist.
 */
const NO_SUPPLIER_SECRET = 'no-supplier-has-this-secret';

/**
 * The reference-protocol supplier named in the path, once the request's signature under its
 * secret checks out. Any other name — unknown, or a supplier that cannot sign (Reloadly) —
 * gets the same 401 as a bad signature.
 */
async function verifiedSupplier({ db, keyring }: Pick<ApiDeps, 'db' | 'keyring'>, req: Request): Promise<Supplier> {
  const name = SupplierNameSchema.safeParse(req.params.supplier);
  const found = name.success ? await db.supplier.findUnique({ where: { name: name.data } }) : null;
  const supplier = found?.protocol === 'reference' ? found : null;
  const secret = supplier ? ReferenceCredentials.parse(credentialsOf(keyring, supplier)).secret : NO_SUPPLIER_SECRET;
  const signed = verifyRequest(
    secret,
    { method: req.method, path: req.originalUrl, body: req.rawBody ?? '' },
    String(req.headers['x-rights-signature'] ?? ''),
    Math.floor(Date.now() / 1000),
  );
  if (!signed || !supplier) {
    throw new Problem(401, 'bad_signature', 'the request signature is missing, wrong or too old');
  }
  return supplier;
}
