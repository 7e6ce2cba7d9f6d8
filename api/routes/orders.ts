import type { OrderParking } from '@prisma/client';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { DurationSchema } from '../../domain/duration';
import { IpAddressSchema } from '../../domain/ip-address';
import { FreeText, HttpUrl, Identifier } from '../../domain/text';
import { FailureType } from '../../domain/failures';
import { roleFromDb } from '../../domain/roles';
import { claimTokenFor } from '../../store/claims';
import {
  createOrder,
  findOrderDetail,
  findStuckOrders,
  MixedCurrencies,
  openParkings,
  OrderConflict,
  type OrderDetail,
  UnknownSkus,
  InvalidAccount,
} from '../../store/orders';
import { resumeUpdate, statusQuery } from '../../workflows/order-messages';
import type { ApiDeps } from '../deps';
import { orderView } from '../views/orders';
import { actorOf, callerOf, requireRole } from '../middleware/auth';
import { idempotencyKeyOf } from '../middleware/idempotency-key';
import { outboundUrlOr422, parseOr422, Problem, problems } from '../problem';
import { updateWithinDeadline } from '../workflow-updates';
import { ipFacts } from '../../infra/geoip';
import { parseAllowList } from '../../infra/outbound-url';
import { SkuSchema } from './products';

export const CreateOrderBody = z.strictObject({
  externalOrderId: Identifier(128),
  buyer: z.strictObject({
    id: Identifier(128),
    /** Any spelling of an address; kept in its canonical form (domain/ip-address.ts). */
    ip: IpAddressSchema,
    deviceId: Identifier(128).optional(),
  }),
  items: z
    .array(
      z.strictObject({
        sku: SkuSchema,
        quantity: z.number().int().min(1).max(100),
        /** Direct top-ups: the buyer's account at the rights owner (phone number, user id…). */
        account: Identifier(128).optional(),
      }),
    )
    .min(1)
    .max(20),
  callbackUrl: HttpUrl().optional(),
  /** Deliver the units that could be obtained and refund the others, instead of all or nothing. */
  allowPartial: z.boolean().optional(),
  /** Who pays: the client's prepaid balance (default), or a card through Stripe. */
  payment: z
    .discriminatedUnion('method', [
      z.strictObject({ method: z.literal('balance') }),
      z.strictObject({
        method: z.literal('stripe'),
        /** A Stripe PaymentMethod id (`pm_…`) the order system obtained from the buyer. */
        paymentMethodId: z.string().regex(/^pm_\w{1,200}$/, 'must be a Stripe PaymentMethod id (pm_…)'),
      }),
    ])
    .optional(),
});

export const ResumeBody = z.strictObject({ reason: FreeText(500) });

// A page of stuck orders, each queried live; the deadline keeps the listing fast when no
// worker answers (the query then waits for one).
const STUCK_LIMIT = 100;
const STUCK_QUERY_DEADLINE_MS = 2_000;

