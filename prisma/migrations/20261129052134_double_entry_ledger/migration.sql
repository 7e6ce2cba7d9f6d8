-- CreateEnum
CREATE TYPE "ledger_account_kind" AS ENUM ('client_available', 'client_held', 'platform_revenue', 'platform_funding');

-- CreateEnum
CREATE TYPE "ledger_transaction_kind" AS ENUM ('topup', 'hold', 'capture', 'release', 'refund');

-- CreateTable
CREATE TABLE "ledger_accounts" (
    "id" UUID NOT NULL,
    "kind" "ledger_account_kind" NOT NULL,
    "client_id" UUID,
    "currency" CHAR(3) NOT NULL,
    "balance_minor" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_transactions" (
    "id" BIGSERIAL NOT NULL,
    "kind" "ledger_transaction_kind" NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "client_id" UUID,
    "order_id" UUID,
    "currency" CHAR(3) NOT NULL,
    "amount_minor" BIGINT NOT NULL,
    "actor_client_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_transactions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_postings" (
    "id" BIGSERIAL NOT NULL,
    "transaction_id" BIGINT NOT NULL,
    "account_id" UUID NOT NULL,
    "amount_minor" BIGINT NOT NULL,
    "balance_after_minor" BIGINT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_postings_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ledger_accounts_client_id_idx" ON "ledger_accounts"("client_id");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_transactions_idempotency_key_key" ON "ledger_transactions"("idempotency_key");

-- CreateIndex
CREATE INDEX "ledger_transactions_order_id_idx" ON "ledger_transactions"("order_id");

-- CreateIndex
CREATE INDEX "ledger_transactions_client_id_idx" ON "ledger_transactions"("client_id");

-- CreateIndex
CREATE INDEX "ledger_postings_account_id_id_idx" ON "ledger_postings"("account_id", "id");

-- CreateIndex
CREATE INDEX "ledger_postings_transaction_id_idx" ON "ledger_postings"("transaction_id");

-- AddForeignKey
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "clients"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_postings" ADD CONSTRAINT "ledger_postings_transaction_id_fkey" FOREIGN KEY ("transaction_id") REFERENCES "ledger_transactions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_postings" ADD CONSTRAINT "ledger_postings_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "ledger_accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- Hand-written: the double-entry ledger's rules, the order steps on it, and the migration of
-- the single-entry `ledger_entries` into it. Semicolons inside bodies are written \073
-- (Prisma's JS migration runner splits the file at every one).

-- One account per (kind, client, currency) for clients, per (kind, currency) for the platform.
CREATE UNIQUE INDEX ledger_accounts_client_key ON ledger_accounts (kind, client_id, currency) WHERE client_id IS NOT NULL;
CREATE UNIQUE INDEX ledger_accounts_platform_key ON ledger_accounts (kind, currency) WHERE client_id IS NULL;
-- A client's available or held money never goes negative, whatever the concurrency.
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_client_not_negative CHECK (client_id IS NULL OR balance_minor >= 0);
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_client_kinds
  CHECK ((client_id IS NULL) = (kind IN ('platform_revenue', 'platform_funding')));

CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
  FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Every transaction's postings sum to zero, checked when the database transaction commits.
CREATE FUNCTION ledger_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  IF (SELECT sum(amount_minor) FROM ledger_postings WHERE transaction_id = NEW.transaction_id) <> 0 THEN
    RAISE EXCEPTION ''ledger transaction % does not balance'', NEW.transaction_id USING ERRCODE = ''23514''\073
  END IF\073
  RETURN NULL\073
END\073';
CREATE CONSTRAINT TRIGGER ledger_postings_balanced AFTER INSERT ON ledger_postings
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balanced();

-- The account of a kind for a client (client kinds) or the platform, created on first use.
CREATE FUNCTION ledger_account(p_kind ledger_account_kind, p_client uuid, p_currency text)
RETURNS uuid LANGUAGE plpgsql AS E'
DECLARE
  owner uuid := CASE WHEN p_kind IN (''client_available'', ''client_held'') THEN p_client END\073
  found_id uuid\073
BEGIN
  SELECT id INTO found_id FROM ledger_accounts
   WHERE kind = p_kind AND client_id IS NOT DISTINCT FROM owner AND currency = p_currency\073
  IF found_id IS NULL THEN
    INSERT INTO ledger_accounts (id, kind, client_id, currency) VALUES (gen_random_uuid(), p_kind, owner, p_currency)
      ON CONFLICT DO NOTHING\073
    SELECT id INTO found_id FROM ledger_accounts
     WHERE kind = p_kind AND client_id IS NOT DISTINCT FROM owner AND currency = p_currency\073
  END IF\073
  RETURN found_id\073
END\073';

-- Moves p_amount from one account to another as one transaction under p_key, once: a key
-- already used returns its transaction (created = false). A client account must cover what
-- leaves it (sufficient = false, nothing written, otherwise). Client accounts are locked in
-- id order (no deadlock between a hold and a release of one client) and carry their running
-- balance, platform accounts do not (see the schema).
CREATE FUNCTION ledger_transfer(
  p_kind ledger_transaction_kind, p_key text, p_client uuid, p_order uuid, p_currency text, p_amount bigint,
  p_from ledger_account_kind, p_to ledger_account_kind, p_actor uuid)
RETURNS TABLE (transaction_id bigint, created boolean, sufficient boolean)
LANGUAGE plpgsql AS E'
#variable_conflict use_column
DECLARE
  existing bigint\073
  from_acc uuid\073
  to_acc uuid\073
  from_bal bigint\073
  to_bal bigint\073
  tx bigint\073
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_key, 0))\073
  SELECT t.id INTO existing FROM ledger_transactions t WHERE t.idempotency_key = p_key\073
  IF existing IS NOT NULL THEN
    RETURN QUERY SELECT existing, false, true\073
    RETURN\073
  END IF\073
  IF p_amount <= 0 THEN
    RETURN QUERY SELECT NULL::bigint, false, true\073
    RETURN\073
  END IF\073
  from_acc := ledger_account(p_from, p_client, p_currency)\073
  to_acc := ledger_account(p_to, p_client, p_currency)\073
  PERFORM 1 FROM ledger_accounts a WHERE a.id IN (from_acc, to_acc) AND a.client_id IS NOT NULL ORDER BY a.id FOR UPDATE\073
  IF p_from IN (''client_available'', ''client_held'') THEN
    UPDATE ledger_accounts a SET balance_minor = a.balance_minor - p_amount, updated_at = now()
     WHERE a.id = from_acc AND a.balance_minor >= p_amount RETURNING a.balance_minor INTO from_bal\073
    IF from_bal IS NULL THEN
      RETURN QUERY SELECT NULL::bigint, false, false\073
      RETURN\073
    END IF\073
  END IF\073
  IF p_to IN (''client_available'', ''client_held'') THEN
    UPDATE ledger_accounts a SET balance_minor = a.balance_minor + p_amount, updated_at = now()
     WHERE a.id = to_acc RETURNING a.balance_minor INTO to_bal\073
  END IF\073
  INSERT INTO ledger_transactions (kind, idempotency_key, client_id, order_id, currency, amount_minor, actor_client_id)
    VALUES (p_kind, p_key, p_client, p_order, p_currency, p_amount, p_actor) RETURNING id INTO tx\073
  INSERT INTO ledger_postings (transaction_id, account_id, amount_minor, balance_after_minor)
    VALUES (tx, from_acc, -p_amount, from_bal), (tx, to_acc, p_amount, to_bal)\073
  RETURN QUERY SELECT tx, true, true\073
END\073';

-- The money side of ending an order, in the caller's transaction: capture what was delivered
-- (`p_capture`, from the hold) and release the rest of the hold under `p_release_key`. An
-- order debited by the single-entry ledger before this migration (its debit became a capture
-- under the same key) gets the undelivered rest refunded instead. Returns whether the order
-- had been charged (held or debited) at all.
CREATE FUNCTION settle_order_money(p_order uuid, p_capture bigint, p_release_key text)
RETURNS boolean LANGUAGE plpgsql AS E'
DECLARE
  charge record\073
BEGIN
  SELECT t.kind, t.client_id, t.currency, t.amount_minor INTO charge
    FROM ledger_transactions t
   WHERE t.order_id = p_order AND t.kind IN (''hold'', ''capture'') AND t.idempotency_key = ''order:'' || p_order || '':debit''\073
  IF NOT FOUND THEN
    RETURN false\073
  END IF\073
  IF charge.kind = ''hold'' THEN
    IF p_capture > 0 THEN
      PERFORM ledger_transfer(''capture'', ''order:'' || p_order || '':capture'', charge.client_id, p_order,
                              charge.currency, p_capture, ''client_held'', ''platform_revenue'', NULL)\073
    END IF\073
    IF charge.amount_minor > p_capture THEN
      PERFORM ledger_transfer(''release'', p_release_key, charge.client_id, p_order, charge.currency,
                              charge.amount_minor - p_capture, ''client_held'', ''client_available'', NULL)\073
    END IF\073
  ELSE
    PERFORM ledger_transfer(''refund'', p_release_key, charge.client_id, p_order, charge.currency,
                            charge.amount_minor - p_capture, ''platform_revenue'', ''client_available'', NULL)\073
  END IF\073
  RETURN true\073
END\073';

-- begin_order now authorizes: received → fulfilling with the order's amount moved from the
-- client's available money to held (under p_debit_key, the workflow's key for the charge),
-- or received → failed when available does not cover it. The account row's lock and its
-- CHECK serialise concurrent orders of one client: available never goes negative.
CREATE OR REPLACE FUNCTION begin_order(p_order uuid, p_debit_key text)
RETURNS TABLE (status order_status, reason text, units integer, notify boolean, moved boolean)
LANGUAGE plpgsql AS E'
#variable_conflict use_column
DECLARE
  o record\073
  held record\073
