-- CreateIndex
CREATE INDEX "sourcing_attempts_supplier_id_at_idx" ON "sourcing_attempts"("supplier_id", "at");

