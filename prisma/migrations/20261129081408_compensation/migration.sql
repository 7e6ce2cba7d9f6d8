-- CreateEnum
CREATE TYPE "compensation_action" AS ENUM ('reissue', 'refund');

-- CreateEnum
CREATE TYPE "compensation_status" AS ENUM ('open', 'awaiting_confirmation', 'completed');

-- AlterEnum
ALTER TYPE "order_unit_status" ADD VALUE 'replaced';

-- AlterTable
ALTER TABLE "key_batches" ADD COLUMN     "quarantine_reason" TEXT,
ADD COLUMN     "quarantined_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "card_keys" ADD COLUMN     "redeemed_at" TIMESTAMPTZ(3),
ADD COLUMN     "void_reason" TEXT,
ADD COLUMN     "voided_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "order_units" ADD COLUMN     "replaces_unit_id" UUID;

-- AlterTable
ALTER TABLE "supplier_routes" ADD COLUMN     "paused_reason" TEXT;

-- CreateTable
CREATE TABLE "compensations" (
    "id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "unit_id" UUID NOT NULL,
    "incident" TEXT NOT NULL,
    "action" "compensation_action" NOT NULL,
    "trigger" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "note" TEXT,
    "status" "compensation_status" NOT NULL DEFAULT 'open',
    "outcome" TEXT,
    "detail" TEXT,
    "new_unit_id" UUID,
    "override" BOOLEAN NOT NULL DEFAULT false,
    "requested_by" TEXT NOT NULL,
    "requested_by_client_id" UUID,
    "workflow_id" TEXT NOT NULL,
    "claim_nonce" TEXT,
    "claim_token_hash" TEXT,
    "claimed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "compensations_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "compensations_workflow_id_key" ON "compensations"("workflow_id");

-- CreateIndex
CREATE UNIQUE INDEX "compensations_claim_token_hash_key" ON "compensations"("claim_token_hash");

-- CreateIndex
CREATE INDEX "compensations_status_created_at_idx" ON "compensations"("status", "created_at");

-- CreateIndex
CREATE INDEX "compensations_order_id_idx" ON "compensations"("order_id");

-- CreateIndex
CREATE UNIQUE INDEX "compensations_unit_id_incident_key" ON "compensations"("unit_id", "incident");

-- AddForeignKey
ALTER TABLE "compensations" ADD CONSTRAINT "compensations_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "compensations" ADD CONSTRAINT "compensations_unit_id_fkey" FOREIGN KEY ("unit_id") REFERENCES "order_units"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- A unit is replaced at most once (a bad replacement gets its own compensation and replacement).
CREATE UNIQUE INDEX order_units_replaces_unit_id_key ON order_units (replaces_unit_id) WHERE replaces_unit_id IS NOT NULL;
