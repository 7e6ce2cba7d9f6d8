-- Supplier reconciliation (issue 29): what matching each supplier's own record of sales to the
-- platform's units found (one row per supplier, kind and sale), when a key's redemption was
-- last asked of the supplier that sold it, and the card_keys indexes reports and quarantine
-- counts read by (batch, delivery time).
-- CreateEnum
CREATE TYPE "supplier_sale_finding_kind" AS ENUM ('orphan', 'unit_refunded', 'cost_differs');

-- AlterTable
ALTER TABLE "card_keys" ADD COLUMN     "redeem_checked_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "supplier_sale_findings" (
    "id" UUID NOT NULL,
    "supplier_id" UUID NOT NULL,
    "kind" "supplier_sale_finding_kind" NOT NULL,
    "transaction_id" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "unit_id" UUID,
    "order_id" UUID,
    "sale_status" TEXT NOT NULL,
    "sale_cost_minor" INTEGER,
    "recorded_cost_minor" INTEGER,
    "currency" TEXT,
    "sold_at" TIMESTAMPTZ(3),
    "detail" TEXT NOT NULL,
    "action" TEXT,
    "action_detail" TEXT,
    "acted_at" TIMESTAMPTZ(3),
    "resolved_at" TIMESTAMPTZ(3),
    "found_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "supplier_sale_findings_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "supplier_sale_findings_found_at_idx" ON "supplier_sale_findings"("found_at");

-- CreateIndex
CREATE UNIQUE INDEX "supplier_sale_findings_supplier_id_kind_transaction_id_refe_key" ON "supplier_sale_findings"("supplier_id", "kind", "transaction_id", "reference");

-- CreateIndex
CREATE INDEX "card_keys_batch_id_idx" ON "card_keys"("batch_id");

-- CreateIndex
CREATE INDEX "card_keys_delivered_at_idx" ON "card_keys"("delivered_at");

-- AddForeignKey
ALTER TABLE "supplier_sale_findings" ADD CONSTRAINT "supplier_sale_findings_supplier_id_fkey" FOREIGN KEY ("supplier_id") REFERENCES "suppliers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

