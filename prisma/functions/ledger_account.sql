-- ledger_account(p_kind, p_client, p_currency): the id of the ledger account of a kind in a
-- currency, created on first use. Client kinds (client_available, client_held) are one per
-- client; platform kinds (platform_revenue, platform_funding) one per currency, p_client
-- ignored.
--
-- Locks: none it asks for. Two first uses at once both insert: the second waits on the
-- unique index (ledger_accounts_client_key, _platform_key) until the first commits, does
-- nothing (ON CONFLICT DO NOTHING) and reads the first's row.
--
-- Returns the account's id.
--
-- Called by ledger_transfer.
CREATE OR REPLACE FUNCTION ledger_account(p_kind ledger_account_kind, p_client uuid, p_currency text)
RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  owner uuid := CASE WHEN p_kind IN ('client_available', 'client_held') THEN p_client END;
  found_id uuid;
BEGIN
  SELECT id INTO found_id FROM ledger_accounts
   WHERE kind = p_kind AND client_id IS NOT DISTINCT FROM owner AND currency = p_currency;
  IF found_id IS NULL THEN
    INSERT INTO ledger_accounts (id, kind, client_id, currency) VALUES (gen_random_uuid(), p_kind, owner, p_currency)
      ON CONFLICT DO NOTHING;
    SELECT id INTO found_id FROM ledger_accounts
     WHERE kind = p_kind AND client_id IS NOT DISTINCT FROM owner AND currency = p_currency;
  END IF;
  RETURN found_id;
END;
$$;
