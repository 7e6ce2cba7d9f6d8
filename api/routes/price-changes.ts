// POST /v1/products/:sku/price-changes (admin): announces a new price for a product, effective
// no sooner than the subscriptions' notice (and its lead) from now. Every open subscription on
// the product is told at once (`subscription.price_changing`, with the first renewal at the
// new price and the buyer's cancel link); the product's price changes at `effectiveAt`, so
// no order placed before then — a renewal included — pays the new price.
// GET /v1/products/:sku/price-changes (admin): the product's announced changes, newest first.
import { Router } from 'express';
import { z } from 'zod';
import { MoneySchema } from '../../domain/money';
import { noticeLeadMs } from '../../domain/subscriptions/notice';
import { workflowIds } from '../../domain/workflow-ids';
import { startOnce } from '../../infra/temporal';
import { announcePriceChange } from '../../store/subscriptions/price-changes';
import type { PriceChangeInput } from '../../workflows/subscription-messages';
import { DateParam } from '../date-range';
import type { ApiDeps } from '../deps';
import { actorOf, requireRole } from '../middleware/auth';
import { parseOr422, Problem, problems } from '../problem';
import { SkuSchema } from './products';

export const PriceChangeBody = z.strictObject({
  price: MoneySchema.extend({ minor: z.number().int().positive().max(100_000_000) }),
  /** When orders start paying it; absent: as soon as the notice period allows. */
  effectiveAt: DateParam.optional(),
});

export function priceChangesRouter({ db, temporal, config }: ApiDeps): Router {
  const router = Router({ mergeParams: true });
  router.use(requireRole('admin'));

  async function productOf(sku: unknown) {
    const parsed = SkuSchema.safeParse(sku);
    const product = parsed.success ? await db.product.findUnique({ where: { sku: parsed.data } }) : null;
    if (!product) throw problems.notFound('product');
    return product;
  }

  router.post('/', async (req, res) => {
    const product = await productOf((req.params as { sku?: string }).sku);
    const body = parseOr422(PriceChangeBody, req.body);
    if (body.price.currency !== product.currency) {
      throw new Problem(422, 'currency_mismatch', `${product.sku} is priced in ${product.currency}`, [
        { path: 'price.currency', message: `must be ${product.currency}` },
      ]);
    }
    const earliest = new Date(Date.now() + noticeLeadMs(config.SUBSCRIPTION_NOTICE_SECONDS));
    const effectiveAt = body.effectiveAt ?? earliest;
    if (effectiveAt < earliest) {
      throw new Problem(
        422,
        'price_change_too_soon',
        'subscribers must be told a notice period before a new price applies',
        [{ path: 'effectiveAt', message: `must be at or after ${earliest.toISOString()}` }],
      );
    }
    const change = await announcePriceChange(db, {
      productId: product.id,
      priceMinor: body.price.minor,
      effectiveAt,
      actor: actorOf(req),
    });
    const input: PriceChangeInput = {
      change: {
        changeId: change.id,
        productId: product.id,
        sku: product.sku,
        amount: { minor: change.priceMinor, currency: product.currency },
        effectiveAt: change.effectiveAt.toISOString(),
      },
    };
    await startOnce(temporal, 'priceChangeWorkflow', {
      workflowId: workflowIds.priceChange(change.id),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [input],
    });
    res.status(202).json(view(product.sku, product.currency, change));
  });

  router.get('/', async (req, res) => {
    const product = await productOf((req.params as { sku?: string }).sku);
    const changes = await db.productPriceChange.findMany({
      where: { productId: product.id },
      orderBy: { announcedAt: 'desc' },
      take: 100,
    });
    res.json({ priceChanges: changes.map((c) => view(product.sku, product.currency, c)) });
  });

  return router;
}

function view(
  sku: string,
  currency: string,
  c: { id: string; priceMinor: number; announcedAt: Date; effectiveAt: Date; appliedAt: Date | null },
) {
  return {
    id: c.id,
    sku,
    price: { minor: c.priceMinor, currency },
    announcedAt: c.announcedAt.toISOString(),
    effectiveAt: c.effectiveAt.toISOString(),
    ...(c.appliedAt ? { appliedAt: c.appliedAt.toISOString() } : {}),
  };
}
