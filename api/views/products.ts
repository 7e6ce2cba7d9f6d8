// A product as the API shows it.
import type { Product } from '@prisma/client';

export function productView(product: Product) {
  return {
    id: product.id,
    sku: product.sku,
    name: product.name,
    kind: product.kind,
    price: { minor: product.priceMinor, currency: product.currency },
    active: product.active,
    ...(product.accountPattern ? { accountPattern: product.accountPattern } : {}),
  };
}