BEGIN
  SELECT ord.status, ord.status_reason, ord.client_id, ord.amount_minor, ord.currency,
         (ord.callback_url IS NOT NULL OR c.webhook_url IS NOT NULL) AS notify,
         (SELECT count(*) FROM order_units u WHERE u.order_id = ord.id)::integer AS units
    INTO o
    FROM orders ord JOIN clients c ON c.id = ord.client_id
   WHERE ord.id = p_order
     FOR UPDATE OF ord\073
  IF NOT FOUND THEN
    RETURN\073
  END IF\073
  IF o.status <> ''received'' THEN
    RETURN QUERY SELECT o.status, o.status_reason, o.units, o.notify, false\073
    RETURN\073
  END IF\073
  SELECT * INTO held FROM ledger_transfer(''hold'', p_debit_key, o.client_id, p_order, o.currency, o.amount_minor,
                                          ''client_available'', ''client_held'', NULL)\073
  IF NOT held.sufficient THEN
    UPDATE orders SET status = ''failed'', status_reason = ''insufficient balance'', updated_at = now()
     WHERE id = p_order\073
    INSERT INTO order_status_history (order_id, status, reason) VALUES (p_order, ''failed'', ''insufficient balance'')\073
    RETURN QUERY SELECT ''failed''::order_status, ''insufficient balance''::text, o.units, o.notify, true\073
    RETURN\073
  END IF\073
  UPDATE orders SET status = ''fulfilling'', status_reason = NULL, updated_at = now() WHERE id = p_order\073
  INSERT INTO order_status_history (order_id, status) VALUES (p_order, ''fulfilling'')\073
  RETURN QUERY SELECT ''fulfilling''::order_status, NULL::text, o.units, o.notify, true\073
