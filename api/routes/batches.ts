// Import batches and their quarantine: GET /v1/inventory/batches?quarantined= (admin, support)
// lists them oldest first with their keys counted by status; POST …/:id/release and
// POST …/:id/void {reason} (admin) decide a quarantined batch, audited; any other batch is 409.
// Mounted at /v1/inventory/batches ahead of the inventory router, which serves the import
// (POST /v1/inventory/batches): this router declares no POST / and checks roles per route, so
// that request passes through to it.
import { Router } from 'express';
import { z } from 'zod';
import { FreeText } from '../../domain/text';
import { type BatchDecision, type BatchRow, batchPage, releaseBatch, voidBatch } from '../../store/quarantine';
import type { ApiDeps } from '../deps';
import { actorOf, requireRole } from '../middleware/auth';
import { nextCursorOf, pageParams, timeCursor } from '../pagination';
import { parseOr422, Problem, problems } from '../problem';

export const ListBatchesQuery = z.strictObject({
  quarantined: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  ...pageParams({ max: 100, default: 50 }),
});

export const ReleaseBatchBody = z.strictObject({ reason: FreeText(500).optional() });
export const VoidBatchBody = z.strictObject({ reason: FreeText(500) });

function batchView(b: BatchRow) {
  return {
    id: b.id,
    sku: b.sku,
    ...(b.supplier ? { supplier: b.supplier } : {}),
    imported: b.importedCount,
    duplicates: b.duplicateCount,
    keys: b.keys,
    badKeys: b.badKeys,
    quarantined: b.quarantinedAt !== null,
    ...(b.quarantinedAt ? { quarantinedAt: b.quarantinedAt.toISOString(), quarantineReason: b.quarantineReason } : {}),
    createdAt: b.createdAt.toISOString(),
  };
}

function decided(outcome: BatchDecision) {
  if (outcome.kind === 'not_found') throw problems.notFound('batch');
  if (outcome.kind === 'not_quarantined')
    throw new Problem(409, 'batch_not_quarantined', 'the batch is not quarantined');
  return outcome;
}

export function batchesRouter({ db }: ApiDeps): Router {
  const router = Router();
  const batchId = (id: unknown) => {
    const parsed = z.uuid().safeParse(id);
    if (!parsed.success) throw problems.notFound('batch');
    return parsed.data;
  };

  router.get('/', requireRole('admin', 'support'), async (req, res) => {
    const query = parseOr422(ListBatchesQuery, req.query);
    const page = await batchPage(db, {
      ...(query.quarantined === undefined ? {} : { quarantined: query.quarantined }),
      ...(query.cursor ? { cursor: query.cursor } : {}),
      limit: query.limit,
    });
    res.json({ batches: page.rows.map(batchView), ...nextCursorOf(timeCursor, page.next) });
  });

  router.post('/:id/release', requireRole('admin'), async (req, res) => {
    const id = batchId(req.params.id);
    const body = parseOr422(ReleaseBatchBody, req.body ?? {});
    const outcome = decided(await releaseBatch(db, id, actorOf(req), body.reason));
    req.log.info({ batchId: id, released: outcome.keys }, 'quarantined batch released');
    res.json({ id, released: outcome.keys });
  });

  router.post('/:id/void', requireRole('admin'), async (req, res) => {
    const id = batchId(req.params.id);
    const body = parseOr422(VoidBatchBody, req.body ?? {});
    const outcome = decided(await voidBatch(db, id, actorOf(req), body.reason));
    req.log.info({ batchId: id, voided: outcome.keys }, 'quarantined batch voided');
    res.json({ id, voided: outcome.keys });
  });

  return router;
}
