// GET /metrics: Prometheus text format, no API key (like /healthz; serve it on an internal
// port or filter it at the proxy if it must not be public). prom-client's default registry
// with the process's default metrics, and the bad-source alert figures, read from PostgreSQL
// at each scrape: quarantines happen in workers, so no API process counts them in memory,
// and every API process reports the same values. Labels carry no key, code or client.
import { Router } from 'express';
import { collectDefaultMetrics, Counter, Gauge, register } from 'prom-client';
import { parkedOrderCount } from '../../store/orders';
import { badSourceFigures } from '../../store/quarantine';
import { openFindingCounts } from '../../store/suppliers/reconciliation';
import type { ApiDeps } from '../deps';

const quarantinedBatches = new Gauge({
  name: 'rights_quarantined_batches',
  help: 'Import batches in quarantine (their available keys are not sold) awaiting release or void',
});
const pausedRoutes = new Gauge({
  name: 'rights_paused_routes',
  help: 'Supplier routes paused automatically because too many of their keys turned out bad',
});
const parkedOrders = new Gauge({
  name: 'rights_orders_parked',
  help: 'Orders whose step kept failing until their workflow stopped retrying: each waits for support to resume it',
});
const badKeys = new Counter({
  name: 'rights_bad_keys_total',
  help: 'Delivered card keys voided as bad, by source (inventory: an import batch; supplier: bought upstream)',
  labelNames: ['source'] as const,
});
const unmatchedSales = new Gauge({
  name: 'rights_supplier_sales_unmatched',
  help: 'Supplier sales reconciliation found and nothing has settled yet (orphan: sold under a reference no unit holds; unit_refunded; cost_differs), by supplier and kind',
  labelNames: ['supplier', 'kind'] as const,
});

export function metricsRouter({ db }: ApiDeps): Router {
  // Once per process: a second app in the same process (tests) must not register them twice.
  if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    const figures = await badSourceFigures(db);
    quarantinedBatches.set(figures.quarantinedBatches);
    pausedRoutes.set(figures.pausedRoutes);
    parkedOrders.set(await parkedOrderCount(db));
    // A count of keys in a terminal state: it only grows, as a counter must.
    badKeys.reset();
    badKeys.inc({ source: 'inventory' }, figures.badKeys.inventory);
    badKeys.inc({ source: 'supplier' }, figures.badKeys.supplier);
    // Reset first: a supplier and kind with nothing open any more must not keep its last value.
    unmatchedSales.reset();
    for (const { supplier, kind, count } of await openFindingCounts(db)) unmatchedSales.set({ supplier, kind }, count);
    res.setHeader('Content-Type', register.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.send(await register.metrics());
  });
  return router;
}
