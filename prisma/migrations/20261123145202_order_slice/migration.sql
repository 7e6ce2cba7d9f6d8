-- CreateEnum
CREATE TYPE "product_kind" AS ENUM ('card_key', 'direct_topup');

-- CreateEnum
CREATE TYPE "card_key_status" AS ENUM ('available', 'reserved', 'delivered', 'redeemed', 'void', 'quarantined');

-- CreateEnum
CREATE TYPE "order_status" AS ENUM ('received', 'fulfilling', 'delivered', 'failed', 'refunded');

-- CreateEnum
CREATE TYPE "order_unit_status" AS ENUM ('pending', 'reserved', 'delivered', 'released');

-- CreateEnum
CREATE TYPE "ledger_entry_kind" AS ENUM ('topup', 'order_debit', 'order_refund');

-- CreateTable
CREATE TABLE "products" (
    "id" UUID NOT NULL,
    "sku" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "product_kind" NOT NULL,
    "price_minor" INTEGER NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "products_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "key_batches" (
    "id" UUID NOT NULL,
    "product_id" UUID NOT NULL,
    "supplier" TEXT,
    "cost_minor" INTEGER,
    "imported_count" INTEGER NOT NULL DEFAULT 0,
    "duplicate_count" INTEGER NOT NULL DEFAULT 0,
    "created_by_client_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "key_batches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "card_keys" (
    "id" UUID NOT NULL,
    "product_id" UUID NOT NULL,
    "batch_id" UUID NOT NULL,
    "ciphertext" TEXT NOT NULL,
    "encryption_key_id" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "status" "card_key_status" NOT NULL DEFAULT 'available',
    "reserved_by_unit_id" UUID,
    "reserved_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "card_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "orders" (
    "id" UUID NOT NULL,
    "client_id" UUID NOT NULL,
    "external_order_id" TEXT NOT NULL,
    "idempotency_key" TEXT,
    "request_hash" TEXT NOT NULL,
    "buyer_id" TEXT NOT NULL,
    "buyer_ip" TEXT NOT NULL,
    "buyer_device_id" TEXT,
    "callback_url" TEXT,
    "amount_minor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "status" "order_status" NOT NULL DEFAULT 'received',
    "status_reason" TEXT,
    "workflow_id" TEXT NOT NULL,
    "claim_nonce" TEXT,
    "claim_token_hash" TEXT,
    "claimed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "orders_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "order_items" (
    "id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "product_id" UUID NOT NULL,
    "sku" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "unit_price_minor" INTEGER NOT NULL,

    CONSTRAINT "order_items_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "order_units" (
    "id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "item_id" UUID NOT NULL,
    "product_id" UUID NOT NULL,
    "status" "order_unit_status" NOT NULL DEFAULT 'pending',
    "source" TEXT,
    "supplier_ref" TEXT,
    "card_key_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "order_units_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "order_status_history" (
    "id" BIGSERIAL NOT NULL,
    "order_id" UUID NOT NULL,
    "status" "order_status" NOT NULL,
    "reason" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "order_status_history_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ledger_entries" (
    "id" BIGSERIAL NOT NULL,
    "client_id" UUID NOT NULL,
    "kind" "ledger_entry_kind" NOT NULL,
    "amount_minor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "order_id" UUID,
    "idempotency_key" TEXT NOT NULL,
    "actor_client_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "products_sku_key" ON "products"("sku");

-- CreateIndex
CREATE UNIQUE INDEX "card_keys_reserved_by_unit_id_key" ON "card_keys"("reserved_by_unit_id");

-- CreateIndex
CREATE INDEX "card_keys_product_id_status_created_at_idx" ON "card_keys"("product_id", "status", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "card_keys_product_id_fingerprint_key" ON "card_keys"("product_id", "fingerprint");

-- CreateIndex
CREATE UNIQUE INDEX "orders_workflow_id_key" ON "orders"("workflow_id");

-- CreateIndex
CREATE UNIQUE INDEX "orders_claim_token_hash_key" ON "orders"("claim_token_hash");

-- CreateIndex
CREATE INDEX "orders_status_idx" ON "orders"("status");

-- CreateIndex
CREATE UNIQUE INDEX "orders_client_id_external_order_id_key" ON "orders"("client_id", "external_order_id");

-- CreateIndex
CREATE UNIQUE INDEX "orders_client_id_idempotency_key_key" ON "orders"("client_id", "idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "order_items_order_id_position_key" ON "order_items"("order_id", "position");

-- CreateIndex
CREATE UNIQUE INDEX "order_units_card_key_id_key" ON "order_units"("card_key_id");

-- CreateIndex
CREATE INDEX "order_units_order_id_idx" ON "order_units"("order_id");

-- CreateIndex
CREATE INDEX "order_status_history_order_id_idx" ON "order_status_history"("order_id");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_entries_idempotency_key_key" ON "ledger_entries"("idempotency_key");

-- CreateIndex
CREATE INDEX "ledger_entries_client_id_currency_idx" ON "ledger_entries"("client_id", "currency");

-- AddForeignKey
ALTER TABLE "key_batches" ADD CONSTRAINT "key_batches_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "card_keys" ADD CONSTRAINT "card_keys_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "card_keys" ADD CONSTRAINT "card_keys_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "key_batches"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "orders" ADD CONSTRAINT "orders_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "clients"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_items" ADD CONSTRAINT "order_items_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_items" ADD CONSTRAINT "order_items_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_units" ADD CONSTRAINT "order_units_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_units" ADD CONSTRAINT "order_units_item_id_fkey" FOREIGN KEY ("item_id") REFERENCES "order_items"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_status_history" ADD CONSTRAINT "order_status_history_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_client_id_fkey" FOREIGN KEY ("client_id") REFERENCES "clients"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- Hand-written: status history and the ledger are append-only in the database.
CREATE TRIGGER order_status_history_append_only BEFORE UPDATE OR DELETE ON "order_status_history"
  FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON "ledger_entries"
  FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Money and quantities stay in range whatever code writes them.
ALTER TABLE "products" ADD CONSTRAINT "products_price_positive" CHECK ("price_minor" > 0);
ALTER TABLE "order_items" ADD CONSTRAINT "order_items_quantity_range" CHECK ("quantity" BETWEEN 1 AND 100);
-- A key that has left the shelf belongs to exactly one unit.
ALTER TABLE "card_keys" ADD CONSTRAINT "card_keys_holder_when_taken"
  CHECK (("status" = 'available') = ("reserved_by_unit_id" IS NULL) OR "status" IN ('void', 'quarantined'));
