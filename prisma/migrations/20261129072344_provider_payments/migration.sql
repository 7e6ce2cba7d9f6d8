-- CreateEnum
CREATE TYPE "payment_method" AS ENUM ('balance', 'stripe');

-- CreateEnum
CREATE TYPE "provider_payment_status" AS ENUM ('pending', 'authorized', 'declined', 'settling', 'captured', 'voided');

-- CreateEnum
CREATE TYPE "payment_operation_kind" AS ENUM ('authorize', 'capture', 'void', 'refund');

-- CreateEnum
CREATE TYPE "payment_operation_status" AS ENUM ('pending', 'succeeded', 'failed');

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "payment_method" "payment_method" NOT NULL DEFAULT 'balance';

-- CreateTable
CREATE TABLE "provider_payments" (
    "id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "provider" "payment_method" NOT NULL,
    "method_ref" TEXT NOT NULL,
    "intent_id" TEXT,
    "status" "provider_payment_status" NOT NULL DEFAULT 'pending',
    "amount_minor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "decline_reason" TEXT,
    "capture_due_minor" BIGINT,
    "captured_minor" BIGINT NOT NULL DEFAULT 0,
    "refunded_minor" BIGINT NOT NULL DEFAULT 0,
    "provider_status" TEXT,
    "provider_captured_minor" BIGINT,
    "provider_refunded_minor" BIGINT,
    "provider_event_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "provider_payments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payment_operations" (
    "id" BIGSERIAL NOT NULL,
    "payment_id" UUID NOT NULL,
    "kind" "payment_operation_kind" NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "amount_minor" BIGINT NOT NULL,
    "unit_id" UUID,
    "status" "payment_operation_status" NOT NULL DEFAULT 'pending',
    "provider_ref" TEXT,
    "detail" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "payment_operations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payment_webhook_events" (
    "id" TEXT NOT NULL,
    "provider" "payment_method" NOT NULL,
    "type" TEXT NOT NULL,
    "payment_id" UUID,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_webhook_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "provider_payments_order_id_key" ON "provider_payments"("order_id");

-- CreateIndex
CREATE INDEX "provider_payments_intent_id_idx" ON "provider_payments"("intent_id");

-- CreateIndex
CREATE UNIQUE INDEX "payment_operations_idempotency_key_key" ON "payment_operations"("idempotency_key");

-- CreateIndex
CREATE INDEX "payment_operations_payment_id_idx" ON "payment_operations"("payment_id");

-- AddForeignKey
ALTER TABLE "provider_payments" ADD CONSTRAINT "provider_payments_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payment_operations" ADD CONSTRAINT "payment_operations_payment_id_fkey" FOREIGN KEY ("payment_id") REFERENCES "provider_payments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- Provider payments never go below what was asked for, and what was captured and refunded
-- stays within the authorized amount.
ALTER TABLE provider_payments ADD CONSTRAINT provider_payments_amounts CHECK (
  amount_minor > 0 AND captured_minor >= 0 AND refunded_minor >= 0 AND refunded_minor <= captured_minor
  AND captured_minor <= amount_minor AND (capture_due_minor IS NULL OR capture_due_minor BETWEEN 0 AND amount_minor));
ALTER TABLE payment_operations ADD CONSTRAINT payment_operations_amount CHECK (amount_minor >= 0);

-- begin_order learns provider payments: an order paid through a provider moves to
-- fulfilling only once its payment is authorized (and fails once it is declined). Until
-- then it stays received, which tells the workflow to authorize first.
CREATE OR REPLACE FUNCTION begin_order(p_order uuid, p_debit_key text)
RETURNS TABLE (status order_status, reason text, units integer, notify boolean, moved boolean)
LANGUAGE plpgsql AS E'
#variable_conflict use_column
DECLARE
  o record\073
  held record\073
  pay record\073
BEGIN
  SELECT ord.status, ord.status_reason, ord.client_id, ord.amount_minor, ord.currency, ord.payment_method,
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
  IF o.payment_method <> ''balance'' THEN
    SELECT p.status, p.decline_reason INTO pay FROM provider_payments p WHERE p.order_id = p_order\073
    IF pay.status = ''declined'' THEN
      UPDATE orders SET status = ''failed'', status_reason = ''payment declined: '' || pay.decline_reason, updated_at = now()
       WHERE id = p_order\073
      INSERT INTO order_status_history (order_id, status, reason)
      VALUES (p_order, ''failed'', ''payment declined: '' || pay.decline_reason)\073
      RETURN QUERY SELECT ''failed''::order_status, (''payment declined: '' || pay.decline_reason)::text, o.units, o.notify, true\073
      RETURN\073
    END IF\073
    IF pay.status IS DISTINCT FROM ''authorized'' THEN
      RETURN QUERY SELECT ''received''::order_status, NULL::text, o.units, o.notify, false\073
      RETURN\073
    END IF\073
  ELSE
    SELECT * INTO held FROM ledger_transfer(''hold'', p_debit_key, o.client_id, p_order, o.currency, o.amount_minor,
                                            ''client_available'', ''client_held'', NULL)\073
    IF NOT held.sufficient THEN
      UPDATE orders SET status = ''failed'', status_reason = ''insufficient balance'', updated_at = now()
       WHERE id = p_order\073
      INSERT INTO order_status_history (order_id, status, reason) VALUES (p_order, ''failed'', ''insufficient balance'')\073
      RETURN QUERY SELECT ''failed''::order_status, ''insufficient balance''::text, o.units, o.notify, true\073
      RETURN\073
    END IF\073
  END IF\073
  UPDATE orders SET status = ''fulfilling'', status_reason = NULL, updated_at = now() WHERE id = p_order\073
  INSERT INTO order_status_history (order_id, status) VALUES (p_order, ''fulfilling'')\073
  RETURN QUERY SELECT ''fulfilling''::order_status, NULL::text, o.units, o.notify, true\073
END\073';

-- settle_order_money learns provider payments: an authorized payment is settled in the
-- database by recording what is due for capture (0: void the authorization), and the provider
-- call follows, outside the transaction, under the order's idempotency keys.
CREATE OR REPLACE FUNCTION settle_order_money(p_order uuid, p_capture bigint, p_release_key text)
RETURNS boolean LANGUAGE plpgsql AS E'
DECLARE
  charge record\073
BEGIN
  SELECT t.kind, t.client_id, t.currency, t.amount_minor INTO charge
    FROM ledger_transactions t
   WHERE t.order_id = p_order AND t.kind IN (''hold'', ''capture'') AND t.idempotency_key = ''order:'' || p_order || '':debit''\073
  IF NOT FOUND THEN
    UPDATE provider_payments SET status = ''settling'', capture_due_minor = p_capture, updated_at = now()
     WHERE order_id = p_order AND status = ''authorized''\073
    RETURN EXISTS (SELECT 1 FROM provider_payments
                    WHERE order_id = p_order AND status IN (''settling'', ''captured'', ''voided''))\073
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
