-- refuse_change(): the trigger function that makes a table append-only in the database, not
-- only in code. As a BEFORE UPDATE OR DELETE row trigger it refuses every update and delete
-- with 42501 (insufficient_privilege) 'table <name> is append-only'; inserts are untouched.
--
-- Locks: none. Returns nothing: it always raises.
--
-- Used by the triggers audit_log_append_only, order_status_history_append_only,
-- ledger_transactions_append_only and ledger_postings_append_only (created by migrations:
-- triggers are schema).
CREATE OR REPLACE FUNCTION refuse_change()
RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
