-- Hand-written: an own-stock order's reservation and delivery in one round trip and one
-- workflow step (see workflows/order.ts, patch `lean-order-steps`). The two functions keep
-- their own jobs: reserve_order_keys binds keys to pending units, deliver_order delivers
-- once every unit holds one. Inside this function each runs with a fresh snapshot, after
-- the other's effects, as they did as separate calls. Idempotent as they are: a retry finds
-- the order delivered and does nothing more.
CREATE FUNCTION fulfil_from_stock(p_order uuid, p_claim_nonce text, p_claim_token_hash text)
RETURNS TABLE (reserved integer, missing text[], delivered boolean)
LANGUAGE plpgsql AS E'
#variable_conflict use_column
DECLARE
  r record\073
BEGIN
  SELECT * INTO r FROM reserve_order_keys(p_order)\073
  IF cardinality(r.missing) > 0 THEN
    RETURN QUERY SELECT r.reserved, r.missing, false\073
    RETURN\073
  END IF\073
  RETURN QUERY SELECT r.reserved, r.missing, deliver_order(p_order, p_claim_nonce, p_claim_token_hash)\073
END\073';
