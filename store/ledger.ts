// The prepaid balance: an append-only ledger whose entries are each made once by their
// idempotency key. Debits lock the client row so concurrent orders cannot overdraw.
import type { LedgerEntry } from '@prisma/client';
import { money } from '../domain/money';
import type { Db, DbTx } from '../infra/db';
import { Prisma } from '../infra/db';
import { type Actor, recordAudit } from './audit';

export const ledgerKeys = {
  topup: (clientId: string, key: string) => `topup:${clientId}:${key}`,
  orderDebit: (orderId: string) => `order:${orderId}:debit`,
  orderRefund: (orderId: string) => `order:${orderId}:refund`,
};

export async function balanceOf(db: DbTx, clientId: string, currency: string): Promise<bigint> {
  const { _sum } = await db.ledgerEntry.aggregate({ where: { clientId, currency }, _sum: { amountMinor: true } });
  return _sum.amountMinor ?? 0n;
}

/** Inserts the entry unless its idempotency key exists; returns the stored entry either way. */
async function appendOnce(
  tx: DbTx,
  data: Prisma.LedgerEntryUncheckedCreateInput,
): Promise<{ entry: LedgerEntry; created: boolean }> {
  const existing = await tx.ledgerEntry.findUnique({ where: { idempotencyKey: data.idempotencyKey } });
  if (existing) return { entry: existing, created: false };
  return { entry: await tx.ledgerEntry.create({ data }), created: true };
}

async function lockClient(tx: DbTx, clientId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM clients WHERE id = ${clientId}::uuid FOR UPDATE`;
}

export async function topUp(
  db: Db,
  input: { clientId: string; minor: number; currency: string; idempotencyKey: string },
  actor: Actor,
) {
  return db.$transaction(async (tx) => {
    await lockClient(tx, input.clientId);
    const { entry, created } = await appendOnce(tx, {
      clientId: input.clientId,
      kind: 'topup',
      amountMinor: BigInt(input.minor),
      currency: input.currency,
      idempotencyKey: input.idempotencyKey,
      actorClientId: actor.clientId,
    });
    if (created) {
      await recordAudit(tx, {
        actorClientId: actor.clientId,
        actor: actor.name,
        action: 'balance.topped_up',
        subjectType: 'client',
        subjectId: input.clientId,
        details: { minor: input.minor, currency: input.currency, entryId: entry.id.toString() },
      });
    }
    return { entry, created, balance: await balanceOf(tx, input.clientId, input.currency) };
  });
}

export type DebitOutcome = { ok: true } | { ok: false; available: bigint };

/** Debits the order's amount once; refuses (writing nothing) when the balance is short. */
export async function debitForOrder(
  db: Db,
  order: { id: string; clientId: string; amountMinor: bigint; currency: string },
): Promise<DebitOutcome> {
  return db.$transaction(async (tx) => {
    await lockClient(tx, order.clientId);
    const key = ledgerKeys.orderDebit(order.id);
    if (await tx.ledgerEntry.findUnique({ where: { idempotencyKey: key } })) return { ok: true };
    const available = await balanceOf(tx, order.clientId, order.currency);
    if (available < order.amountMinor) return { ok: false, available };
    await tx.ledgerEntry.create({
      data: {
        clientId: order.clientId,
        kind: 'order_debit',
        amountMinor: -order.amountMinor,
        currency: order.currency,
        orderId: order.id,
        idempotencyKey: key,
      },
    });
    return { ok: true };
  });
}

/** Credits back exactly what the order's debit took, once; nothing if it was never debited. */
export async function refundOrder(db: Db, orderId: string): Promise<{ refunded: bigint }> {
  return db.$transaction(async (tx) => {
    const debit = await tx.ledgerEntry.findUnique({ where: { idempotencyKey: ledgerKeys.orderDebit(orderId) } });
    if (!debit) return { refunded: 0n };
    await lockClient(tx, debit.clientId);
    const { entry } = await appendOnce(tx, {
      clientId: debit.clientId,
      kind: 'order_refund',
      amountMinor: -debit.amountMinor,
      currency: debit.currency,
      orderId,
      idempotencyKey: ledgerKeys.orderRefund(orderId),
    });
    return { refunded: entry.amountMinor };
  });
}

export function entryView(entry: LedgerEntry) {
  return {
    id: entry.id.toString(),
    kind: entry.kind,
    amount: money(entry.amountMinor, entry.currency),
    orderId: entry.orderId,
    at: entry.createdAt.toISOString(),
  };
}