END\073';

-- deliver_order now also captures the whole hold, in the same transaction as the delivery.
CREATE OR REPLACE FUNCTION deliver_order(p_order uuid, p_claim_nonce text, p_claim_token_hash text)
RETURNS boolean
LANGUAGE plpgsql AS E'
#variable_conflict use_column
DECLARE
  amount bigint\073
BEGIN
  UPDATE orders SET status = ''delivered'', status_reason = NULL, updated_at = now(),
         claim_nonce = COALESCE(claim_nonce, p_claim_nonce),
         claim_token_hash = COALESCE(claim_token_hash, p_claim_token_hash)
   WHERE id = p_order AND status = ''fulfilling''
     AND NOT EXISTS (SELECT 1 FROM order_units WHERE order_id = p_order AND status <> ''reserved'')
  RETURNING amount_minor INTO amount\073
  IF NOT FOUND THEN
    RETURN false\073
  END IF\073
  WITH units AS (
    UPDATE order_units SET status = ''delivered'' WHERE order_id = p_order AND status = ''reserved'' RETURNING card_key_id
  )
  UPDATE card_keys SET status = ''delivered'', delivered_at = now()
   WHERE id IN (SELECT card_key_id FROM units) AND status = ''reserved''\073
  INSERT INTO order_status_history (order_id, status) VALUES (p_order, ''delivered'')\073
  PERFORM settle_order_money(p_order, amount, ''order:'' || p_order || '':refund'')\073
  RETURN true\073
