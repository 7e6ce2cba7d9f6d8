import { Router } from 'express';
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { CurrencySchema, money, MoneySchema } from '../../domain/money';
import { ledgerKeys } from '../../domain/ledger-keys';
import { entryView, topUp, TopUpConflict } from '../../store/ledger';
import type { ApiDeps } from '../deps';
import { actorOf, callerOf, requireRole } from '../middleware/auth';
import { parseOr422, Problem, problems } from '../problem';
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
    let result: Awaited<ReturnType<typeof topUp>>;
    try {
      result = await topUp(
        db,
        { clientId, minor: amount.minor, currency: amount.currency, idempotencyKey: ledgerKeys.topup(clientId, key) },
        actorOf(req),
      );
    } catch (err) {
      if (err instanceof TopUpConflict) {
        throw new Problem(409, 'idempotency_conflict', 'this Idempotency-Key was used with a different amount');
      }
      throw err;
    }
    const { entry, created, balance } = result;
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
    // Every currency the client holds; `available` is the one asked for, or the only one.
    const held = await db.ledgerEntry.groupBy({
      by: ['currency'],
      where: { clientId: client.id },
      _sum: { amountMinor: true },
      orderBy: { currency: 'asc' },
    });
    const balances = held.map((h) => money(h._sum.amountMinor ?? 0n, h.currency));
    const currency = query.currency ?? (balances.length === 1 ? balances[0]!.currency : undefined);
    const entries = await db.ledgerEntry.findMany({
      where: { clientId: client.id, ...(currency ? { currency } : {}) },
      orderBy: { id: 'desc' },
      take: 100,
    });
    res.json({
      ...(currency ? { available: balances.find((b) => b.currency === currency) ?? money(0, currency) } : {}),
      balances,
      entries: entries.map(entryView),
    });
  });
  return router;
}
