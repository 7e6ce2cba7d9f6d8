-- reserve_order_keys(p_order): binds one available card key to each pending unit of a
-- fulfilling order, all units at once, the oldest keys of each product first.
--
-- Acts only on a fulfilling order; a unit that holds a key keeps it, so a retry gets the same
-- keys and claims no more.
--
-- Locks, in order: the order row (FOR UPDATE), then the keys it claims, FOR UPDATE SKIP
-- LOCKED: a key another transaction holds is passed over, never waited for, so concurrent
-- orders neither wait on nor take each other's keys and no key is bound to two units. The
-- order lock serialises two attempts of one order, and an attempt racing the order's release
-- (store/orders/fulfilment.ts closeUnfulfilled locks the order first too).
--
-- Returns one row (reserved, missing): how many of the order's units hold a key, and the ids
-- (as text) of its pending units still without one, out of stock. For an order that is not
-- fulfilling the same two, with nothing reserved.
--
-- Called by fulfil_from_stock, and store/inventory.ts reserveKeysForOrder (the order
-- workflow's reserve step when it does not take the short path, activities/orders.ts).
CREATE OR REPLACE FUNCTION reserve_order_keys(p_order uuid)
RETURNS TABLE (reserved integer, missing text[])
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  current_status order_status;
BEGIN
  SELECT o.status INTO current_status FROM orders o WHERE o.id = p_order FOR UPDATE;
  IF current_status = 'fulfilling' THEN
    -- The n-th pending unit of a product gets the n-th key claimed for it.
    WITH pending AS (
      SELECT u.id, u.product_id, row_number() OVER (PARTITION BY u.product_id ORDER BY u.created_at, u.id) AS rn
        FROM order_units u WHERE u.order_id = p_order AND u.status = 'pending'
    ), wanted AS (
      SELECT product_id, count(*) AS n FROM pending GROUP BY product_id
    ), claimed AS (
      -- As many keys as the product's units want, oldest first, passing over locked ones.
      SELECT k.id, w.product_id, row_number() OVER (PARTITION BY w.product_id ORDER BY k.created_at, k.id) AS rn
        FROM wanted w CROSS JOIN LATERAL (
          SELECT c.id, c.created_at FROM card_keys c
           WHERE c.product_id = w.product_id AND c.status = 'available'
           ORDER BY c.created_at LIMIT w.n
             FOR UPDATE SKIP LOCKED) k
    ), bound AS (
      -- Fewer keys than units (out of stock): the units without a partner stay pending.
      UPDATE order_units u SET card_key_id = c.id, status = 'reserved', source = 'inventory'
        FROM pending p JOIN claimed c USING (product_id, rn)
       WHERE u.id = p.id
      RETURNING u.id, u.card_key_id
    )
    UPDATE card_keys k SET status = 'reserved', reserved_by_unit_id = bound.id, reserved_at = now()
      FROM bound WHERE k.id = bound.card_key_id;
  END IF;
  RETURN QUERY
    SELECT (count(*) FILTER (WHERE u.card_key_id IS NOT NULL))::integer,
           COALESCE(array_agg(u.id::text) FILTER (WHERE u.card_key_id IS NULL AND u.status = 'pending'), '{}')
      FROM order_units u WHERE u.order_id = p_order;
END;
$$;