END\073';

-- The single-entry ledger, moved in: every entry becomes a transaction under its own id and
-- key, its client side on the client's available account (with the running balance), its
-- other side on the platform (funding for top-ups, revenue for debits and refunds). A debit
-- was an immediate charge: it becomes a capture.
INSERT INTO ledger_accounts (id, kind, client_id, currency, balance_minor)
SELECT gen_random_uuid(), 'client_available', client_id, currency, sum(amount_minor)
  FROM ledger_entries GROUP BY client_id, currency;
INSERT INTO ledger_accounts (id, kind, client_id, currency)
SELECT gen_random_uuid(), k.kind, NULL, c.currency
  FROM (SELECT DISTINCT currency FROM ledger_entries) c
 CROSS JOIN (VALUES ('platform_revenue'::ledger_account_kind), ('platform_funding'::ledger_account_kind)) AS k(kind);
INSERT INTO ledger_transactions (id, kind, idempotency_key, client_id, order_id, currency, amount_minor, actor_client_id, created_at)
SELECT id,
       CASE kind WHEN 'topup' THEN 'topup' WHEN 'order_debit' THEN 'capture' ELSE 'refund' END::ledger_transaction_kind,
       idempotency_key, client_id, order_id, currency, abs(amount_minor), actor_client_id, created_at
  FROM ledger_entries;
SELECT setval(pg_get_serial_sequence('ledger_transactions', 'id'), COALESCE((SELECT max(id) FROM ledger_transactions), 0) + 1, false);
INSERT INTO ledger_postings (transaction_id, account_id, amount_minor, balance_after_minor, created_at)
SELECT transaction_id, account_id, amount_minor, balance_after_minor, created_at FROM (
  SELECT e.id AS transaction_id, 0 AS side, a.id AS account_id, e.amount_minor,
         sum(e.amount_minor) OVER (PARTITION BY e.client_id, e.currency ORDER BY e.id) AS balance_after_minor, e.created_at
    FROM ledger_entries e
    JOIN ledger_accounts a ON a.kind = 'client_available' AND a.client_id = e.client_id AND a.currency = e.currency
  UNION ALL
  SELECT e.id, 1, p.id, -e.amount_minor, NULL, e.created_at
    FROM ledger_entries e
    JOIN ledger_accounts p ON p.client_id IS NULL AND p.currency = e.currency
     AND p.kind = (CASE WHEN e.kind = 'topup' THEN 'platform_funding' ELSE 'platform_revenue' END)::ledger_account_kind
) moved ORDER BY transaction_id, side;

DROP TABLE "ledger_entries";
DROP TYPE "ledger_entry_kind";
