// Catalog sync: each enabled supplier quotes every route it serves; costs and stock on the
// routes follow, and a supplier that cannot answer is marked degraded (shown in its view)
// until a sync succeeds again. Routing still re-quotes live before buying: the synced cost
// decides which routes are worth trying at all.
import { Context } from '@temporalio/activity';
import { parseAllowList } from '../../infra/outbound-url';
import { credentialsOf } from '../../store/suppliers/registry';
import type { ActivityDeps } from '../deps';
import { keepAlive } from '../keepalive';
import { adapterFor } from './adapters';

/** Heartbeat details: the supplier and the last of its routes (in id order) already synced. */
export interface CatalogProgress {
  supplierId: string;
  lastRouteId: string;
  synced: number;
}

/** While a quote is out, the worker still says it is alive this often (one quote may take minutes). */
const KEEPALIVE_MS = 10_000;

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

    /**
     * Quotes every route of one supplier; returns how many routes were refreshed, or why it
     * failed. Heartbeats after each route: a retry (a worker that died, a database that went
     * away mid-sync) resumes after the last route synced instead of asking the supplier again.
     * A supplier that cannot answer marks it degraded; a database error fails the attempt.
     */
    async syncSupplierCatalog(supplierId: string): Promise<{ synced: number; degraded?: string }> {
      const supplier = await db.supplier.findUniqueOrThrow({
        where: { id: supplierId },
        include: { routes: { include: { product: true }, orderBy: { id: 'asc' } } },
      });
      const details = Context.current().info.heartbeatDetails as CatalogProgress | undefined;
      let progress = details?.supplierId === supplierId ? details : undefined;
      let synced = progress?.synced ?? 0;
      const remaining = progress ? supplier.routes.filter((r) => r.id > progress!.lastRouteId) : supplier.routes;
      for (const route of remaining) {
        let quote;
        try {
          const adapter = adapterFor(supplier, credentialsOf(keyring, supplier), allow, route.product.currency);
          quote = await keepAlive(() => adapter.quote(route.productCode, route.product.kind), KEEPALIVE_MS, progress);
        } catch (err) {
          const degraded = `catalog sync failed: ${err instanceof Error ? err.message : String(err)}`;
          await db.supplier.update({ where: { id: supplierId }, data: { degradedReason: degraded } });
          logger.warn({ supplier: supplier.name, error: degraded }, 'supplier degraded');
          return { synced, degraded };
        }
        await db.supplierRoute.update({
          where: { id: route.id },
          data: {
            costMinor: quote.costMinor,
            stock: quote.available ? (quote.stock ?? null) : 0,
            syncedAt: new Date(),
          },
        });
        synced += 1;
        progress = { supplierId, lastRouteId: route.id, synced };
        Context.current().heartbeat(progress);
      }
      await db.supplier.update({ where: { id: supplierId }, data: { degradedReason: null, syncedAt: new Date() } });
      return { synced };
    },
  };
}

export type CatalogActivities = ReturnType<typeof catalogActivities>;
