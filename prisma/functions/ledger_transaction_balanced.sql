-- ledger_transaction_balanced(): the trigger function of ledger_postings_balanced, a
-- constraint trigger after each insert into ledger_postings, DEFERRABLE INITIALLY DEFERRED:
-- when the database transaction commits, the postings of the inserted row's ledger
-- transaction must sum to zero, or the commit fails with 23514 (check_violation) 'ledger
-- transaction <id> does not balance'. ledger_transfer always writes two that balance; this
-- refuses a posting written any other way.
--
-- Locks: none. Returns NULL (an AFTER trigger's result is ignored).
--
-- Used by the trigger ledger_postings_balanced (a migration's, 20261129052134_double_entry_ledger:
-- triggers are schema).
CREATE OR REPLACE FUNCTION ledger_transaction_balanced()
RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT sum(amount_minor) FROM ledger_postings WHERE transaction_id = NEW.transaction_id) <> 0 THEN
    RAISE EXCEPTION 'ledger transaction % does not balance', NEW.transaction_id USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END;
$$;
