import { Router } from 'express';
import { z } from 'zod';
import { CardKeySchema } from '../../domain/card-key';
import { FreeText } from '../../domain/text';
import { importKeys, inventoryCounts } from '../../store/inventory';
import type { ApiDeps } from '../deps';
import { actorOf, requireRole } from '../middleware/auth';
import { parseOr422, Problem } from '../problem';
import { SkuSchema } from './products';

export const ImportBatchBody = z.strictObject({
  sku: SkuSchema,
  keys: z.array(CardKeySchema).min(1).max(20_000),
  supplier: FreeText(100).optional(),
  costMinor: z.number().int().min(0).max(100_000_000).optional(),
});

export function inventoryRouter({ db, keyring, config }: ApiDeps): Router {
  const router = Router();
  router.use(requireRole('admin'));
  router.post('/batches', async (req, res) => {
    const body = parseOr422(ImportBatchBody, req.body);
    const product = await db.product.findUnique({ where: { sku: body.sku } });
    if (!product) throw new Problem(422, 'unknown_sku', `unknown sku ${body.sku}`);
    if (product.kind !== 'card_key')
      throw new Problem(422, 'not_a_card_key_product', `${body.sku} is not delivered as card keys`);
    const result = await importKeys(
      db,
      { keyring, fingerprintSecret: config.KEY_FINGERPRINT_SECRET },
      { product, keys: body.keys, supplier: body.supplier, costMinor: body.costMinor, actor: actorOf(req) },
    );
    res.status(201).json({ sku: product.sku, ...result });
  });
  router.get('/', async (_req, res) => {
    res.json({ inventory: await inventoryCounts(db) });
  });
  return router;
}
