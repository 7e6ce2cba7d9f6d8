// Subscriptions (连续包月): an order system subscribes its buyers, reads and changes its own
// subscriptions; support and admins read and cancel any (audited). Every change goes to the
// subscription's renewal workflow as an Update, whose validator refuses what the status does
// not accept (409 subscription_state) and whose handler answers once the change is recorded.
import type { Request } from 'express';
import { Router } from 'express';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { z } from 'zod';
import { FailureType } from '../../domain/failures';
import { roleFromDb } from '../../domain/roles';
import {
  CancelBody,
  ChangePlanBody,
  CreateSubscriptionBody,
  PauseBody,
  ResumeBody,
} from '../../domain/subscriptions/request';
import { ENDED_STATUSES } from '../../domain/subscriptions/status';
import { Identifier } from '../../domain/text';
import { ipFacts } from '../../infra/geoip';
import { parseAllowList } from '../../infra/outbound-url';
import { InvalidAccount, UnknownSkus } from '../../store/orders';
import { cancelUrlFor, subscriptionByCancelToken } from '../../store/subscriptions/cancel-links';
import { createSubscription, SubscriptionConflict } from '../../store/subscriptions/intake';
import {
  findSubscription,
  type SubscriptionDetail,
  subscriptionPage,
  subscriptionRef,
} from '../../store/subscriptions/queries';
import {
  cancelUpdate,
  changePlanUpdate,
  pauseUpdate,
  resumeSubscriptionUpdate,
  scheduleQuery,
  type SubscriptionActor,
} from '../../workflows/subscription-messages';
import type { ApiDeps } from '../deps';
import { callerOf, requireRole } from '../middleware/auth';
import { idempotencyKeyOf } from '../middleware/idempotency-key';
import { nextCursorOf, pageParams, timeCursor } from '../pagination';
import { outboundUrlOr422, parseOr422, Problem, problems } from '../problem';
import { startSubscription } from '../subscription-starts';
import { updateWithinDeadline } from '../workflow-updates';

// The bodies' schemas live in domain/ (the store's types come from them); exported here too,
// beside the routes that take them, for the checks that walk every route's schemas.
export { CancelBody, ChangePlanBody, CreateSubscriptionBody, PauseBody, ResumeBody };

const STATUSES = ['active', 'past_due', 'suspended', 'paused', 'cancelled', 'expired'] as const;

export const ListSubscriptionsQuery = z.strictObject({
  buyerId: Identifier(128).optional(),
  status: z.enum(STATUSES).optional(),
  ...pageParams({ max: 100, default: 50 }),
});

/** The schedule query waits for a worker; without one it answers 503 rather than hang. */
const SCHEDULE_QUERY_DEADLINE_MS = 3_000;

const money = (minor: bigint | number, currency: string) => ({ minor: Number(minor), currency });

type SubscriptionRef = NonNullable<Awaited<ReturnType<typeof subscriptionRef>>>;

/** Reaching a subscription's workflow with a request (an Update). */
function workflowRequests({ db, temporal, config }: ApiDeps) {
  /**
   * Sends an Update; 409 subscription_state when its validator refuses. A workflow that is not
   * running although the subscription is open (its start was lost) is started and asked again.
   */
  async function ask(
    ref: Pick<SubscriptionRef, 'id' | 'workflowId'> & Parameters<typeof startSubscription>[2],
    send: (handle: ReturnType<typeof temporal.workflow.getHandle>) => Promise<unknown>,
  ): Promise<void> {
    for (let tries = 0; ; tries++) {
      try {
        await updateWithinDeadline(temporal, () => send(temporal.workflow.getHandle(ref.workflowId)));
        return;
      } catch (err) {
        if (err instanceof WorkflowUpdateFailedError) {
          const cause = err.cause as { type?: string; message?: string } | undefined;
          if (cause?.type === FailureType.SubscriptionRequestRefused) {
            throw new Problem(409, 'subscription_state', cause.message ?? 'not in this status');
          }
          throw new Problem(503, 'update_not_recorded', 'the change could not be recorded; send it again');
        }
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        const current = await db.subscription.findUniqueOrThrow({ where: { id: ref.id }, select: { status: true } });
        if (ENDED_STATUSES.includes(current.status) || tries > 0) {
          throw new Problem(409, 'subscription_state', `this subscription is ${current.status}: it has ended`);
        }
        await startSubscription(temporal, config, ref);
      }
    }
  }

  /** Idempotent: a cancelled subscription answers as it is (the buyer's link may be used twice). */
  async function cancel(ref: SubscriptionRef, actor: SubscriptionActor, reason?: string): Promise<void> {
    if (ref.status === 'cancelled') return;
    try {
      await ask(ref, (handle) =>
        handle.executeUpdate(cancelUpdate, { args: [{ actor, ...(reason ? { reason } : {}) }] }),
      );
    } catch (err) {
      // Cancelled by someone else between the read and the Update: what was asked stands.
      const now = await db.subscription.findUniqueOrThrow({ where: { id: ref.id }, select: { status: true } });
      if (now.status !== 'cancelled') throw err;
    }
  }

  return { ask, cancel };
}

