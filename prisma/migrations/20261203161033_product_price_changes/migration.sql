-- CreateTable
CREATE TABLE "product_price_changes" (
    "id" UUID NOT NULL,
    "product_id" UUID NOT NULL,
    "price_minor" INTEGER NOT NULL,
    "announced_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "effective_at" TIMESTAMPTZ(3) NOT NULL,
    "applied_at" TIMESTAMPTZ(3),
    "actor" TEXT NOT NULL,

    CONSTRAINT "product_price_changes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "product_price_changes_product_id_effective_at_idx" ON "product_price_changes"("product_id", "effective_at");

-- AddForeignKey
ALTER TABLE "product_price_changes" ADD CONSTRAINT "product_price_changes_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE RESTRICT ON UPDATE CASCADE;



-- Hand-written: a price is positive, and a change takes effect after it is announced.
ALTER TABLE "product_price_changes" ADD CONSTRAINT "product_price_changes_price_positive" CHECK ("price_minor" > 0);
ALTER TABLE "product_price_changes" ADD CONSTRAINT "product_price_changes_after_announcement" CHECK ("effective_at" > "announced_at");
