// Finding an order and reading what happened to it, for support and for integrators:
//   GET  /v1/orders?buyerId=|account=[&externalOrderId=&clientId=&cursor=&limit=]  newest first
//   POST /v1/orders/search-by-code {sku?, code}   the units holding the key the buyer reads out
//   GET  /v1/orders/:id/timeline                  everything that happened, in time order
// Mounted before the orders router: a GET /v1/orders without buyerId or account is that
// router's (externalOrderId, stuckFor). An order system sees its own orders only (others are
// absent, never 403), and on its timeline neither risk internals nor staff actions. The
// timeline names the subscription whose period the order was placed for (the order system's
// own, so it sees it too).
import { type Request, type RequestHandler, Router } from 'express';
import { z } from 'zod';
import { CardKeySchema } from '../../domain/card-key';
import { money } from '../../domain/money';
import { type Role, roleFromDb } from '../../domain/roles';
import { Identifier } from '../../domain/text';
import { findUnitsByCode, type OrderSummary, searchOrders } from '../../store/orders/search';
import { orderTimeline, sortTimeline, type TimelineEntry } from '../../store/orders/timeline';
import type { OrderPeriod } from '../../store/subscriptions/order-period';
import type { ApiDeps } from '../deps';
import { callerOf, requireRole } from '../middleware/auth';
import { webhookEntries } from '../order-webhooks';
import { nextCursorOf, pageParams, timeCursor } from '../pagination';
import { parseOr422, Problem, problems } from '../problem';
import { SkuSchema } from './products';

export const SearchOrdersQuery = z
  .strictObject({
    buyerId: Identifier(128).optional(),
    /** A direct top-up's account on any item of the order. */
    account: Identifier(128).optional(),
    externalOrderId: Identifier(128).optional(),
    clientId: z.uuid().optional(),
    ...pageParams({ max: 100, default: 20 }),
  })
  .refine((q) => q.buyerId !== undefined || q.account !== undefined, {
    message: 'give buyerId or account',
    path: ['buyerId'],
  });

export const SearchByCodeBody = z.strictObject({
  /** Narrows the search to one product; without it every card-key product is searched. */
  sku: SkuSchema.optional(),
  /** As the buyer reads it out; normalised as imports normalise keys, then matched by fingerprint. */
  code: CardKeySchema,
});

/** How long the timeline waits for Temporal's account of the webhooks before answering without it. */
const WEBHOOKS_WITHIN_MS = 3_000;

const STAFF: Role[] = ['support', 'admin', 'risk-analyst'];

function ownerScope(req: Request): { clientId?: string } {
  const caller = callerOf(req);
  return roleFromDb(caller.role) === 'order-system' ? { clientId: caller.id } : {};
}

function summaryView(o: OrderSummary, staff: boolean) {
  return {
    id: o.id,
    clientId: o.clientId,
    ...(staff ? { client: o.client.name } : {}),
    externalOrderId: o.externalOrderId,
    status: o.status,
    amount: money(o.amountMinor, o.currency),
    buyerId: o.buyerId,
    items: o.items.map((i) => ({ sku: i.sku, quantity: i.quantity, ...(i.account ? { account: i.account } : {}) })),
    createdAt: o.createdAt.toISOString(),
  };
}

function entryView(e: TimelineEntry) {
  return {
    at: e.at.toISOString(),
    source: e.source,
    event: e.event,
    ...(e.unitId ? { unitId: e.unitId } : {}),
    ...(e.actor ? { actor: e.actor } : {}),
    ...(e.reason ? { reason: e.reason } : {}),
    ...(e.data ? { data: e.data } : {}),
  };
}

function subscriptionView(p: OrderPeriod) {
  return {
    id: p.subscription.id,
    externalSubscriptionId: p.subscription.externalSubscriptionId,
    periodNumber: p.number,
    status: p.subscription.status,
    sku: p.subscription.sku,
    period: p.subscription.period,
  };
}

export function orderLookupRouter({ db, temporal, config }: ApiDeps): Router {
  const router = Router();
  const lookers = requireRole('support', 'admin', 'order-system');

  // A search names a buyer or an account; any other GET /v1/orders is the orders router's.
  const onlySearches: RequestHandler = (req, _res, next) =>
    next(req.query.buyerId === undefined && req.query.account === undefined ? 'route' : undefined);

  router.get('/', onlySearches, lookers, async (req, res) => {
    const query = parseOr422(SearchOrdersQuery, req.query);
    const scope = ownerScope(req);
    // An order system naming another client's id finds nothing: the filter narrows, never widens.
    if (scope.clientId && query.clientId && query.clientId !== scope.clientId) return res.json({ orders: [] });
    const page = await searchOrders(db, {
      buyerId: query.buyerId,
      account: query.account,
      externalOrderId: query.externalOrderId,
      clientId: scope.clientId ?? query.clientId,
      cursor: query.cursor,
      limit: query.limit,
    });
    const staff = scope.clientId === undefined;
    res.json({ orders: page.rows.map((o) => summaryView(o, staff)), ...nextCursorOf(timeCursor, page.next) });
  });

  router.post('/search-by-code', lookers, async (req, res) => {
    const body = parseOr422(SearchByCodeBody, req.body);
    let productId: string | undefined;
    if (body.sku !== undefined) {
      const product = await db.product.findUnique({ where: { sku: body.sku }, select: { id: true, kind: true } });
      if (!product) throw new Problem(422, 'unknown_sku', `unknown sku ${body.sku}`);
      if (product.kind !== 'card_key') {
        throw new Problem(422, 'not_a_card_key_product', `${body.sku} is not delivered as card keys`);
      }
      productId = product.id;
    }
    const matches = await findUnitsByCode(db, config.KEY_FINGERPRINT_SECRET, {
      code: body.code,
      ...(productId ? { productId } : {}),
      ...ownerScope(req),
    });
    // The code is a secret: it is neither logged nor echoed back.
    req.log.info({ matches: matches.length }, 'orders searched by code');
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      matches: matches.map((m) => ({ ...m, deliveredAt: m.deliveredAt?.toISOString() ?? null })),
    });
  });

  router.get('/:id/timeline', requireRole(...STAFF, 'order-system'), async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    const scope = ownerScope(req);
    const staff = scope.clientId === undefined;
    const found = id.success ? await orderTimeline(db, id.data, { staff, ...scope }) : null;
    if (!found) throw problems.notFound('order');
    const compensations = await db.compensation.findMany({
      where: { orderId: found.order.id },
      select: { workflowId: true },
    });
    const webhooks = await webhookEntries(
      temporal,
      [found.order.workflowId, ...compensations.map((c) => c.workflowId)],
      WEBHOOKS_WITHIN_MS,
    );
    res.json({
      orderId: found.order.id,
      workflowId: found.order.workflowId,
      status: found.order.status,
      subscription: found.subscription ? subscriptionView(found.subscription) : null,
      entries: sortTimeline([...found.entries, ...webhooks.entries]).map(entryView),
      ...(webhooks.unavailable ? { incomplete: ['webhook'] } : {}),
    });
  });

  return router;
}
