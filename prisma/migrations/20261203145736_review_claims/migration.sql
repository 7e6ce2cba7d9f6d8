-- AlterTable
ALTER TABLE "risk_reviews" ADD COLUMN     "claim_seen_at" TIMESTAMPTZ(3),
ADD COLUMN     "claimed_at" TIMESTAMPTZ(3),
ADD COLUMN     "claimed_by" TEXT,
ADD COLUMN     "claimed_by_client_id" UUID;

-- CreateIndex
CREATE INDEX "order_items_account_idx" ON "order_items"("account");

-- CreateIndex
CREATE INDEX "risk_reviews_status_deadline_idx" ON "risk_reviews"("status", "deadline");


-- A claim is whole or absent: its holder, their name, when they took it and last worked on it.
ALTER TABLE "risk_reviews" ADD CONSTRAINT "risk_reviews_claim_whole" CHECK (
  (claimed_by_client_id IS NULL AND claimed_by IS NULL AND claimed_at IS NULL AND claim_seen_at IS NULL)
  OR (claimed_by_client_id IS NOT NULL AND claimed_by IS NOT NULL AND claimed_at IS NOT NULL AND claim_seen_at IS NOT NULL)
);