export function ordersRouter({ db, temporal, config, orderStarts }: ApiDeps): Router {
  const router = Router();
  const outboundAllowList = parseAllowList(config.OUTBOUND_URL_ALLOWLIST);

  router.post('/', requireRole('order-system'), async (req, res) => {
    const idempotencyKey = idempotencyKeyOf(req);
    const body = parseOr422(CreateOrderBody, req.body);
    if (body.callbackUrl) outboundUrlOr422(body.callbackUrl, outboundAllowList, 'callbackUrl');
    if (body.payment?.method === 'stripe' && !config.STRIPE_API_KEY) {
      throw new Problem(422, 'payment_method_unavailable', 'card payments through Stripe are not configured here', [
        { path: 'payment.method', message: 'not available' },
      ]);
    }
    const client = callerOf(req);
    let result: Awaited<ReturnType<typeof createOrder>>;
    try {
      result = await createOrder(db, client.id, body, { idempotencyKey, buyerGeo: ipFacts(body.buyer.ip).geo });
    } catch (err) {
      if (err instanceof UnknownSkus) throw new Problem(422, 'unknown_sku', err.message);
      if (err instanceof InvalidAccount) {
        throw new Problem(422, 'invalid_account', err.message, [
          { path: `items.${err.position}.account`, message: err.message },
        ]);
      }
      if (err instanceof MixedCurrencies)
        throw new Problem(422, 'mixed_currencies', 'all items must share one currency');
      if (err instanceof OrderConflict) {
        throw new Problem(
          409,
          'idempotency_conflict',
          'this externalOrderId or Idempotency-Key was used with a different body',
        );
      }
      throw err;
    }
    const { order, created } = result;
    // The order is committed: 202 means it will be fulfilled. Its workflow starts in the
    // background (api/order-starts.ts); a resubmission of an order still `received` starts
    // it again, at once healing a start that a crash or an outage lost.
    if (order.status === 'received') await orderStarts.start(order);
    if (created) req.log.info({ orderId: order.id, externalOrderId: order.externalOrderId }, 'order accepted');
    res
      .status(created ? 202 : 200)
      .json({ id: order.id, externalOrderId: order.externalOrderId, status: order.status });
  });

  /** Order systems see their own orders only; support, analysts and admins see all. */
  function scopeFor(req: Request) {
    const client = callerOf(req);
    return roleFromDb(client.role) === 'order-system' ? { clientId: client.id } : {};
  }

  const claimLink = (subjectId: string, nonce: string) =>
    `${config.PUBLIC_BASE_URL}/v1/claims/${claimTokenFor(config.CLAIM_TOKEN_SECRET, subjectId, nonce)}`;

  /** The order as the caller may see it; its owner also gets the claim links (the order's and each replacement's). */
  async function present(req: Request, order: OrderDetail) {
    const ownOrder = order.clientId === callerOf(req).id;
    const claimUrl =
      ownOrder && (order.status === 'delivered' || order.status === 'partially_delivered') && order.claimNonce
        ? claimLink(order.id, order.claimNonce)
        : undefined;
    const view = orderView(order, claimUrl, roleFromDb(callerOf(req).role) !== 'order-system');
    if (!ownOrder) return view;
    const reissued = await db.compensation.findMany({
      where: { orderId: order.id, outcome: 'reissued', claimNonce: { not: null } },
      select: { id: true, claimNonce: true },
    });
    const links = new Map(reissued.map((c) => [c.id, claimLink(c.id, c.claimNonce!)]));
    for (const unit of view.items.flatMap((i) => i.units)) {
      for (const c of (unit as { compensations?: { id: string; claimUrl?: string }[] }).compensations ?? []) {
        const link = links.get(c.id);
        if (link) c.claimUrl = link;
      }
    }
    return view;
  }

  /**
   * Orders that stopped moving, with what their workflow says (step, attempts, last
   * error): where support looks when a database step keeps failing or no worker runs.
   */
  async function listStuck(req: Request, res: Response) {
    if (!['admin', 'support'].includes(roleFromDb(callerOf(req).role))) throw problems.forbidden();
    const { stuckFor } = parseOr422(z.strictObject({ stuckFor: DurationSchema }), req.query);
    const now = Date.now();
    const orders = await findStuckOrders(db, new Date(now - stuckFor), STUCK_LIMIT);
    // A parked order's record, which stands even when its workflow cannot be asked.
    const parkings = await openParkings(
      db,
      orders.map((o) => o.id),
    );
    const progress = await Promise.all(
      orders.map((o) =>
        temporal
          .withDeadline(now + STUCK_QUERY_DEADLINE_MS, () =>
            temporal.workflow.getHandle(o.workflowId).query(statusQuery),
          )
          .then(
            (p) => ({ workflow: p }),
            (err: unknown) => ({ workflowError: err instanceof Error ? err.message : String(err) }),
          ),
      ),
    );
    res.json({
      orders: orders.map((o, i) => ({
        id: o.id,
        clientId: o.clientId,
        externalOrderId: o.externalOrderId,
        status: o.status,
        since: o.updatedAt.toISOString(),
        stuckForSeconds: Math.floor((now - o.updatedAt.getTime()) / 1000),
        ...parkedView(parkings.get(o.id)),
        ...progress[i],
      })),
    });
  }

  /**
   * Support resumes a parked order once the fault is dealt with: the workflow's Update records
   * it (audited, with the reason) and tries the step again, in a new run if its history is
   * large. 409 `order_not_parked` when the order is not parked (or its parking not recorded yet).
   */
  router.post('/:id/resume', requireRole('support', 'admin'), async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    const body = parseOr422(ResumeBody, req.body);
    const order = id.success
      ? await db.order.findUnique({ where: { id: id.data }, select: { id: true, workflowId: true } })
      : null;
    if (!order) throw problems.notFound('order');
    let resumed;
    try {
      resumed = await updateWithinDeadline(temporal, () =>
        temporal.workflow
          .getHandle(order.workflowId)
          .executeUpdate(resumeUpdate, { args: [{ reason: body.reason, actor: actorOf(req) }] }),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || isNotParked(err)) {
        throw new Problem(409, 'order_not_parked', 'this order is not parked: it has nothing to resume');
      }
      if (err instanceof WorkflowUpdateFailedError) {
        throw new Problem(503, 'resume_not_recorded', 'the resume could not be recorded; send it again');
      }
      throw err;
    }
    req.log.info({ orderId: order.id, step: resumed.step }, 'parked order resumed');
    res.json({ id: order.id, resumed });
  });

  router.get('/', async (req, res) => {
    if (req.query.stuckFor !== undefined) return listStuck(req, res);
    const query = parseOr422(z.object({ externalOrderId: Identifier(128), clientId: z.uuid().optional() }), req.query);
    const found = await findOrderDetail(db, {
      externalOrderId: query.externalOrderId,
      ...(query.clientId ? { clientId: query.clientId } : {}),
      ...scopeFor(req),
    });
    if (found.length === 0) throw problems.notFound('order');
    if (found.length > 1)
      throw new Problem(409, 'ambiguous_external_order_id', 'several clients use this externalOrderId; add clientId');
    res.json(await present(req, found[0]!));
  });

  router.get('/:id', async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    const [order] = id.success ? await findOrderDetail(db, { id: id.data, ...scopeFor(req) }) : [];
    if (!order) throw problems.notFound('order');
    res.json(await present(req, order));
  });

  return router;
}

/** An Update refused by the validator because the order is not parked (a workflow that ended is not found). */
function isNotParked(err: unknown): boolean {
  if (!(err instanceof WorkflowUpdateFailedError)) return false;
  const cause = err.cause as { type?: string } | undefined;
  return cause?.type === FailureType.OrderNotParked;
}

/** A stuck order's parking, as support reads it beside the workflow's own account. */
function parkedView(parking: OrderParking | undefined) {
  if (!parking) return {};
  return {
    parked: {
      since: parking.parkedAt.toISOString(),
      step: parking.step,
      attempts: parking.attempts,
      lastError: parking.lastError,
      historyLength: parking.historyLength,
    },
  };
}
