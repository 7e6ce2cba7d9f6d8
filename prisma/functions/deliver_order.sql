-- deliver_order(p_order, p_claim_nonce, p_claim_token_hash): fulfilling → delivered once
-- every unit is reserved (holds its key or its top-up). The units and their keys become
-- delivered, the order gets its claim token (one it has already is kept), its status history
-- a row, and its money is settled for the whole amount (settle_order_money: the hold
-- captured, or a provider payment marked for capture). The claim token's secret never
-- reaches the database: the caller sends its nonce and hash.
--
-- Locks, in order: the order row (by its UPDATE, which matches only a fulfilling order with
-- no unit left unreserved), then its units and their keys, then what settle_order_money takes.
--
-- Returns whether this call delivered the order. False, with nothing written, when the order
-- is not fulfilling (delivered by an earlier attempt, closed, missing) or a unit is not
-- reserved yet.
--
-- Called by fulfil_from_stock, and store/orders/fulfilment.ts deliverOrder (the order
-- workflow's delivering step after supplier purchases, activities/orders.ts).
CREATE OR REPLACE FUNCTION deliver_order(p_order uuid, p_claim_nonce text, p_claim_token_hash text)
RETURNS boolean
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  amount bigint;
BEGIN
  UPDATE orders SET status = 'delivered', status_reason = NULL, updated_at = now(),
         claim_nonce = COALESCE(claim_nonce, p_claim_nonce),
         claim_token_hash = COALESCE(claim_token_hash, p_claim_token_hash)
   WHERE id = p_order AND status = 'fulfilling'
     AND NOT EXISTS (SELECT 1 FROM order_units WHERE order_id = p_order AND status <> 'reserved')
  RETURNING amount_minor INTO amount;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  WITH units AS (
    UPDATE order_units SET status = 'delivered' WHERE order_id = p_order AND status = 'reserved' RETURNING card_key_id
  )
  UPDATE card_keys SET status = 'delivered', delivered_at = now()
   WHERE id IN (SELECT card_key_id FROM units) AND status = 'reserved';
  INSERT INTO order_status_history (order_id, status) VALUES (p_order, 'delivered');
  PERFORM settle_order_money(p_order, amount, 'order:' || p_order || ':refund');
  RETURN true;
END;
$$;
