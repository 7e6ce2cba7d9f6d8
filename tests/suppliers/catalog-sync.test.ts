// Catalog sync through a real Temporal Schedule: routes take the suppliers' live cost and
// stock; a supplier that cannot answer is shown degraded until it can again.
import { randomUUID } from 'node:crypto';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { ensureCatalogSyncSchedule } from '../../workers/schedules';
import { adminKey } from '../support/clients';
import { clientFor } from '../support/http';
import { shopWithStock } from '../support/orders';
import { addRoute, addSupplier, stackWithSuppliers } from '../support/suppliers';
import { waitFor } from '../support/wait';

jest.setTimeout(240_000);

const env = stackWithSuppliers();

test('the schedule refreshes route costs and stock, and marks a failing supplier degraded until it recovers', async () => {
  const admin = clientFor(env.stack.url, await adminKey(env.stack));
  const { sku } = await shopWithStock(env.stack, { stock: 0, topUp: 0 });
  const healthy = await addSupplier(env.sim.url, admin, {
    products: { P: { kind: 'card_key', costMinor: 1100, stock: 7 } },
  });
  const failing = await addSupplier(env.sim.url, admin, {
    products: { P: { kind: 'card_key', costMinor: 900, stock: 3 } },
  });
  await addRoute(admin, sku, healthy, { productCode: 'P', costMinor: 1000 });
  await addRoute(admin, sku, failing, { productCode: 'P', costMinor: 1000 });
  await failing.setFaults({ rules: [{ kind: 'error_500', on: 'quote' }] });

  const temporal = env.stack.deps.temporal;
  const scheduleId = await ensureCatalogSyncSchedule(temporal, {
    taskQueue: env.stack.taskQueue,
    everyMs: 3_600_000,
    scheduleId: `catalog-sync-${randomUUID()}`,
  });
  const schedule = temporal.schedule.getHandle(scheduleId);
  try {
    const syncedAfter = async (since: Date) => {
      // A round walks every supplier in the test database, and may still be running when the
      // next one is asked for: this trigger must not be skipped as an overlap.
      await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
      await waitFor(
        async () => {
          const s = await env.stack.db.supplier.findMany({ where: { id: { in: [healthy.id, failing.id] } } });
          return s.every((x) => (x.syncedAt && x.syncedAt > since) || (x.degradedReason && x.updatedAt > since));
        },
        'a sync round',
        90_000,
      );
    };

    await syncedAfter(new Date());
    const routes = (await admin.get(`/v1/products/${sku}/routes`)).body.routes;
    expect(routes.find((r: any) => r.supplier.name === healthy.name)).toMatchObject({ costMinor: 1100, stock: 7 });
    expect(routes.find((r: any) => r.supplier.name === failing.name)).toMatchObject({ costMinor: 1000, stock: null });
    const degraded = (await admin.get(`/v1/suppliers/${failing.id}`)).body.catalog;
    expect(degraded).toMatchObject({ status: 'degraded', reason: expect.stringMatching(/answered 500/) });
    expect((await admin.get(`/v1/suppliers/${healthy.id}`)).body.catalog.status).toBe('ok');

    await failing.setFaults({ rules: [] });
    await syncedAfter(new Date());
    expect((await admin.get(`/v1/suppliers/${failing.id}`)).body.catalog.status).toBe('ok');
    const healed = (await admin.get(`/v1/products/${sku}/routes`)).body.routes;
    expect(healed.find((r: any) => r.supplier.name === failing.name)).toMatchObject({ costMinor: 900, stock: 3 });
  } finally {
    await schedule.delete();
  }
});
