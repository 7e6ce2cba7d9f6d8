// Reconciliation: what the ledger and the payment provider say against what was delivered.
// For every terminal order created in the range, captures less refunds must equal the price
// of the units still delivered, and releases (or, for orders charged before the double-entry
// ledger, refunds) the rest of the charge; an order that failed moved no money. A provider
// payment must be settled (captured or voided) with no refund left unsent, and what the
// provider itself reported (its webhooks) must agree with the platform's record.
// Ledger-wide: every transaction balances, and every client account's running balance is the
// sum of its postings. Each mismatch names its order or account; after any correct run the
// list is empty.
import type { DbTx } from '../infra/db';

export interface Mismatch {
  kind:
    | 'capture_not_delivered_value'
    | 'rest_not_returned'
    | 'failed_order_moved_money'
    | 'unbalanced_transaction'
    | 'running_balance_off'
    | 'provider_payment_unsettled'
    | 'provider_refund_pending'
    | 'provider_capture_differs'
    | 'provider_refund_differs';
  orderId?: string;
  transactionId?: string;
  accountId?: string;
  expectedMinor: string;
  actualMinor: string;
}

export async function reconcile(
  db: DbTx,
  range: { from: Date; to: Date },
): Promise<{ orders: number; mismatches: Mismatch[] }> {
  const orders = await db.$queryRaw<
    {
      id: string;
      status: string;
      amount: bigint;
      delivered: bigint;
      held: bigint;
      captured: bigint;
      released: bigint;
      refunded: bigint;
      pay_status: string | null;
      pay_captured: bigint;
      pay_refunded: bigint;
      reported_captured: bigint | null;
      reported_refunded: bigint | null;
      refunds_unsent: bigint;
    }[]
  >`
    SELECT o.id::text, o.status::text, o.amount_minor AS amount,
           COALESCE((SELECT sum(i.unit_price_minor) FROM order_units u JOIN order_items i ON i.id = u.item_id
                      WHERE u.order_id = o.id AND u.status = 'delivered'), 0)::bigint AS delivered,
           COALESCE((SELECT sum(t.amount_minor) FILTER (WHERE t.kind = 'hold') FROM ledger_transactions t WHERE t.order_id = o.id), 0)::bigint AS held,
           COALESCE((SELECT sum(t.amount_minor) FILTER (WHERE t.kind = 'capture') FROM ledger_transactions t WHERE t.order_id = o.id), 0)::bigint AS captured,
           COALESCE((SELECT sum(t.amount_minor) FILTER (WHERE t.kind = 'release') FROM ledger_transactions t WHERE t.order_id = o.id), 0)::bigint AS released,
           COALESCE((SELECT sum(t.amount_minor) FILTER (WHERE t.kind = 'refund') FROM ledger_transactions t WHERE t.order_id = o.id), 0)::bigint AS refunded,
           p.status::text AS pay_status, COALESCE(p.captured_minor, 0) AS pay_captured,
           COALESCE(p.refunded_minor, 0) AS pay_refunded,
           p.provider_captured_minor AS reported_captured, p.provider_refunded_minor AS reported_refunded,
           (SELECT count(*) FROM payment_operations op
             WHERE op.payment_id = p.id AND op.kind = 'refund' AND op.status <> 'succeeded') AS refunds_unsent
      FROM orders o LEFT JOIN provider_payments p ON p.order_id = o.id
     WHERE o.created_at >= ${range.from} AND o.created_at < ${range.to}
       AND o.status IN ('delivered', 'partially_delivered', 'refunded', 'failed', 'rejected')`;
  const mismatches: Mismatch[] = [];
  const mismatch = (kind: Mismatch['kind'], orderId: string, expected: bigint, actual: bigint) =>
    mismatches.push({ kind, orderId, expectedMinor: expected.toString(), actualMinor: actual.toString() });
  for (const o of orders) {
    const moved = o.held + o.captured + o.released + o.refunded + o.pay_captured;
    if (o.status === 'failed' || o.status === 'rejected') {
      if (moved !== 0n) mismatch('failed_order_moved_money', o.id, 0n, moved);
      continue;
    }
    // What the platform kept must be what it delivered: captures less refunds (an order
    // charged before the double-entry ledger has its debit as a capture, and a refund back),
    // on the ledger or at the provider.
    const kept = o.captured - o.refunded + o.pay_captured - o.pay_refunded;
    if (kept !== o.delivered) mismatch('capture_not_delivered_value', o.id, o.delivered, kept);
    if (o.pay_status !== null) {
      if (o.pay_status !== 'captured' && o.pay_status !== 'voided') {
        mismatch('provider_payment_unsettled', o.id, 0n, o.pay_captured);
      }
      if (o.refunds_unsent > 0n) mismatch('provider_refund_pending', o.id, 0n, o.refunds_unsent);
      if (o.reported_captured !== null && o.reported_captured !== o.pay_captured) {
        mismatch('provider_capture_differs', o.id, o.pay_captured, o.reported_captured);
      }
      if (o.reported_refunded !== null && o.reported_refunded !== o.pay_refunded) {
        mismatch('provider_refund_differs', o.id, o.pay_refunded, o.reported_refunded);
      }
    }
    // A hold comes back in full but for what was captured.
    if (o.held > 0n && o.released !== o.held - o.captured)
      mismatch('rest_not_returned', o.id, o.held - o.captured, o.released);
  }
  const unbalanced = await db.$queryRaw<{ id: bigint; sum: bigint }[]>`
    SELECT t.id, sum(p.amount_minor)::bigint AS sum FROM ledger_transactions t JOIN ledger_postings p ON p.transaction_id = t.id
     WHERE t.created_at >= ${range.from} AND t.created_at < ${range.to}
     GROUP BY t.id HAVING sum(p.amount_minor) <> 0`;
  for (const t of unbalanced) {
    mismatches.push({
      kind: 'unbalanced_transaction',
      transactionId: t.id.toString(),
      expectedMinor: '0',
      actualMinor: t.sum.toString(),
    });
  }
  const drifted = await db.$queryRaw<{ id: string; balance: bigint; sum: bigint }[]>`
    SELECT a.id::text, a.balance_minor AS balance, COALESCE(sum(p.amount_minor), 0)::bigint AS sum
      FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id
     WHERE a.client_id IS NOT NULL GROUP BY a.id HAVING a.balance_minor <> COALESCE(sum(p.amount_minor), 0)`;
  for (const a of drifted) {
    mismatches.push({
      kind: 'running_balance_off',
      accountId: a.id,
      expectedMinor: a.sum.toString(),
      actualMinor: a.balance.toString(),
    });
  }
  return { orders: orders.length, mismatches };
}
