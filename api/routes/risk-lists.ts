// The allow and deny lists (buyer, device, IP address or network), kept by risk analysts and
// admins. Adding is idempotent: an entry already on the list answers 200 with itself.
import type { RiskListEntry } from '@prisma/client';
import { Router } from 'express';
import { z } from 'zod';
import { FreeText, Identifier } from '../../domain/text';
import { addListEntry, InvalidIpValue, listEntriesPage, removeListEntry } from '../../store/risk/lists';
import type { ApiDeps } from '../deps';
import { actorOf, requireRole } from '../middleware/auth';
import { nextCursorOf, pageParams, timeCursor } from '../pagination';
import { parseOr422, problems } from '../problem';

const ListSchema = z.enum(['allow', 'deny']);
const KindSchema = z.enum(['buyer', 'device', 'ip']);

const common = { list: ListSchema, note: FreeText(500).optional() };

/** Buyer and device ids as orders carry them; an IP value is checked and made canonical by the store. */
export const NewListEntryBody = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('buyer'), value: Identifier(128), ...common }),
  z.strictObject({ kind: z.literal('device'), value: Identifier(128), ...common }),
  z.strictObject({ kind: z.literal('ip'), value: z.string().trim().min(1).max(100), ...common }),
]);

export const ListEntriesQuery = z.strictObject({
  list: ListSchema.optional(),
  kind: KindSchema.optional(),
  ...pageParams({ max: 200, default: 50 }),
});

function entryView(entry: RiskListEntry) {
  return {
    id: entry.id,
    list: entry.list,
    kind: entry.kind,
    value: entry.value,
    note: entry.note,
    createdAt: entry.createdAt.toISOString(),
  };
}

export function riskListsRouter({ db }: ApiDeps): Router {
  const router = Router();
  router.use(requireRole('admin', 'risk-analyst'));

  /** GET /v1/risk/lists?list=&kind=&cursor=&limit= — oldest first; pages follow `nextCursor`. */
  router.get('/', async (req, res) => {
    const query = parseOr422(ListEntriesQuery, req.query);
    const page = await listEntriesPage(db, {
      list: query.list,
      kind: query.kind,
      cursor: query.cursor,
      limit: query.limit,
    });
    res.json({ entries: page.rows.map(entryView), ...nextCursorOf(timeCursor, page.next) });
  });

  router.post('/', async (req, res) => {
    const body = parseOr422(NewListEntryBody, req.body);
    try {
      const { entry, created } = await addListEntry(db, body, actorOf(req));
      res.status(created ? 201 : 200).json(entryView(entry));
    } catch (err) {
      if (err instanceof InvalidIpValue) throw problems.validation([{ path: 'value', message: err.reason }]);
      throw err;
    }
  });

  router.delete('/:id', async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    const removed = id.success ? await removeListEntry(db, id.data, actorOf(req)) : null;
    if (!removed) throw problems.notFound('list entry');
    res.status(204).end();
  });

  return router;
}
