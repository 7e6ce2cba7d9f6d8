-- CreateEnum
CREATE TYPE "subscription_status" AS ENUM ('active', 'past_due', 'suspended', 'paused', 'cancelled', 'expired');

-- CreateEnum
CREATE TYPE "subscription_period_unit" AS ENUM ('month', 'quarter', 'year');

-- CreateEnum
CREATE TYPE "subscription_charge_outcome" AS ENUM ('pending', 'paid', 'declined', 'unfulfilled');

-- CreateTable
CREATE TABLE "subscriptions" (
    "id" UUID NOT NULL,
    "client_id" UUID NOT NULL,
    "external_subscription_id" TEXT NOT NULL,
    "idempotency_key" TEXT,
    "request_hash" TEXT NOT NULL,
    "buyer_id" TEXT NOT NULL,
    "buyer_ip" TEXT NOT NULL,
    "buyer_device_id" TEXT,
    "buyer_geo" JSONB,
    "product_id" UUID NOT NULL,
    "period" "subscription_period_unit" NOT NULL,
    "pending_product_id" UUID,
    "pending_period" "subscription_period_unit",
    "pending_from_period" INTEGER,
    "time_zone" TEXT NOT NULL,
    "account" TEXT,
    "payment_method" "payment_method" NOT NULL DEFAULT 'balance',
    "payment_method_ref" TEXT,
    "callback_url" TEXT,
    "status" "subscription_status" NOT NULL DEFAULT 'active',
    "status_reason" TEXT,
    "anchor_at" TIMESTAMPTZ(3) NOT NULL,
    "current_period" INTEGER NOT NULL DEFAULT 0,
    "next_charge_at" TIMESTAMPTZ(3),
    "workflow_id" TEXT NOT NULL,
    "cancel_nonce" TEXT NOT NULL,
    "cancel_token_hash" TEXT NOT NULL,
    "last_seq" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "subscription_periods" (
    "subscription_id" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "product_id" UUID NOT NULL,
    "amount_minor" BIGINT,
    "currency" CHAR(3),
    "order_id" UUID,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "outcome" "subscription_charge_outcome",
    "notice_sent_at" TIMESTAMPTZ(3),
    "paid_at" TIMESTAMPTZ(3),

    CONSTRAINT "subscription_periods_pkey" PRIMARY KEY ("subscription_id","number")
);

-- CreateTable
CREATE TABLE "subscription_events" (
    "id" BIGSERIAL NOT NULL,
    "subscription_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "status" "subscription_status" NOT NULL,
    "period_number" INTEGER,
    "actor" TEXT NOT NULL,
    "detail" JSONB NOT NULL DEFAULT '{}',
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "subscription_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "subscriptions_workflow_id_key" ON "subscriptions"("workflow_id");

-- CreateIndex
CREATE UNIQUE INDEX "subscriptions_cancel_token_hash_key" ON "subscriptions"("cancel_token_hash");

-- CreateIndex
CREATE INDEX "subscriptions_client_id_buyer_id_id_idx" ON "subscriptions"("client_id", "buyer_id", "id");

-- CreateIndex
CREATE INDEX "subscriptions_status_next_charge_at_idx" ON "subscriptions"("status", "next_charge_at");

-- CreateIndex
CREATE UNIQUE INDEX "subscriptions_client_id_external_subscription_id_key" ON "subscriptions"("client_id", "external_subscription_id");

-- CreateIndex
CREATE UNIQUE INDEX "subscriptions_client_id_idempotency_key_key" ON "subscriptions"("client_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "subscription_periods_order_id_idx" ON "subscription_periods"("order_id");

-- CreateIndex
CREATE UNIQUE INDEX "subscription_events_subscription_id_seq_key" ON "subscription_events"("subscription_id", "seq");

-- AddForeignKey
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "clients"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscription_periods" ADD CONSTRAINT "subscription_periods_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "subscriptions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscription_periods" ADD CONSTRAINT "subscription_periods_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscription_events" ADD CONSTRAINT "subscription_events_subscription_id_fkey" FOREIGN KEY ("subscription_id") REFERENCES "subscriptions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;



-- Hand-written: a subscription's history is append-only in the database, not only in code.
CREATE TRIGGER subscription_events_append_only BEFORE UPDATE OR DELETE ON "subscription_events"
  FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Periods are numbered from 1 and have a length, whatever code writes them.
ALTER TABLE "subscription_periods" ADD CONSTRAINT "subscription_periods_number_positive" CHECK ("number" >= 1);
ALTER TABLE "subscription_periods" ADD CONSTRAINT "subscription_periods_bounds" CHECK ("ends_at" > "starts_at");
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_current_period_range" CHECK ("current_period" >= 0);
