-- bind_supplier_sale(p_unit, p_supplier, p_source, p_outcome, p_detail, p_latency_ms,
-- p_transaction_id, p_cost_minor, p_key_problem, p_product, p_ciphertext, p_encryption_key_id,
-- p_fingerprint): a supplier's sale bound to its unit in one round trip. The unit becomes
-- reserved with the supplier, its transaction id and cost; a card key is stored as reserved by
-- the unit, sealed (its plaintext never reaches the database: the caller checks the key,
-- p_key_problem saying why it is unusable, and seals it for p_product). Every outcome but
-- 'already' is recorded as a sourcing attempt on the unit.
--
-- A sale binds only to a pending unit of a fulfilling order, or to a pending replacement unit
-- (a compensation's reissue, whose order was delivered).
--
-- Locks, in order: the order row, then the unit row (FOR UPDATE OF o, u): the order's other
-- steps lock the order first too. Then the new key's unique fingerprint, without waiting for
-- an error (ON CONFLICT DO NOTHING: a duplicate must not abort the caller's transaction).
--
-- Returns one row (kind, detail):
--   obtained: bound now (attempt p_outcome, p_detail);
--   already: the unit is past pending and holds this supplier's sale (a retry, or a second
--     key for the unit), nothing written;
--   unit_closed: no such unit (nothing written), or it holds another supplier's sale, was
--     released or refunded, or its order is not fulfilling (attempt 'failed', 'sold after the
--     unit moved on'): the sale is not used;
--   invalid_key: the key is unusable (p_key_problem) or the platform already holds it
--     (detail 'supplier sent a key the platform already has'); attempt 'invalid_key', the
--     unit stays pending.
-- Raises when a card key comes without a ciphertext or sealed for another product than the
-- unit's: a bug of the caller, not of the supplier.
--
-- Called by store/suppliers/sourcing.ts recordObtained: a purchase's answer or lookup
-- (activities/suppliers/sourcing.ts) and a supplier's callback.
CREATE OR REPLACE FUNCTION bind_supplier_sale(
  p_unit uuid,
  p_supplier uuid,
  p_source text,
  p_outcome text,
  p_detail text,
  p_latency_ms integer,
  p_transaction_id text,
  p_cost_minor integer,
  p_key_problem text,
  p_product uuid,
  p_ciphertext text,
  p_encryption_key_id text,
  p_fingerprint text)
RETURNS TABLE (kind text, detail text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  r record;
  v_key uuid;
  v_problem text;
BEGIN
  SELECT u.status::text AS status, u.supplier_id, o.status::text AS order_status, u.product_id,
         p.kind::text AS product_kind, u.replaces_unit_id IS NOT NULL AS replacement
    INTO r
    FROM orders o JOIN order_units u ON u.order_id = o.id JOIN products p ON p.id = u.product_id
   WHERE u.id = p_unit
     FOR UPDATE OF o, u;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'unit_closed'::text, NULL::text;
    RETURN;
  END IF;
  IF r.status <> 'pending' AND r.supplier_id = p_supplier THEN
    RETURN QUERY SELECT 'already'::text, NULL::text;
    RETURN;
  END IF;
  IF r.status <> 'pending' OR (r.order_status <> 'fulfilling' AND NOT r.replacement) THEN
    INSERT INTO sourcing_attempts (unit_id, supplier_id, source, outcome, detail, latency_ms, cost_minor)
    VALUES (p_unit, p_supplier, p_source, 'failed', 'sold after the unit moved on', p_latency_ms, p_cost_minor);
    RETURN QUERY SELECT 'unit_closed'::text, NULL::text;
    RETURN;
  END IF;
  IF r.product_kind = 'card_key' THEN
    v_problem := p_key_problem;
    IF v_problem IS NULL THEN
      IF p_product IS DISTINCT FROM r.product_id OR p_ciphertext IS NULL THEN
        RAISE EXCEPTION 'bind_supplier_sale: the key was not sealed for the unit product %', r.product_id;
      END IF;
      -- ON CONFLICT, not an error: a duplicate must not abort the transaction the attempt is recorded in.
      INSERT INTO card_keys (id, product_id, source_supplier_id, ciphertext, encryption_key_id, fingerprint, status,
                             reserved_by_unit_id, reserved_at)
      VALUES (gen_random_uuid(), r.product_id, p_supplier, p_ciphertext, p_encryption_key_id, p_fingerprint,
              'reserved', p_unit, now())
      ON CONFLICT DO NOTHING
      RETURNING id INTO v_key;
      IF v_key IS NULL THEN
        v_problem := 'supplier sent a key the platform already has';
      END IF;
    END IF;
    IF v_problem IS NOT NULL THEN
      INSERT INTO sourcing_attempts (unit_id, supplier_id, source, outcome, detail, latency_ms, cost_minor)
      VALUES (p_unit, p_supplier, p_source, 'invalid_key', v_problem, p_latency_ms, p_cost_minor);
      RETURN QUERY SELECT 'invalid_key'::text, v_problem;
      RETURN;
    END IF;
  END IF;
  UPDATE order_units
     SET status = 'reserved', source = 'supplier', supplier_id = p_supplier, supplier_ref = p_transaction_id,
         cost_minor = p_cost_minor, card_key_id = v_key
   WHERE id = p_unit;
  INSERT INTO sourcing_attempts (unit_id, supplier_id, source, outcome, detail, latency_ms, cost_minor)
  VALUES (p_unit, p_supplier, p_source, p_outcome, p_detail, p_latency_ms, p_cost_minor);
  RETURN QUERY SELECT 'obtained'::text, NULL::text;
END;
$$;
