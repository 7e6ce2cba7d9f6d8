// Catalog sync: each enabled supplier quotes every route it serves; costs and stock on the
// routes follow, and a supplier that cannot answer is marked degraded (shown in its view)
// until a sync succeeds again. Routing still re-quotes live before buying: the synced cost
// decides which routes are worth trying at all.
import { parseAllowList } from '../../infra/outbound-url';
import { credentialsOf } from '../../store/suppliers/registry';
import type { ActivityDeps } from '../deps';
import { adapterFor } from './adapters';

export function catalogActivities({ db, keyring, config, logger }: ActivityDeps) {
  const allow = parseAllowList(config.OUTBOUND_URL_ALLOWLIST);
  return {
    async listSyncableSuppliers(): Promise<string[]> {
      const suppliers = await db.supplier.findMany({
        where: { enabled: true },
        select: { id: true },
        orderBy: { name: 'asc' },
      });
      return suppliers.map((s) => s.id);
    },

    /** Quotes every route of one supplier; returns how many routes were refreshed, or why it failed. */
    async syncSupplierCatalog(supplierId: string): Promise<{ synced: number; degraded?: string }> {
      const supplier = await db.supplier.findUniqueOrThrow({
        where: { id: supplierId },
        include: { routes: { include: { product: true } } },
      });
      let synced = 0;
      try {
        const credentials = credentialsOf(keyring, supplier);
        for (const route of supplier.routes) {
          const adapter = adapterFor(supplier, credentials, allow, route.product.currency);
          const quote = await adapter.quote(route.productCode, route.product.kind);
          await db.supplierRoute.update({
            where: { id: route.id },
            data: {
              costMinor: quote.costMinor,
              stock: quote.available ? (quote.stock ?? null) : 0,
              syncedAt: new Date(),
            },
          });
          synced += 1;
        }
      } catch (err) {
        const degraded = `catalog sync failed: ${err instanceof Error ? err.message : String(err)}`;
        await db.supplier.update({ where: { id: supplierId }, data: { degradedReason: degraded } });
        logger.warn({ supplier: supplier.name, error: degraded }, 'supplier degraded');
        return { synced, degraded };
      }
      await db.supplier.update({ where: { id: supplierId }, data: { degradedReason: null, syncedAt: new Date() } });
      return { synced };
    },
  };
}

export type CatalogActivities = ReturnType<typeof catalogActivities>;
