-- Hand-written: the order's hot steps as database functions, each one round trip from the
-- worker, with its statements' plans cached per connection (a parameterised statement sent
-- from the application is planned again on every call: milliseconds for these CTEs).
-- Inside a function each statement sees a fresh snapshot, so a step can take its row locks
-- first and read after them. Every function acts only from the status it expects, so a
-- retried, replayed or stale call finds its own earlier effect, or a later status, and does
-- nothing more. Changing one means a new migration with CREATE OR REPLACE FUNCTION.
-- Semicolons inside bodies (and anywhere, comments included) are written \073: Prisma's JS
-- migration runner splits the file at every one.

-- begin_order: charging needs the order's and the
-- client's row locks *before* the balance is read (so concurrent debits cannot overdraw and
-- concurrent attempts of one order cannot debit twice): in a single SQL statement the
-- snapshot predates the lock, while in a function each statement after the lock sees a fresh one.
-- received → fulfilling with the amount debited under p_debit_key, or received → failed
-- when the balance is short. Any other status is returned as it is (a retry finds its own
-- earlier effect). Semicolons are written \073: Prisma's JS runner splits at every one.
CREATE FUNCTION begin_order(p_order uuid, p_debit_key text)
RETURNS TABLE (status order_status, reason text, units integer, notify boolean, moved boolean)
LANGUAGE plpgsql AS E'
#variable_conflict use_column
DECLARE
  o record\073
  available bigint\073
BEGIN
  SELECT ord.status, ord.status_reason, ord.client_id, ord.amount_minor, ord.currency,
         (ord.callback_url IS NOT NULL OR c.webhook_url IS NOT NULL) AS notify,
         (SELECT count(*) FROM order_units u WHERE u.order_id = ord.id)::integer AS units
    INTO o
    FROM orders ord JOIN clients c ON c.id = ord.client_id
   WHERE ord.id = p_order
     FOR UPDATE\073
  IF NOT FOUND THEN
    RETURN\073
  END IF\073
  IF o.status <> ''received'' THEN
    RETURN QUERY SELECT o.status, o.status_reason, o.units, o.notify, false\073
    RETURN\073
  END IF\073
  SELECT COALESCE(SUM(l.amount_minor), 0) INTO available
    FROM ledger_entries l WHERE l.client_id = o.client_id AND l.currency = o.currency\073
  IF available < o.amount_minor THEN
    UPDATE orders SET status = ''failed'', status_reason = ''insufficient balance'', updated_at = now()
     WHERE id = p_order\073
    INSERT INTO order_status_history (order_id, status, reason) VALUES (p_order, ''failed'', ''insufficient balance'')\073
    RETURN QUERY SELECT ''failed''::order_status, ''insufficient balance''::text, o.units, o.notify, true\073
    RETURN\073
  END IF\073
  INSERT INTO ledger_entries (client_id, kind, amount_minor, currency, order_id, idempotency_key)
    VALUES (o.client_id, ''order_debit'', -o.amount_minor, o.currency, p_order, p_debit_key)\073
  UPDATE orders SET status = ''fulfilling'', status_reason = NULL, updated_at = now() WHERE id = p_order\073
  INSERT INTO order_status_history (order_id, status) VALUES (p_order, ''fulfilling'')\073
  RETURN QUERY SELECT ''fulfilling''::order_status, NULL::text, o.units, o.notify, true\073
END\073';

-- reserve_order_keys: binds one available key to each pending unit of a fulfilling order,
-- all units at once, keys claimed FOR UPDATE SKIP LOCKED (concurrent orders never wait on,
-- or take, each other's keys). The order row is locked first: two attempts of one order,
-- or an attempt racing the order's release, run one after the other. Returns how many units
-- hold a key and the ids of those that still do not (out of stock).
CREATE FUNCTION reserve_order_keys(p_order uuid)
RETURNS TABLE (reserved integer, missing text[])
LANGUAGE plpgsql AS E'
#variable_conflict use_column
DECLARE
  current_status order_status\073
BEGIN
  SELECT o.status INTO current_status FROM orders o WHERE o.id = p_order FOR UPDATE\073
  IF current_status = ''fulfilling'' THEN
    WITH pending AS (
      SELECT u.id, u.product_id, row_number() OVER (PARTITION BY u.product_id ORDER BY u.created_at, u.id) AS rn
        FROM order_units u WHERE u.order_id = p_order AND u.status = ''pending''
    ), wanted AS (
      SELECT product_id, count(*) AS n FROM pending GROUP BY product_id
    ), claimed AS (
      SELECT k.id, w.product_id, row_number() OVER (PARTITION BY w.product_id ORDER BY k.created_at, k.id) AS rn
        FROM wanted w CROSS JOIN LATERAL (
          SELECT c.id, c.created_at FROM card_keys c
           WHERE c.product_id = w.product_id AND c.status = ''available''
           ORDER BY c.created_at LIMIT w.n
             FOR UPDATE SKIP LOCKED) k
    ), bound AS (
      UPDATE order_units u SET card_key_id = c.id, status = ''reserved'', source = ''inventory''
        FROM pending p JOIN claimed c USING (product_id, rn)
       WHERE u.id = p.id
      RETURNING u.id, u.card_key_id
    )
    UPDATE card_keys k SET status = ''reserved'', reserved_by_unit_id = bound.id, reserved_at = now()
      FROM bound WHERE k.id = bound.card_key_id\073
  END IF\073
  RETURN QUERY
    SELECT (count(*) FILTER (WHERE u.card_key_id IS NOT NULL))::integer,
           COALESCE(array_agg(u.id::text) FILTER (WHERE u.card_key_id IS NULL AND u.status = ''pending''), ''{}'')
      FROM order_units u WHERE u.order_id = p_order\073
END\073';

-- deliver_order: fulfilling → delivered once every unit holds a key: the units and their
-- keys become delivered and the order gets its claim token (kept if it has one).
CREATE FUNCTION deliver_order(p_order uuid, p_claim_nonce text, p_claim_token_hash text)
RETURNS boolean
LANGUAGE plpgsql AS E'
#variable_conflict use_column
BEGIN
  UPDATE orders SET status = ''delivered'', status_reason = NULL, updated_at = now(),
         claim_nonce = COALESCE(claim_nonce, p_claim_nonce),
         claim_token_hash = COALESCE(claim_token_hash, p_claim_token_hash)
   WHERE id = p_order AND status = ''fulfilling''
     AND NOT EXISTS (SELECT 1 FROM order_units WHERE order_id = p_order AND status <> ''reserved'')\073
  IF NOT FOUND THEN
    RETURN false\073
  END IF\073
  WITH units AS (
    UPDATE order_units SET status = ''delivered'' WHERE order_id = p_order AND status = ''reserved'' RETURNING card_key_id
  )
  UPDATE card_keys SET status = ''delivered'', delivered_at = now()
   WHERE id IN (SELECT card_key_id FROM units) AND status = ''reserved''\073
  INSERT INTO order_status_history (order_id, status) VALUES (p_order, ''delivered'')\073
  RETURN true\073
END\073';
