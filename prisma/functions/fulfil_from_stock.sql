-- fulfil_from_stock(p_order, p_claim_nonce, p_claim_token_hash): an own-stock order's
-- reservation and delivery in one round trip and one workflow step: reserve_order_keys, then,
-- when no unit is missing a key, deliver_order. The two keep their own jobs; inside this
-- function each statement of theirs sees a fresh snapshot, after the other's effects, as when
-- they were separate calls. A retry finds the order delivered and does nothing more.
--
-- Locks: reserve_order_keys' (the order row, then the keys it claims, skipping locked ones),
-- then deliver_order's (the order row again, its units and keys, the money).
--
-- Returns one row (reserved, missing, delivered): reserve_order_keys' two, and whether this
-- call delivered the order (false when a unit is missing a key, or an earlier attempt
-- delivered it).
--
-- Called by store/orders/fulfilment.ts fulfilFromStock, the order workflow's fulfil-from-stock
-- step (activities/orders.ts; docs/workflow-changes.md, order workflow version 2).
CREATE OR REPLACE FUNCTION fulfil_from_stock(p_order uuid, p_claim_nonce text, p_claim_token_hash text)
RETURNS TABLE (reserved integer, missing text[], delivered boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  r record;
BEGIN
  SELECT * INTO r FROM reserve_order_keys(p_order);
  IF cardinality(r.missing) > 0 THEN
    RETURN QUERY SELECT r.reserved, r.missing, false;
    RETURN;
  END IF;
  RETURN QUERY SELECT r.reserved, r.missing, deliver_order(p_order, p_claim_nonce, p_claim_token_hash);
END;
$$;
