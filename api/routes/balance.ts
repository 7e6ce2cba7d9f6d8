import { Router } from 'express';
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { CurrencySchema, money, MoneySchema } from '../../domain/money';
import { ledgerKeys } from '../../domain/ledger-keys';
import { balanceOf, entryView, topUp } from '../../store/ledger';
import type { ApiDeps } from '../deps';
import { actorOf, callerOf, requireRole } from '../middleware/auth';
import { parseOr422, problems } from '../problem';
import { idempotencyKeyOf } from '../middleware/idempotency-key';

export const TopUpBody = z.strictObject({ amount: MoneySchema });

/** POST /v1/clients/:id/topups (admin) credits a client's prepaid balance. */
export function topupsRouter({ db }: ApiDeps): Router {
  const router = Router({ mergeParams: true });
  router.post('/', requireRole('admin'), async (req, res) => {
    const clientId = parseOr422(z.uuid(), (req.params as { id?: string }).id);
    const { amount } = parseOr422(TopUpBody, req.body);
    if (!(await db.client.findUnique({ where: { id: clientId } }))) throw problems.notFound('client');
    const key = idempotencyKeyOf(req) ?? randomUUID();
    const { entry, created, balance } = await topUp(
      db,
      { clientId, minor: amount.minor, currency: amount.currency, idempotencyKey: ledgerKeys.topup(clientId, key) },
      actorOf(req),
    );
    res.status(created ? 201 : 200).json({ entry: entryView(entry), available: money(balance, amount.currency) });
  });
  return router;
}

/** GET /v1/balance: the caller's own balance and its latest entries. */
export function balanceRouter({ db }: ApiDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const client = callerOf(req);
    const query = parseOr422(z.object({ currency: CurrencySchema.optional() }), req.query);
    const latest = await db.ledgerEntry.findFirst({ where: { clientId: client.id }, orderBy: { id: 'desc' } });
    const currency = query.currency ?? latest?.currency ?? 'CNY';
    const entries = await db.ledgerEntry.findMany({
      where: { clientId: client.id, currency },
      orderBy: { id: 'desc' },
      take: 100,
    });
    res.json({
      available: money(await balanceOf(db, client.id, currency), currency),
      entries: entries.map(entryView),
    });
  });
  return router;
}
