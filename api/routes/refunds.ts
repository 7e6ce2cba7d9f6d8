// POST /v1/orders/:id/refunds (support, admin): refunds delivered units of an order, through
// the payment that charged it. The refund runs as a workflow named after the order and the
// units, so the same request repeated (or sent ten times at once) is one refund; its answer
// waits a few seconds for the outcome and otherwise says it is under way.
import { createHash } from 'node:crypto';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { FailureType } from '../../domain/failures';
import { Router } from 'express';
import { z } from 'zod';
import { money } from '../../domain/money';
import { FreeText } from '../../domain/text';
import { workflowIds } from '../../domain/workflow-ids';
import type { RefundOutcome, refundWorkflow } from '../../workflows/refund';
import { startOnce } from '../../infra/temporal';
import type { ApiDeps } from '../deps';
import { actorOf, callerOf, requireRole } from '../middleware/auth';
import { roleFromDb } from '../../domain/roles';
import { parseOr422, Problem, problems } from '../problem';

export const RefundBody = z.strictObject({
  /** The units to refund; omitted, every delivered unit of the order. */
  unitIds: z.array(z.uuid()).min(1).max(2000).optional(),
  reason: FreeText(500),
  /** Admins only: refund units whose keys the rights owner reports redeemed. */
  override: z.boolean().optional(),
});

const REFUNDABLE = new Set(['delivered', 'partially_delivered', 'refunded']);
const ANSWER_WITHIN_MS = 15_000;

export function refundsRouter({ db, temporal, config }: ApiDeps): Router {
  const router = Router({ mergeParams: true });

  router.post('/', requireRole('support', 'admin'), async (req, res) => {
    const orderId = z.uuid().safeParse((req.params as { id?: string }).id);
    const body = parseOr422(RefundBody, req.body);
    const order = orderId.success
      ? await db.order.findUnique({
          where: { id: orderId.data },
          select: {
            id: true,
            status: true,
            currency: true,
            units: { select: { id: true, status: true, cardKeyId: true } },
          },
        })
      : null;
    if (!order) throw problems.notFound('order');
    if (!REFUNDABLE.has(order.status)) {
      throw new Problem(409, 'order_not_refundable', `an order that is ${order.status} has no delivered units`);
    }
    const unitIds = body.unitIds ? [...new Set(body.unitIds)].sort() : undefined;
    const own = new Set(order.units.map((u) => u.id));
    const foreign = unitIds?.filter((id) => !own.has(id)) ?? [];
    if (foreign.length > 0) {
      throw new Problem(422, 'unknown_unit', 'some units are not this order’s', [
        { path: 'unitIds', message: `not units of this order: ${foreign.join(', ')}` },
      ]);
    }
    if (body.override && roleFromDb(callerOf(req).role) !== 'admin') {
      throw new Problem(403, 'override_forbidden', 'only an admin may refund a redeemed key');
    }
    await refuseUndoableUnits(db, order.units, unitIds, body.override);
    const units = unitIds ? createHash('sha256').update(unitIds.join(',')).digest('hex').slice(0, 32) : 'all';
    const workflowId = workflowIds.refund(order.id, body.override ? `${units}:override` : units);
    const args: Parameters<typeof refundWorkflow> = [
      {
        orderId: order.id,
        ...(unitIds ? { unitIds } : {}),
        reason: body.reason,
        ...(body.override ? { override: true } : {}),
        actor: actorOf(req),
      },
    ];
    // A refund that failed (the order moved on meanwhile) does not block its units for good.
    await startOnce(temporal, 'refundWorkflow', {
      workflowId,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args,
      againAfterFailure: true,
    });
    const handle = temporal.workflow.getHandle<typeof refundWorkflow>(workflowId);
    let outcome: RefundOutcome | null;
    try {
      outcome = await temporal.withDeadline(Date.now() + ANSWER_WITHIN_MS, () => handle.result());
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        const type = err.cause instanceof ApplicationFailure ? err.cause.type : undefined;
        if (type === FailureType.RefundNotAllowed) {
          throw new Problem(409, 'order_not_refundable', err.cause!.message);
        }
        throw err;
      }
      outcome = null;
    }
    if (!outcome) {
      res.status(202).json({ orderId: order.id, status: 'pending', workflowId });
      return;
    }
    res.json({
      orderId: order.id,
      status: outcome.providerFailures > 0 ? 'provider_refused' : 'refunded',
      orderStatus: outcome.orderStatus,
      refunded: outcome.refunded.map((u) => ({
        unitId: u.unitId,
        amount: money(BigInt(u.amountMinor), outcome.currency),
      })),
      skipped: outcome.skipped ?? [],
      total: money(
        outcome.refunded.reduce((sum, u) => sum + BigInt(u.amountMinor), 0n),
        outcome.currency,
      ),
    });
  });
  return router;
}

/**
 * Answers at once what the refund's transaction would refuse: a named unit that is not
 * delivered (replaced, or never delivered; one refunded before is this refund repeated), or a
 * unit whose key was redeemed, unless an admin overrides. The transaction checks again under
 * its locks (store/payments.ts), so a unit redeemed in between is skipped, not refunded.
 */
async function refuseUndoableUnits(
  db: ApiDeps['db'],
  units: { id: string; status: string; cardKeyId: string | null }[],
  unitIds: string[] | undefined,
  override: boolean | undefined,
) {
  const asked = unitIds ? units.filter((u) => unitIds.includes(u.id)) : units.filter((u) => u.status === 'delivered');
  const undeliverable = asked.filter((u) => u.status !== 'delivered' && u.status !== 'refunded');
  if (undeliverable.length > 0) {
    throw new Problem(409, 'unit_not_delivered', 'only delivered units are refunded', [
      ...undeliverable.map((u) => ({ path: 'unitIds', message: `${u.id} is ${u.status}` })),
    ]);
  }
  if (override) return;
  const keyIds = asked.flatMap((u) => (u.status === 'delivered' && u.cardKeyId ? [u.cardKeyId] : []));
  const redeemed = await db.cardKey.findMany({
    where: { id: { in: keyIds }, status: 'redeemed' },
    select: { id: true },
  });
  if (redeemed.length > 0) {
    const ids = new Set(redeemed.map((k) => k.id));
    throw new Problem(
      409,
      'key_redeemed',
      'the rights owner reports these keys redeemed: refunding them needs an admin override',
      [
        ...asked
          .filter((u) => u.cardKeyId && ids.has(u.cardKeyId))
          .map((u) => ({ path: 'unitIds', message: `${u.id}: key redeemed` })),
      ],
    );
  }
}
