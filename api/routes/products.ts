import { Router } from 'express';
import { z } from 'zod';
import { MoneySchema } from '../../domain/money';
import { FreeText, VerbatimText } from '../../domain/text';
import { createProduct, DuplicateSku } from '../../store/products';
import { productView } from '../views/products';
import type { ApiDeps } from '../deps';
import { actorOf, requireRole } from '../middleware/auth';
import { parseOr422, Problem } from '../problem';

export const SkuSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, . _ -');

export const CreateProductBody = z
  .strictObject({
    // `default` names the default risk policy (/v1/risk/policies/default).
    sku: SkuSchema.refine((sku) => sku !== 'default', 'default is reserved'),
    name: FreeText(200),
    kind: z.enum(['card_key', 'direct_topup']),
    price: MoneySchema.extend({ minor: z.number().int().positive().max(100_000_000) }),
    /** Direct top-ups: a regular expression the whole account must match (e.g. a phone number's). */
    accountPattern: VerbatimText(200)
      .refine((source) => {
        try {
          new RegExp(source, 'u');
          return true;
        } catch {
          return false;
        }
      }, 'must be a valid regular expression')
      .optional(),
  })
  .refine((p) => p.kind === 'direct_topup' || p.accountPattern === undefined, {
    message: 'only direct top-ups take an account pattern',
    path: ['accountPattern'],
  });

export function productsRouter({ db }: ApiDeps): Router {
  const router = Router();
  router.post('/', requireRole('admin'), async (req, res) => {
    const body = parseOr422(CreateProductBody, req.body);
    try {
      res.status(201).json(productView(await createProduct(db, body, actorOf(req))));
    } catch (err) {
      if (err instanceof DuplicateSku) throw new Problem(409, 'sku_exists', `sku ${body.sku} already exists`);
      throw err;
    }
  });
  router.get('/', async (_req, res) => {
    const products = await db.product.findMany({ orderBy: { sku: 'asc' } });
    res.json({ products: products.map(productView) });
  });
  return router;
}
