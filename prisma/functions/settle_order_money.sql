-- settle_order_money(p_order, p_capture, p_release_key): the money side of ending an order,
-- in the caller's transaction, which holds the order's row lock. p_capture is what was
-- delivered, in minor units.
--   An order held from the balance (its ledger transaction under 'order:<id>:debit' is a
--     hold): p_capture is captured (client held → platform revenue, under
--     'order:<id>:capture') and the rest released (held → available, under p_release_key).
--   An order the single-entry ledger debited before the double-entry migration (its debit
--     became a capture under the same key): the undelivered rest is refunded (revenue →
--     available, under p_release_key).
--   An order paid through a provider with its payment authorized: the payment becomes
--     settling with capture_due_minor = p_capture (0 voids the authorization); the provider
--     call follows outside the transaction, under the order's idempotency keys. A payment in
--     any other status is left as it is.
-- Every transfer has a fixed key, so a second call moves nothing more.
--
-- Locks: ledger_transfer's (the advisory key lock, the client's accounts in id order), or the
-- provider payment row (by its UPDATE).
--
-- Returns whether the order had been charged: a ledger hold or debit, or a provider payment
-- now settling, captured or voided. False when nothing was charged (no ledger charge and a
-- payment pending, declined or absent).
--
-- Called by deliver_order (the whole amount), and store/ledger.ts settleOrderMoneyInTx from
-- store/orders/fulfilment.ts: an order closed unfulfilled (0) or partly delivered (what was).
CREATE OR REPLACE FUNCTION settle_order_money(p_order uuid, p_capture bigint, p_release_key text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  charge record;
BEGIN
  SELECT t.kind, t.client_id, t.currency, t.amount_minor INTO charge
    FROM ledger_transactions t
   WHERE t.order_id = p_order AND t.kind IN ('hold', 'capture') AND t.idempotency_key = 'order:' || p_order || ':debit';
  IF NOT FOUND THEN
    UPDATE provider_payments SET status = 'settling', capture_due_minor = p_capture, updated_at = now()
     WHERE order_id = p_order AND status = 'authorized';
    RETURN EXISTS (SELECT 1 FROM provider_payments
                    WHERE order_id = p_order AND status IN ('settling', 'captured', 'voided'));
  END IF;
  IF charge.kind = 'hold' THEN
    IF p_capture > 0 THEN
      PERFORM ledger_transfer('capture', 'order:' || p_order || ':capture', charge.client_id, p_order,
                              charge.currency, p_capture, 'client_held', 'platform_revenue', NULL);
    END IF;
    IF charge.amount_minor > p_capture THEN
      PERFORM ledger_transfer('release', p_release_key, charge.client_id, p_order, charge.currency,
                              charge.amount_minor - p_capture, 'client_held', 'client_available', NULL);
    END IF;
  ELSE
    PERFORM ledger_transfer('refund', p_release_key, charge.client_id, p_order, charge.currency,
                            charge.amount_minor - p_capture, 'platform_revenue', 'client_available', NULL);
  END IF;
  RETURN true;
END;
$$;
