-- CreateEnum
CREATE TYPE "supplier_protocol" AS ENUM ('reference', 'reloadly');

-- CreateEnum
CREATE TYPE "circuit_state" AS ENUM ('closed', 'open', 'half_open');

-- AlterEnum
ALTER TYPE "order_status" ADD VALUE 'partially_delivered';

-- AlterEnum
ALTER TYPE "order_unit_status" ADD VALUE 'refunded';

-- DropForeignKey
ALTER TABLE "card_keys" DROP CONSTRAINT "card_keys_batch_id_fkey";

-- AlterTable
ALTER TABLE "products" ADD COLUMN     "account_pattern" TEXT;

-- AlterTable
ALTER TABLE "card_keys" ADD COLUMN     "source_supplier_id" UUID,
ALTER COLUMN "batch_id" DROP NOT NULL;

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "allow_partial" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "order_items" ADD COLUMN     "account" TEXT;

-- AlterTable
ALTER TABLE "order_units" ADD COLUMN     "cost_minor" INTEGER,
ADD COLUMN     "reason" TEXT,
ADD COLUMN     "supplier_id" UUID;

-- CreateTable
CREATE TABLE "suppliers" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "protocol" "supplier_protocol" NOT NULL,
    "base_url" TEXT NOT NULL,
    "credentials_cipher" TEXT NOT NULL,
    "timeout_ms" INTEGER NOT NULL DEFAULT 5000,
    "callback_deadline_ms" INTEGER NOT NULL DEFAULT 30000,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "circuit_failures" INTEGER NOT NULL DEFAULT 5,
    "circuit_window_seconds" INTEGER NOT NULL DEFAULT 60,
    "circuit_cooldown_seconds" INTEGER NOT NULL DEFAULT 30,
    "circuit_state" "circuit_state" NOT NULL DEFAULT 'closed',
    "circuit_changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "synced_at" TIMESTAMPTZ(3),
    "degraded_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "suppliers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "supplier_routes" (
    "id" UUID NOT NULL,
    "product_id" UUID NOT NULL,
    "supplier_id" UUID NOT NULL,
    "product_code" TEXT NOT NULL,
    "cost_minor" INTEGER NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 100,
    "stock" INTEGER,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "synced_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "supplier_routes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "supplier_calls" (
    "id" BIGSERIAL NOT NULL,
    "supplier_id" UUID NOT NULL,
    "ok" BOOLEAN NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "supplier_calls_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sourcing_attempts" (
    "id" BIGSERIAL NOT NULL,
    "unit_id" UUID NOT NULL,
    "supplier_id" UUID,
    "source" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "detail" TEXT,
    "latency_ms" INTEGER,
    "cost_minor" INTEGER,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sourcing_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "suppliers_name_key" ON "suppliers"("name");

-- CreateIndex
CREATE UNIQUE INDEX "supplier_routes_product_id_supplier_id_key" ON "supplier_routes"("product_id", "supplier_id");

-- CreateIndex
CREATE INDEX "supplier_calls_supplier_id_at_idx" ON "supplier_calls"("supplier_id", "at");

-- CreateIndex
CREATE INDEX "sourcing_attempts_unit_id_idx" ON "sourcing_attempts"("unit_id");

-- AddForeignKey
ALTER TABLE "card_keys" ADD CONSTRAINT "card_keys_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "key_batches"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "card_keys" ADD CONSTRAINT "card_keys_source_supplier_id_fkey" FOREIGN KEY ("source_supplier_id") REFERENCES "suppliers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_units" ADD CONSTRAINT "order_units_supplier_id_fkey" FOREIGN KEY ("supplier_id") REFERENCES "suppliers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "supplier_routes" ADD CONSTRAINT "supplier_routes_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "supplier_routes" ADD CONSTRAINT "supplier_routes_supplier_id_fkey" FOREIGN KEY ("supplier_id") REFERENCES "suppliers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "supplier_calls" ADD CONSTRAINT "supplier_calls_supplier_id_fkey" FOREIGN KEY ("supplier_id") REFERENCES "suppliers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sourcing_attempts" ADD CONSTRAINT "sourcing_attempts_unit_id_fkey" FOREIGN KEY ("unit_id") REFERENCES "order_units"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sourcing_attempts" ADD CONSTRAINT "sourcing_attempts_supplier_id_fkey" FOREIGN KEY ("supplier_id") REFERENCES "suppliers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

