-- begin_order(p_order, p_debit_key): an order's charge, received → fulfilling or → failed.
--
-- An order paid from the balance has its amount held (the client's available money moved to
-- held by ledger_transfer, once, under p_debit_key, the workflow's key for the charge) and
-- becomes fulfilling, or fails with 'insufficient balance' when available does not cover it.
-- An order paid through a provider (payment_method <> 'balance') becomes fulfilling once its
-- provider payment is authorized, fails once it is declined ('payment declined: <reason>'),
-- and stays received until then, which tells the workflow to authorize first. Any status but
-- received is answered as it is: a retried, replayed or stale call finds its own earlier
-- effect, or a later status, and does nothing more.
--
-- Locks, in order: the order row (FOR UPDATE OF ord), then, for a balance order, what
-- ledger_transfer takes (the advisory lock on p_debit_key, the client's two accounts in id
-- order). The order first: two attempts of one order run one after the other and the second
-- finds it fulfilling. The balance is read after the account lock, by a statement with a
-- fresh snapshot, which one SQL statement could not do (its snapshot predates its locks):
-- why this is a function. The account row's lock and its CHECK serialise concurrent orders of
-- one client, so available never goes negative.
--
-- Returns one row (status, reason, units, notify, moved): the order's status and reason after
-- the call, its number of units, whether anyone is to be told of the outcome (the order's
-- callback_url or its client's webhook_url) and whether this call moved the order. No row
-- when the order does not exist.
--
-- Called by store/orders/fulfilment.ts beginOrder (plain pg through sqlOf: one round trip),
-- the order workflow's admit and charging steps (activities/orders.ts).
CREATE OR REPLACE FUNCTION begin_order(p_order uuid, p_debit_key text)
RETURNS TABLE (status order_status, reason text, units integer, notify boolean, moved boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  o record;
  held record;
  pay record;
BEGIN
  SELECT ord.status, ord.status_reason, ord.client_id, ord.amount_minor, ord.currency, ord.payment_method,
         (ord.callback_url IS NOT NULL OR c.webhook_url IS NOT NULL) AS notify,
         (SELECT count(*) FROM order_units u WHERE u.order_id = ord.id)::integer AS units
    INTO o
    FROM orders ord JOIN clients c ON c.id = ord.client_id
   WHERE ord.id = p_order
     FOR UPDATE OF ord;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF o.status <> 'received' THEN
    RETURN QUERY SELECT o.status, o.status_reason, o.units, o.notify, false;
    RETURN;
  END IF;
  IF o.payment_method <> 'balance' THEN
    SELECT p.status, p.decline_reason INTO pay FROM provider_payments p WHERE p.order_id = p_order;
    IF pay.status = 'declined' THEN
      UPDATE orders SET status = 'failed', status_reason = 'payment declined: ' || pay.decline_reason, updated_at = now()
       WHERE id = p_order;
      INSERT INTO order_status_history (order_id, status, reason)
      VALUES (p_order, 'failed', 'payment declined: ' || pay.decline_reason);
      RETURN QUERY SELECT 'failed'::order_status, ('payment declined: ' || pay.decline_reason)::text, o.units, o.notify, true;
      RETURN;
    END IF;
    IF pay.status IS DISTINCT FROM 'authorized' THEN
      RETURN QUERY SELECT 'received'::order_status, NULL::text, o.units, o.notify, false;
      RETURN;
    END IF;
  ELSE
    SELECT * INTO held FROM ledger_transfer('hold', p_debit_key, o.client_id, p_order, o.currency, o.amount_minor,
                                            'client_available', 'client_held', NULL);
    IF NOT held.sufficient THEN
      UPDATE orders SET status = 'failed', status_reason = 'insufficient balance', updated_at = now()
       WHERE id = p_order;
      INSERT INTO order_status_history (order_id, status, reason) VALUES (p_order, 'failed', 'insufficient balance');
      RETURN QUERY SELECT 'failed'::order_status, 'insufficient balance'::text, o.units, o.notify, true;
      RETURN;
    END IF;
  END IF;
  UPDATE orders SET status = 'fulfilling', status_reason = NULL, updated_at = now() WHERE id = p_order;
  INSERT INTO order_status_history (order_id, status) VALUES (p_order, 'fulfilling');
  RETURN QUERY SELECT 'fulfilling'::order_status, NULL::text, o.units, o.notify, true;
END;
$$;
