-- Parked orders (issue 29, docs/architecture.md, Bounded retries): a step that kept failing
-- until the workflow of the order stopped retrying it and waits for support to resume it.
-- CreateTable
CREATE TABLE "order_parkings" (
    "id" BIGSERIAL NOT NULL,
    "order_id" UUID NOT NULL,
    "parking" INTEGER NOT NULL,
    "step" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "last_error" TEXT NOT NULL,
    "history_length" INTEGER NOT NULL,
    "parked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resumed_at" TIMESTAMPTZ(3),
    "resumed_by" TEXT,

    CONSTRAINT "order_parkings_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "order_parkings_order_id_parking_key" ON "order_parkings"("order_id", "parking");

-- AddForeignKey
ALTER TABLE "order_parkings" ADD CONSTRAINT "order_parkings_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The parked orders /metrics counts at every scrape: the open parkings only, however many
-- resolved ones the table keeps.
CREATE INDEX "order_parkings_open_idx" ON "order_parkings"("order_id") WHERE "resumed_at" IS NULL;