export function subscriptionsRouter(deps: ApiDeps): Router {
  const { db, temporal, config } = deps;
  const router = Router();
  const { ask, cancel } = workflowRequests(deps);
  const outboundAllowList = parseAllowList(config.OUTBOUND_URL_ALLOWLIST);

  const isStaff = (req: Request) => ['support', 'admin'].includes(roleFromDb(callerOf(req).role));
  /** Order systems reach their own subscriptions only (others: 404); support and admins any. */
  function scopeFor(req: Request): { clientId?: string } {
    const role = roleFromDb(callerOf(req).role);
    if (role === 'order-system') return { clientId: callerOf(req).id };
    if (role === 'support' || role === 'admin') return {};
    throw problems.forbidden();
  }
  const actorOf = (req: Request): SubscriptionActor => {
    const client = callerOf(req);
    return { clientId: client.id, name: `client:${client.name}`, ...(isStaff(req) ? { staff: true } : {}) };
  };

  function present(req: Request, s: SubscriptionDetail) {
    const staff = isStaff(req);
    const ended = ENDED_STATUSES.includes(s.status);
    const nextPeriod = s.currentPeriod + 1;
    const nextProduct =
      s.pendingProduct && s.pendingFromPeriod !== null && nextPeriod >= s.pendingFromPeriod
        ? s.pendingProduct
        : s.product;
    return {
      id: s.id,
      externalSubscriptionId: s.externalSubscriptionId,
      ...(staff ? { clientId: s.clientId } : {}),
      buyer: { id: s.buyerId },
      status: s.status,
      ...(s.statusReason ? { statusReason: s.statusReason } : {}),
      sku: s.product.sku,
      period: s.period,
      timeZone: s.timeZone,
      anchorAt: s.anchorAt.toISOString(),
      payment: { method: s.paymentMethod },
      currentPeriod: s.currentPeriod,
      ...(s.pendingProduct || s.pendingPeriod
        ? {
            pendingPlan: {
              sku: s.pendingProduct?.sku ?? s.product.sku,
              period: s.pendingPeriod ?? s.period,
              fromPeriod: s.pendingFromPeriod,
            },
          }
        : {}),
      ...(!ended && s.nextChargeAt
        ? {
            nextRenewal: {
              period: nextPeriod,
              at: s.nextChargeAt.toISOString(),
              sku: nextProduct.sku,
              amount: money(nextProduct.priceMinor, nextProduct.currency),
            },
          }
        : {}),
      ...(s.clientId === callerOf(req).id && !ended
        ? { cancelUrl: cancelUrlFor(config.PUBLIC_BASE_URL, config.CLAIM_TOKEN_SECRET, s) }
        : {}),
      periods: s.periods.map((p) => ({
        number: p.number,
        startsAt: p.startsAt.toISOString(),
        endsAt: p.endsAt.toISOString(),
        sku: s.skuOf(p.productId),
        ...(p.amountMinor !== null && p.currency ? { amount: money(p.amountMinor, p.currency) } : {}),
        ...(p.orderId ? { orderId: p.orderId, orderStatus: p.order?.status } : {}),
        attempts: p.attempts,
        ...(p.outcome ? { outcome: p.outcome } : {}),
        ...(p.noticeSentAt ? { noticeSentAt: p.noticeSentAt.toISOString() } : {}),
        ...(p.paidAt ? { paidAt: p.paidAt.toISOString() } : {}),
      })),
      history: s.events.map((e) => {
        const { actorClientId: _hidden, ...detail } = e.detail as Record<string, unknown>;
        return {
          seq: e.seq,
          type: e.type,
          status: e.status,
          ...(e.periodNumber !== null ? { period: e.periodNumber } : {}),
          at: e.at.toISOString(),
          ...(staff ? { actor: e.actor } : {}),
          detail,
        };
      }),
      createdAt: s.createdAt.toISOString(),
    };
  }

  async function presentById(req: Request, id: string) {
    const found = await findSubscription(db, id, scopeFor(req));
    if (!found) throw problems.notFound('subscription');
    return present(req, found);
  }

  const idOf = (req: Request) => {
    const id = z.uuid().safeParse(req.params.id);
    if (!id.success) throw problems.notFound('subscription');
    return id.data;
  };

  router.post('/', requireRole('order-system'), async (req, res) => {
    const idempotencyKey = idempotencyKeyOf(req);
    const body = parseOr422(CreateSubscriptionBody, req.body);
    if (body.callbackUrl) outboundUrlOr422(body.callbackUrl, outboundAllowList, 'callbackUrl');
    if (body.payment?.method === 'stripe' && !config.STRIPE_API_KEY) {
      throw new Problem(422, 'payment_method_unavailable', 'card payments through Stripe are not configured here', [
        { path: 'payment.method', message: 'not available' },
      ]);
    }
    const client = callerOf(req);
    let result: Awaited<ReturnType<typeof createSubscription>>;
    try {
      result = await createSubscription(db, client.id, body, {
        idempotencyKey,
        buyerGeo: ipFacts(body.buyer.ip).geo,
        claimTokenSecret: config.CLAIM_TOKEN_SECRET,
      });
    } catch (err) {
      if (err instanceof UnknownSkus) throw new Problem(422, 'unknown_sku', err.message);
      if (err instanceof InvalidAccount) {
        throw new Problem(422, 'invalid_account', err.message, [{ path: 'account', message: err.message }]);
      }
      if (err instanceof SubscriptionConflict) {
        throw new Problem(
          409,
          'idempotency_conflict',
          'this externalSubscriptionId or Idempotency-Key was used with a different body',
        );
      }
      throw err;
    }
    const { subscription, created } = result;
    // Committed: the renewal workflow starts now (the first period at once). A resubmission
    // starts it again, harmlessly, healing a start an outage lost.
    if (!ENDED_STATUSES.includes(subscription.status)) {
      try {
        await startSubscription(temporal, config, subscription);
      } catch (err) {
        req.log.warn({ err, subscriptionId: subscription.id }, 'subscription workflow not started: resubmit to retry');
        if (created) {
          throw new Problem(
            503,
            'workflow_unavailable',
            'the subscription is recorded but could not start; send it again',
          );
        }
      }
    }
    if (created) req.log.info({ subscriptionId: subscription.id }, 'subscription accepted');
    res.status(created ? 202 : 200).json(await presentById(req, subscription.id));
  });

  router.get('/', async (req, res) => {
    const scope = scopeFor(req);
    const query = parseOr422(ListSubscriptionsQuery, req.query);
    const page = await subscriptionPage(db, {
      ...scope,
      ...(query.buyerId ? { buyerId: query.buyerId } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
      limit: query.limit,
    });
    const staff = isStaff(req);
    res.json({
      subscriptions: page.rows.map((s) => ({
        id: s.id,
        externalSubscriptionId: s.externalSubscriptionId,
        ...(staff ? { clientId: s.clientId } : {}),
        buyer: { id: s.buyerId },
        status: s.status,
        sku: s.product.sku,
        period: s.period,
        currentPeriod: s.currentPeriod,
        ...(s.nextChargeAt && !ENDED_STATUSES.includes(s.status) ? { nextChargeAt: s.nextChargeAt.toISOString() } : {}),
        createdAt: s.createdAt.toISOString(),
      })),
      ...nextCursorOf(timeCursor, page.next),
    });
  });

  router.get('/:id', async (req, res) => {
    res.json(await presentById(req, idOf(req)));
  });

  /** The renewal workflow's own account: the next charge, the notice time, the periods ahead. */
  router.get('/:id/schedule', async (req, res) => {
    const ref = await subscriptionRef(db, idOf(req), scopeFor(req));
    if (!ref) throw problems.notFound('subscription');
    try {
      const schedule = await temporal.withDeadline(Date.now() + SCHEDULE_QUERY_DEADLINE_MS, () =>
        temporal.workflow.getHandle(ref.workflowId).query(scheduleQuery),
      );
      res.json({ id: ref.id, schedule });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw problems.notFound('subscription workflow');
      throw new Problem(503, 'workflow_unavailable', 'the renewal workflow did not answer; try again');
    }
  });

  router.post('/:id/cancel', requireRole('order-system', 'support', 'admin'), async (req, res) => {
    const body = parseOr422(CancelBody, req.body ?? {});
    const ref = await subscriptionRef(db, idOf(req), scopeFor(req));
    if (!ref) throw problems.notFound('subscription');
    await cancel(ref, actorOf(req), body.reason);
    res.json(await presentById(req, ref.id));
  });

  router.post('/:id/pause', requireRole('order-system'), async (req, res) => {
    const body = parseOr422(PauseBody, req.body ?? {});
    const ref = await subscriptionRef(db, idOf(req), scopeFor(req));
    if (!ref) throw problems.notFound('subscription');
    await ask(ref, (handle) =>
      handle.executeUpdate(pauseUpdate, {
        args: [{ actor: actorOf(req), ...(body.reason ? { reason: body.reason } : {}) }],
      }),
    );
    res.json(await presentById(req, ref.id));
  });

  router.post('/:id/resume', requireRole('order-system'), async (req, res) => {
    const body = parseOr422(ResumeBody, req.body ?? {});
    if (body.payment?.method === 'stripe' && !config.STRIPE_API_KEY) {
      throw new Problem(422, 'payment_method_unavailable', 'card payments through Stripe are not configured here', [
        { path: 'payment.method', message: 'not available' },
      ]);
    }
    const ref = await subscriptionRef(db, idOf(req), scopeFor(req));
    if (!ref) throw problems.notFound('subscription');
    await ask(ref, (handle) =>
      handle.executeUpdate(resumeSubscriptionUpdate, {
        args: [
          {
            actor: actorOf(req),
            ...(body.reason ? { reason: body.reason } : {}),
            ...(body.payment ? { payment: body.payment } : {}),
          },
        ],
      }),
    );
    res.json(await presentById(req, ref.id));
  });

  router.post('/:id/change-plan', requireRole('order-system'), async (req, res) => {
    const body = parseOr422(ChangePlanBody, req.body);
    const ref = await subscriptionRef(db, idOf(req), scopeFor(req));
    if (!ref) throw problems.notFound('subscription');
    const product = body.sku
      ? await db.product.findFirst({
          where: { sku: body.sku, active: true },
          select: { id: true, sku: true, kind: true, currency: true },
        })
      : await db.product.findUniqueOrThrow({
          where: { id: ref.productId },
          select: { id: true, sku: true, kind: true, currency: true },
        });
    if (!product) throw new Problem(422, 'unknown_sku', `unknown or inactive sku: ${body.sku}`);
    const current = await db.product.findUniqueOrThrow({
      where: { id: ref.productId },
      select: { kind: true, currency: true },
    });
    // The renewal order carries the subscription's account (or none) and its currency's money.
    if (product.kind !== current.kind || product.currency !== current.currency) {
      throw new Problem(
        422,
        'incompatible_plan',
        'the new plan must be the same kind of product, in the same currency',
        [{ path: 'sku', message: 'not interchangeable with the current plan' }],
      );
    }
    await ask(ref, (handle) =>
      handle.executeUpdate(changePlanUpdate, {
        args: [
          { actor: actorOf(req), plan: { productId: product.id, sku: product.sku, period: body.period ?? ref.period } },
        ],
      }),
    );
    res.json(await presentById(req, ref.id));
  });

  return router;
}

/**
 * The buyer's one-click cancel link (no API key: the token is the credential). GET shows what
 * it would cancel (safe for mail scanners that open links); POST cancels, and a second POST
 * answers the same. A token the platform did not issue is 404.
 */
export function subscriptionCancelLinkRouter(deps: ApiDeps): Router {
  const { db } = deps;
  const { cancel } = workflowRequests(deps);
  const router = Router();
  async function load(token: string) {
    const found = await subscriptionByCancelToken(db, token);
    if (!found) throw problems.notFound('subscription');
    return found;
  }
  router.get('/:token', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const found = await load(req.params.token);
    const ended = ENDED_STATUSES.includes(found.status);
    res.json({
      subscription: {
        status: found.status,
        sku: found.product.sku,
        period: found.period,
        ...(found.nextChargeAt && !ended ? { nextRenewalAt: found.nextChargeAt.toISOString() } : {}),
      },
      cancel: ended ? null : { method: 'POST' },
    });
  });
  router.post('/:token', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const found = await load(req.params.token);
    if (found.status === 'expired') throw new Problem(409, 'subscription_state', 'this subscription has expired');
    await cancel(found, { clientId: null, name: 'buyer' }, 'cancelled by the buyer');
    const after = await db.subscription.findUniqueOrThrow({ where: { id: found.id }, select: { status: true } });
    res.json({ status: after.status });
  });
  return router;
}
