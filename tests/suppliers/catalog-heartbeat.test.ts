// The catalog sync heartbeats as it goes: an attempt that fails mid-sync (here the database
// refuses one route's update, once, with a transient error) is retried by Temporal, and the
// retry resumes from the last heartbeat's details — after the last route synced — instead of
// quoting the supplier's routes again from the first. Real Temporal, real PostgreSQL (the
// fault is a trigger), the simulator over real HTTP counting the quotes it answered.
import { randomUUID } from 'node:crypto';
import { PRICE } from '../support/orders';
import { addRoute, addSupplier, stackWithSuppliers } from '../support/suppliers';

jest.setTimeout(120_000);

const env = stackWithSuppliers();

async function product(): Promise<string> {
  const sku = `hb-${randomUUID().slice(0, 8)}`;
  const res = await env.admin.post('/v1/products', {
    sku,
    name: sku,
    kind: 'card_key',
    price: { minor: PRICE, currency: 'CNY' },
  });
  expect(res.status).toBe(201);
  return sku;
}

/** The next UPDATE of this route fails once with a serialization failure (a fault that may pass). */
async function failNextUpdateOnce(routeId: string): Promise<() => Promise<void>> {
  const name = `test_fail_route_${randomUUID().replace(/-/g, '')}`;
  const db = env.stack.db;
  // A sequence, not a table: nextval survives the rollback of the statement it fails.
  await db.$executeRawUnsafe(`CREATE SEQUENCE ${name}`);
  await db.$executeRawUnsafe(`
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.id = '${routeId}'::uuid AND nextval('${name}') = 1 THEN
        RAISE EXCEPTION 'injected: could not serialize access' USING ERRCODE = '40001';
      END IF;
      RETURN NEW;
    END $$`);
  await db.$executeRawUnsafe(
    `CREATE TRIGGER ${name} BEFORE UPDATE ON supplier_routes FOR EACH ROW EXECUTE FUNCTION ${name}()`,
  );
  return async () => {
    await db.$executeRawUnsafe(`DROP TRIGGER ${name} ON supplier_routes`);
    await db.$executeRawUnsafe(`DROP FUNCTION ${name}()`);
    await db.$executeRawUnsafe(`DROP SEQUENCE ${name}`);
  };
}

test('a catalog sync retried after a heartbeat resumes after the last route it synced', async () => {
  const card = (costMinor: number) => ({ kind: 'card_key' as const, costMinor, stock: 5 });
  const supplier = await addSupplier(env.sim.url, env.admin, {
    products: { A: card(1100), B: card(1200), C: card(1300) },
  });
  for (const code of ['A', 'B', 'C']) {
    await addRoute(env.admin, await product(), supplier, { productCode: code, costMinor: 1000 });
  }
  // The sync walks routes in id order: the second one's update fails the first attempt.
  const routes = await env.stack.db.supplierRoute.findMany({
    where: { supplierId: supplier.id },
    orderBy: { id: 'asc' },
  });
  const restore = await failNextUpdateOnce(routes[1]!.id);
  const workflowId = `catalog-sync-${randomUUID()}`;
  try {
    await env.stack.deps.temporal.workflow.execute('catalogSyncWorkflow', {
      taskQueue: env.stack.taskQueue,
      workflowId,
    });
  } finally {
    await restore();
  }

  // First attempt: A quoted and saved (heartbeat), B quoted, its save failed. The retry
  // resumed after A: B and C quoted once more. Starting over would have quoted A again (5).
  expect((await supplier.report()).stats.quoteRequests).toBe(4);
  const synced = await env.stack.db.supplierRoute.findMany({
    where: { supplierId: supplier.id },
    orderBy: { id: 'asc' },
  });
  expect(synced.map((r) => r.syncedAt)).toEqual([expect.any(Date), expect.any(Date), expect.any(Date)]);
  expect(synced.map((r) => r.costMinor).sort()).toEqual([1100, 1200, 1300]);
  const row = await env.stack.db.supplier.findUniqueOrThrow({ where: { id: supplier.id } });
  expect(row).toMatchObject({ degradedReason: null, syncedAt: expect.any(Date) });

  // It was a retry of the same activity, with the first attempt's heartbeat to go on.
  const history = await env.stack.deps.temporal.workflow.getHandle(workflowId).fetchHistory();
  const attempts = (history.events ?? [])
    .map((e) => e.activityTaskStartedEventAttributes?.attempt)
    .filter((a): a is number => typeof a === 'number');
  expect(Math.max(...attempts)).toBe(2);
});
