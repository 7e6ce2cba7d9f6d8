-- ledger_transfer(p_kind, p_key, p_client, p_order, p_currency, p_amount, p_from, p_to,
-- p_actor): all money moves through here. Moves p_amount from the account of kind p_from to
-- the one of kind p_to (the client's or the platform's, see ledger_account) as one ledger
-- transaction of kind p_kind with two postings that sum to zero, once under the idempotency
-- key p_key. A client account carries its running balance (on the account and on each
-- posting); a platform account does not (balance_after_minor NULL), or every capture would
-- wait on one hot row.
--
-- Locks, in order: a transaction-scoped advisory lock on p_key (two calls with one key run one
-- after the other, and the second finds the first's transaction), then the client accounts
-- among the two, in id order (FOR UPDATE: a hold and a release of one client cannot deadlock).
-- Platform accounts are not locked.
--
-- Returns one row (transaction_id, created, sufficient):
--   the key used before: that transaction, created false, whatever it moved (the caller
--     compares: store/ledger.ts topUp answers a conflict);
--   p_amount <= 0: (NULL, false, true), no transaction;
--   a client account that does not cover what leaves it: (NULL, false, false), no transaction
--     (the account's CHECK would refuse it anyway);
--   otherwise the new transaction, created and sufficient.
--
-- Called by begin_order (hold), settle_order_money (capture, release, refund),
-- store/ledger.ts topUp (topup) and store/payments.ts (a delivered unit's refund to the balance).
CREATE OR REPLACE FUNCTION ledger_transfer(
  p_kind ledger_transaction_kind, p_key text, p_client uuid, p_order uuid, p_currency text, p_amount bigint,
  p_from ledger_account_kind, p_to ledger_account_kind, p_actor uuid)
RETURNS TABLE (transaction_id bigint, created boolean, sufficient boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  existing bigint;
  from_acc uuid;
  to_acc uuid;
  from_bal bigint;
  to_bal bigint;
  tx bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_key, 0));
  SELECT t.id INTO existing FROM ledger_transactions t WHERE t.idempotency_key = p_key;
  IF existing IS NOT NULL THEN
    RETURN QUERY SELECT existing, false, true;
    RETURN;
  END IF;
  IF p_amount <= 0 THEN
    RETURN QUERY SELECT NULL::bigint, false, true;
    RETURN;
  END IF;
  from_acc := ledger_account(p_from, p_client, p_currency);
  to_acc := ledger_account(p_to, p_client, p_currency);
  -- Client accounts locked in id order before either balance changes.
  PERFORM 1 FROM ledger_accounts a WHERE a.id IN (from_acc, to_acc) AND a.client_id IS NOT NULL ORDER BY a.id FOR UPDATE;
  IF p_from IN ('client_available', 'client_held') THEN
    -- Takes the money only if it is there: no row updated means not enough.
    UPDATE ledger_accounts a SET balance_minor = a.balance_minor - p_amount, updated_at = now()
     WHERE a.id = from_acc AND a.balance_minor >= p_amount RETURNING a.balance_minor INTO from_bal;
    IF from_bal IS NULL THEN
      RETURN QUERY SELECT NULL::bigint, false, false;
      RETURN;
    END IF;
  END IF;
  IF p_to IN ('client_available', 'client_held') THEN
    UPDATE ledger_accounts a SET balance_minor = a.balance_minor + p_amount, updated_at = now()
     WHERE a.id = to_acc RETURNING a.balance_minor INTO to_bal;
  END IF;
  INSERT INTO ledger_transactions (kind, idempotency_key, client_id, order_id, currency, amount_minor, actor_client_id)
    VALUES (p_kind, p_key, p_client, p_order, p_currency, p_amount, p_actor) RETURNING id INTO tx;
  INSERT INTO ledger_postings (transaction_id, account_id, amount_minor, balance_after_minor)
    VALUES (tx, from_acc, -p_amount, from_bal), (tx, to_acc, p_amount, to_bal);
  RETURN QUERY SELECT tx, true, true;
END;
$$;
