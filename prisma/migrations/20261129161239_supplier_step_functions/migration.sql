-- Hand-written: a supplier's sale bound to its unit in one round trip (see
-- store/suppliers/sourcing.ts, recordObtained), as the order steps were folded into
-- functions. It was an interactive transaction of five statements through Prisma. Same
-- rules: the order and unit rows are locked first (the order's other steps lock the order
-- too), and the sale is bound only to a pending unit of a fulfilling order or to a pending
-- replacement unit. The key arrives sealed (its plaintext never reaches the database), or
-- with the reason it was unusable. Every outcome is recorded as an attempt on the unit.
CREATE FUNCTION bind_supplier_sale(
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
  p_fingerprint text
)
RETURNS TABLE (kind text, detail text)
LANGUAGE plpgsql AS E'
#variable_conflict use_column
DECLARE
  r record\073
  v_key uuid\073
  v_problem text\073
BEGIN
  SELECT u.status::text AS status, u.supplier_id, o.status::text AS order_status, u.product_id,
         p.kind::text AS product_kind, u.replaces_unit_id IS NOT NULL AS replacement
    INTO r
    FROM orders o JOIN order_units u ON u.order_id = o.id JOIN products p ON p.id = u.product_id
   WHERE u.id = p_unit
     FOR UPDATE OF o, u\073
  IF NOT FOUND THEN
    RETURN QUERY SELECT ''unit_closed''::text, NULL::text\073
    RETURN\073
  END IF\073
  IF r.status <> ''pending'' AND r.supplier_id = p_supplier THEN
    RETURN QUERY SELECT ''already''::text, NULL::text\073
    RETURN\073
  END IF\073
  IF r.status <> ''pending'' OR (r.order_status <> ''fulfilling'' AND NOT r.replacement) THEN
    INSERT INTO sourcing_attempts (unit_id, supplier_id, source, outcome, detail, latency_ms, cost_minor)
    VALUES (p_unit, p_supplier, p_source, ''failed'', ''sold after the unit moved on'', p_latency_ms, p_cost_minor)\073
    RETURN QUERY SELECT ''unit_closed''::text, NULL::text\073
    RETURN\073
  END IF\073
  IF r.product_kind = ''card_key'' THEN
    v_problem := p_key_problem\073
    IF v_problem IS NULL THEN
      IF p_product IS DISTINCT FROM r.product_id OR p_ciphertext IS NULL THEN
        RAISE EXCEPTION ''bind_supplier_sale: the key was not sealed for the unit product %'', r.product_id\073
      END IF\073
      -- ON CONFLICT, not an error: a duplicate must not abort the transaction the attempt is recorded in.
      INSERT INTO card_keys (id, product_id, source_supplier_id, ciphertext, encryption_key_id, fingerprint, status,
                             reserved_by_unit_id, reserved_at)
      VALUES (gen_random_uuid(), r.product_id, p_supplier, p_ciphertext, p_encryption_key_id, p_fingerprint,
              ''reserved'', p_unit, now())
      ON CONFLICT DO NOTHING
      RETURNING id INTO v_key\073
      IF v_key IS NULL THEN
        v_problem := ''supplier sent a key the platform already has''\073
      END IF\073
    END IF\073
    IF v_problem IS NOT NULL THEN
      INSERT INTO sourcing_attempts (unit_id, supplier_id, source, outcome, detail, latency_ms, cost_minor)
      VALUES (p_unit, p_supplier, p_source, ''invalid_key'', v_problem, p_latency_ms, p_cost_minor)\073
      RETURN QUERY SELECT ''invalid_key''::text, v_problem\073
      RETURN\073
    END IF\073
  END IF\073
  UPDATE order_units
     SET status = ''reserved'', source = ''supplier'', supplier_id = p_supplier, supplier_ref = p_transaction_id,
         cost_minor = p_cost_minor, card_key_id = v_key
   WHERE id = p_unit\073
  INSERT INTO sourcing_attempts (unit_id, supplier_id, source, outcome, detail, latency_ms, cost_minor)
  VALUES (p_unit, p_supplier, p_source, p_outcome, p_detail, p_latency_ms, p_cost_minor)\073
  RETURN QUERY SELECT ''obtained''::text, NULL::text\073
END\073';
