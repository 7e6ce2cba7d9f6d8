// Suppliers and their routes as the API shows them: settings, circuit and catalog state;
// credentials never (they stay sealed in the store).
import type { Supplier, SupplierRoute } from '@prisma/client';

export function supplierView(supplier: Supplier) {
  return {
    id: supplier.id,
    name: supplier.name,
    protocol: supplier.protocol,
    baseUrl: supplier.baseUrl,
    timeoutMs: supplier.timeoutMs,
    callbackDeadlineMs: supplier.callbackDeadlineMs,
    enabled: supplier.enabled,
    circuit: {
      state: supplier.circuitState,
      since: supplier.circuitChangedAt.toISOString(),
      failuresToOpen: supplier.circuitFailures,
      windowSeconds: supplier.circuitWindowSeconds,
      cooldownSeconds: supplier.circuitCooldownSeconds,
    },
    catalog: {
      status: supplier.degradedReason ? 'degraded' : supplier.syncedAt ? 'ok' : 'never_synced',
      syncedAt: supplier.syncedAt?.toISOString() ?? null,
      ...(supplier.degradedReason ? { reason: supplier.degradedReason } : {}),
    },
    createdAt: supplier.createdAt.toISOString(),
  };
}

export function routeView(route: SupplierRoute & { supplier: Supplier }) {
  return {
    id: route.id,
    supplier: { id: route.supplierId, name: route.supplier.name },
    productCode: route.productCode,
    costMinor: route.costMinor,
    priority: route.priority,
    enabled: route.enabled,
    ...(route.pausedReason ? { pausedReason: route.pausedReason } : {}),
    stock: route.stock,
    syncedAt: route.syncedAt?.toISOString() ?? null,
  };
}
