// Ledger transactions and statement lines as the API shows them: money as {minor, currency}.
import type { LedgerTransaction } from '@prisma/client';
import { money } from '../../domain/money';
import type { StatementPosting } from '../../store/ledger';

export function transactionView(t: LedgerTransaction) {
  return {
    id: t.id.toString(),
    kind: t.kind,
    amount: money(t.amountMinor, t.currency),
    orderId: t.orderId,
    at: t.createdAt.toISOString(),
  };
}

/** A line of a client's statement: a posting on its available or held account, with the balance after it. */
export function statementLine(p: StatementPosting) {
  return {
    id: p.id.toString(),
    at: p.createdAt.toISOString(),
    account: p.account.kind === 'client_available' ? 'available' : 'held',
    kind: p.transaction.kind,
    orderId: p.transaction.orderId,
    amount: money(p.amountMinor, p.transaction.currency),
    balanceAfter: money(p.balanceAfterMinor ?? 0n, p.transaction.currency),
  };
}
