// The prepaid balance: an append-only ledger whose entries are each made once by their
// idempotency key. Debits lock the client row so concurrent orders cannot overdraw.
import type { LedgerEntry } from '@prisma/client';
import { money } from '../domain/money';
import type { Db, DbTx } from '../infra/db';
import { Prisma } from '../infra/db';
import { type Actor, recordAuditInTx } from './audit';

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

/** The Idempotency-Key of an earlier top-up, reused with another amount or currency. */
export class TopUpConflict extends Error {}

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
    if (!created && (entry.amountMinor !== BigInt(input.minor) || entry.currency !== input.currency)) {
      throw new TopUpConflict(entry.id.toString());
    }
    if (created) {
      await recordAuditInTx(tx, {
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

/**
 * Credits back exactly what the debit under `keys.debit` took, once under `keys.refund`,
 * inside the caller's transaction. Returns whether the order had been debited at all.
 */
export async function refundOrderInTx(tx: DbTx, keys: { debit: string; refund: string }): Promise<boolean> {
  const [row] = await tx.$queryRaw<{ debited: boolean }[]>`
    WITH refund AS (
      INSERT INTO ledger_entries (client_id, kind, amount_minor, currency, order_id, idempotency_key)
      SELECT client_id, 'order_refund', -amount_minor, currency, order_id, ${keys.refund}
      FROM ledger_entries WHERE idempotency_key = ${keys.debit}
      ON CONFLICT (idempotency_key) DO NOTHING)
    SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE idempotency_key = ${keys.debit}) AS debited`;
  return row!.debited;
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
