// The prepaid balance as a double-entry ledger (its rules are the database functions in
// prisma/functions/ and the constraints of the migration *_double_entry_ledger): per client
// and currency an `available` and a `held` account with running balances, platform revenue
// and funding accounts, and transactions whose postings sum to zero, each made once under
// its idempotency key. Money moves only through the database functions `ledger_transfer`
// and `settle_order_money`.
import type { LedgerAccountKind, LedgerPosting, LedgerTransaction } from '@prisma/client';
import type { Db, DbTx } from '../infra/db';
import { type Actor, recordAuditInTx } from './audit';
import { bySerialId, keysetPage } from './keyset';

/** The client's running balances in a currency: one row each, never a sum. */
export async function balancesOf(db: DbTx, clientId: string, currency?: string) {
  const accounts = await db.ledgerAccount.findMany({
    where: { clientId, ...(currency ? { currency } : {}) },
    orderBy: [{ currency: 'asc' }, { kind: 'asc' }],
  });
  const byCurrency = new Map<string, { available: bigint; held: bigint }>();
  for (const a of accounts) {
    const entry = byCurrency.get(a.currency) ?? { available: 0n, held: 0n };
    if (a.kind === 'client_available') entry.available = a.balanceMinor;
    if (a.kind === 'client_held') entry.held = a.balanceMinor;
    byCurrency.set(a.currency, entry);
  }
  return [...byCurrency.entries()].map(([cur, b]) => ({ currency: cur, ...b }));
}

/** The Idempotency-Key of an earlier top-up, reused with another amount or currency. */
export class TopUpConflict extends Error {}

/** Credits a client's available money from outside the ledger (funding), once per key. */
export async function topUp(
  db: Db,
  input: { clientId: string; minor: number; currency: string; idempotencyKey: string },
  actor: Actor,
) {
  return db.$transaction(async (tx) => {
    const [moved] = await tx.$queryRaw<{ transaction_id: bigint; created: boolean }[]>`
      SELECT transaction_id, created FROM ledger_transfer('topup', ${input.idempotencyKey}, ${input.clientId}::uuid, NULL,
        ${input.currency}, ${BigInt(input.minor)}, 'platform_funding', 'client_available', ${actor.clientId}::uuid)`;
    const transaction = await tx.ledgerTransaction.findUniqueOrThrow({ where: { id: moved!.transaction_id } });
    if (
      !moved!.created &&
      (transaction.amountMinor !== BigInt(input.minor) || transaction.currency !== input.currency)
    ) {
      throw new TopUpConflict(transaction.id.toString());
    }
    if (moved!.created) {
      await recordAuditInTx(tx, {
        actorClientId: actor.clientId,
        actor: actor.name,
        action: 'balance.topped_up',
        subjectType: 'client',
        subjectId: input.clientId,
        details: { minor: input.minor, currency: input.currency, transactionId: transaction.id.toString() },
      });
    }
    const [balance] = await balancesOf(tx, input.clientId, input.currency);
    return { transaction, created: moved!.created, available: balance?.available ?? 0n };
  });
}

/**
 * The money side of ending an order, in the caller's transaction: captures `captureMinor` of
 * its hold (what was delivered) and releases the rest under `keys.refund`. Returns whether
 * the order had been charged at all.
 */
export async function settleOrderMoneyInTx(
  tx: DbTx,
  orderId: string,
  captureMinor: bigint,
  keys: { refund: string },
): Promise<boolean> {
  const [row] = await tx.$queryRaw<{ charged: boolean }[]>`
    SELECT settle_order_money(${orderId}::uuid, ${captureMinor}, ${keys.refund}) AS charged`;
  return row!.charged;
}

/** A posting with what its statement line shows (statementPage's rows). */
export type StatementPosting = LedgerPosting & { transaction: LedgerTransaction; account: { kind: LedgerAccountKind } };

/** A page of the client's postings in a currency, oldest first, after `cursor` (a posting id). */
export function statementPage(
  db: DbTx,
  input: { clientId: string; currency: string; from?: Date; to?: Date; cursor?: bigint; limit: number },
) {
  return keysetPage(
    input.limit,
    (take) =>
      db.ledgerPosting.findMany({
        where: {
          account: { clientId: input.clientId, currency: input.currency },
          ...bySerialId.after(input.cursor),
          createdAt: { ...(input.from ? { gte: input.from } : {}), ...(input.to ? { lt: input.to } : {}) },
        },
        include: { transaction: true, account: { select: { kind: true } } },
        orderBy: bySerialId.orderBy,
        take,
      }),
    bySerialId.keyOf,
  );
}
