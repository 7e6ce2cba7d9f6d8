import { Router } from 'express';
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { CurrencySchema, money, MoneySchema } from '../../domain/money';
import { ledgerKeys } from '../../domain/ledger-keys';
import { balancesOf, statementPage, topUp, TopUpConflict } from '../../store/ledger';
import { statementLine, transactionView } from '../views/ledger';
import type { ApiDeps } from '../deps';
import { actorOf, callerOf, requireRole } from '../middleware/auth';
import { DateParam, inDateOrder } from '../date-range';
import { cursorParam, nextCursorOf, serialCursor } from '../pagination';
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
    const { transaction, created, available } = result;
    res
      .status(created ? 201 : 200)
      .json({ transaction: transactionView(transaction), available: money(available, amount.currency) });
  });
  return router;
}

export const StatementQuery = inDateOrder(
  z.strictObject({
    currency: CurrencySchema.optional(),
    from: DateParam.optional(),
    to: DateParam.optional(),
    cursor: cursorParam(serialCursor).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  }),
);

const CSV_HEADER = 'id,at,account,kind,order_id,amount_minor,balance_after_minor,currency\n';
const csvLine = (l: ReturnType<typeof statementLine>) =>
  `${l.id},${l.at},${l.account},${l.kind},${l.orderId ?? ''},${l.amount.minor},${l.balanceAfter.minor},${l.amount.currency}\n`;

/** GET /v1/balance: the caller's running balances (available and held) per currency, and its latest postings. */
export function balanceRouter({ db }: ApiDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const client = callerOf(req);
    const query = parseOr422(z.object({ currency: CurrencySchema.optional() }), req.query);
    const all = await balancesOf(db, client.id);
    const balances = all.map((b) => money(b.available, b.currency));
    const currency = query.currency ?? (balances.length === 1 ? balances[0]!.currency : undefined);
    const mine = all.find((b) => b.currency === currency);
    const latest = currency
      ? await db.ledgerPosting.findMany({
          where: { account: { clientId: client.id, currency } },
          include: { transaction: true, account: { select: { kind: true } } },
          orderBy: { id: 'desc' },
          take: 100,
        })
      : [];
    res.json({
      ...(currency
        ? { available: money(mine?.available ?? 0n, currency), held: money(mine?.held ?? 0n, currency) }
        : {}),
      balances,
      entries: latest.map(statementLine),
    });
  });

  /**
   * GET /v1/balance/statement?currency=&from=&to=&cursor=&limit= — every posting on the
   * caller's accounts in one currency, oldest first, each with the balance after it; pages
   * follow `nextCursor`. With `Accept: text/csv` the whole range streams as CSV.
   */
  router.get('/statement', async (req, res) => {
    const client = callerOf(req);
    const query = parseOr422(StatementQuery, req.query);
    const currency = query.currency ?? (await balancesOf(db, client.id)).map((b) => b.currency).at(0);
    if (!currency) throw new Problem(422, 'currency_required', 'name the currency: this client holds none yet');
    const range = {
      clientId: client.id,
      currency,
      ...(query.from ? { from: query.from } : {}),
      ...(query.to ? { to: query.to } : {}),
    };
    if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
      res.setHeader('content-type', 'text/csv; charset=utf-8');
      res.write(CSV_HEADER);
      let cursor = query.cursor;
      do {
        const page = await statementPage(db, { ...range, ...(cursor !== undefined ? { cursor } : {}), limit: 1000 });
        for (const p of page.rows) res.write(csvLine(statementLine(p)));
        cursor = page.next;
      } while (cursor !== undefined);
      res.end();
      return;
    }
    const page = await statementPage(db, {
      ...range,
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      limit: query.limit,
    });
    res.json({ currency, lines: page.rows.map(statementLine), ...nextCursorOf(serialCursor, page.next) });
  });
  return router;
}
