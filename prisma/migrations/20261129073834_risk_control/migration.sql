-- CreateEnum
CREATE TYPE "risk_decision" AS ENUM ('allow', 'review', 'block');

-- CreateEnum
CREATE TYPE "risk_subject" AS ENUM ('order', 'claim');

-- CreateEnum
CREATE TYPE "risk_list" AS ENUM ('allow', 'deny');

-- CreateEnum
CREATE TYPE "risk_list_kind" AS ENUM ('buyer', 'device', 'ip');

-- CreateEnum
CREATE TYPE "risk_review_status" AS ENUM ('open', 'approved', 'rejected');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "order_status" ADD VALUE 'rejected';
ALTER TYPE "order_status" ADD VALUE 'in_review';

-- AlterTable
ALTER TABLE "orders" ADD COLUMN     "claim_ip" TEXT,
ADD COLUMN     "unit_count" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "risk_policies" (
    "id" UUID NOT NULL,
    "product_id" UUID,
    "policy" JSONB NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "risk_policies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "risk_list_entries" (
    "id" UUID NOT NULL,
    "list" "risk_list" NOT NULL,
    "kind" "risk_list_kind" NOT NULL,
    "value" TEXT NOT NULL,
    "note" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "risk_list_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "risk_assessments" (
    "id" UUID NOT NULL,
    "subject" "risk_subject" NOT NULL,
    "order_id" UUID NOT NULL,
    "decision" "risk_decision" NOT NULL,
    "score" INTEGER NOT NULL,
    "facts" JSONB,
    "verdict" JSONB,
    "policy" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "risk_assessments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "risk_reviews" (
    "id" UUID NOT NULL,
    "subject" "risk_subject" NOT NULL,
    "order_id" UUID NOT NULL,
    "assessment_id" UUID NOT NULL,
    "status" "risk_review_status" NOT NULL DEFAULT 'open',
    "score" INTEGER NOT NULL,
    "top_reasons" TEXT[],
    "deadline" TIMESTAMPTZ(3) NOT NULL,
    "on_deadline" "risk_review_status" NOT NULL,
    "decided_by" TEXT,
    "decided_by_client_id" UUID,
    "decided_via" TEXT,
    "note" TEXT,
    "decided_at" TIMESTAMPTZ(3),
    "consumed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "risk_reviews_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rate_limit_buckets" (
    "key" TEXT NOT NULL,
    "window_start" TIMESTAMPTZ(3) NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "rate_limit_buckets_pkey" PRIMARY KEY ("key","window_start")
);

-- CreateIndex
CREATE UNIQUE INDEX "risk_policies_product_id_key" ON "risk_policies"("product_id");

-- CreateIndex
CREATE UNIQUE INDEX "risk_list_entries_list_kind_value_key" ON "risk_list_entries"("list", "kind", "value");

-- CreateIndex
CREATE INDEX "risk_assessments_order_id_idx" ON "risk_assessments"("order_id");

-- CreateIndex
CREATE INDEX "risk_reviews_status_subject_created_at_idx" ON "risk_reviews"("status", "subject", "created_at");

-- CreateIndex
CREATE INDEX "risk_reviews_order_id_idx" ON "risk_reviews"("order_id");

-- AddForeignKey
ALTER TABLE "risk_policies" ADD CONSTRAINT "risk_policies_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "risk_assessments" ADD CONSTRAINT "risk_assessments_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "risk_reviews" ADD CONSTRAINT "risk_reviews_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "risk_reviews" ADD CONSTRAINT "risk_reviews_assessment_id_fkey" FOREIGN KEY ("assessment_id") REFERENCES "risk_assessments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- Risk facts are counted per buyer, device, address and network over sliding windows: each
-- key has an index led by it and the order's time. The network (/24 for IPv4, /48 for IPv6)
-- is derived from the address by the database itself.
ALTER TABLE orders ADD COLUMN buyer_network cidr GENERATED ALWAYS AS (
  network(set_masklen(buyer_ip::inet, CASE WHEN family(buyer_ip::inet) = 4 THEN 24 ELSE 48 END))) STORED;
-- The windows' counters are read from these indexes alone (index-only scans).
UPDATE orders SET unit_count = (SELECT COALESCE(sum(quantity), 0) FROM order_items WHERE order_id = orders.id);
CREATE INDEX orders_buyer_id_created_at_idx ON orders (buyer_id, created_at) INCLUDE (unit_count, amount_minor);
CREATE INDEX orders_buyer_device_id_created_at_idx ON orders (buyer_device_id, created_at)
  INCLUDE (unit_count, amount_minor, buyer_id) WHERE buyer_device_id IS NOT NULL;
CREATE INDEX orders_buyer_ip_created_at_idx ON orders (buyer_ip, created_at) INCLUDE (unit_count, amount_minor, buyer_id);
CREATE INDEX orders_buyer_network_created_at_idx ON orders (buyer_network, created_at) INCLUDE (unit_count, amount_minor, buyer_id);

-- An IP list entry is an address or a network the database can compare addresses with.
ALTER TABLE risk_list_entries ADD CONSTRAINT risk_list_entries_ip_is_cidr
  CHECK (kind <> 'ip' OR value::cidr IS NOT NULL);

-- One open review per order and subject: a second flag while one waits joins it.
CREATE UNIQUE INDEX risk_reviews_one_open ON risk_reviews (order_id, subject) WHERE status = 'open';

-- One default policy (no product), starting as the schema's defaults.
CREATE UNIQUE INDEX risk_policies_one_default ON risk_policies ((product_id IS NULL)) WHERE product_id IS NULL;
INSERT INTO risk_policies (id, product_id, policy) VALUES (gen_random_uuid(), NULL, '{}');

-- An order is assessed once: a stale second attempt finds the first one's verdict.
CREATE UNIQUE INDEX risk_assessments_one_per_order ON risk_assessments (order_id) WHERE subject = 'order';

-- Policy simulation replays the most recent decisions first.
CREATE INDEX risk_reviews_decided_at_idx ON risk_reviews (decided_at) WHERE status <> 'open';
