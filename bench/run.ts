// `npm run bench` (`-- --quick` for a smoke run): the order path against Temporal's own
// floor, measured in one run on one machine, and written to stdout (a table) and to
// bench/results/<time>.json (every figure, with the machine). Method, figures and their
// history: bench/RESULTS.md.
//
// One stack of separate processes (scripts/lib/process-stack.ts): a file-backed Temporal dev
// server (WAL), a fresh database, the real API and worker; the floors run on a worker
// process of their own with the platform worker's settings. Subscriptions come last
// (bench/lib/subscriptions.ts): a renewal peak, then thousands asleep beside a bare worker. Order latency is POST sent →
// the workflow's result (the Temporal client's long poll, as an order system waiting on a
// webhook would see it); intake latency is POST → 202. CPU is read from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Pool } from 'pg';
import { workflowIds } from '../domain/workflow-ids';
import { whenStarted } from '../infra/temporal';
import { nodeTsArgs, ROOT } from '../scripts/lib/node-ts';
import { startProcessStack } from '../scripts/lib/process-stack';
import { startSupplierSim } from '../scripts/lib/supplier-sim';
import { stopChild } from '../scripts/lib/temporal-dev-server';
import type { OrderProgress } from '../workflows/order-messages';
import type { Step } from './floors/workflows';
import { closedLoop, type LoadResult, openLoop } from './lib/load';
import { cpuMs, latencies, machine, peakRssMb, postgresCpuMs } from './lib/measure';
import { platformDb } from './lib/platform-db';
import { riskEvaluation } from './lib/risk';
import { renewalPeak, sleepingMemory, type SubscriptionBenchContext, subscriptionEnv } from './lib/subscriptions';

const quick = process.argv.includes('--quick');
const D = quick
  ? { warm: 3_000, run: 8_000, step: 6_000, keys: 6_000, claims: 2_000 }
  : { warm: 10_000, run: 30_000, step: 15_000, keys: 24_000, claims: 8_000 };
const CONCURRENCY = 20;
const CLAIMERS = 32;
const MAX_P99_MS = 5_000;
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

async function main() {
  const started = new Date();
  const dataDir = path.join(ROOT, 'bench/results', `run-${started.toISOString().replace(/[:.]/g, '-')}`);
  log(`starting the stack (${quick ? 'quick' : 'full'} run)…`);
  // BENCH_ROOT runs the platform from another checkout (e.g. `git worktree add /tmp/before <commit>`
  // with node_modules linked): before/after in one harness. The floors always run from here.
  const root = process.env.BENCH_ROOT;
  const stack = await startProcessStack({
    // BENCH_NAME: another database and task queue, for a second bench on the same machine.
    name: process.env.BENCH_NAME ?? 'bench',
    dataDir,
    log,
    ...(root ? { root } : {}),
    // The open loop offers up to 200 orders/s (12,000 a minute) from one key: the limiter stays on, above that.
    // Months of seconds for the subscription sections (orders never read them).
    env: { RATE_LIMIT_CLIENT_REQUESTS: '15000', ...subscriptionEnv(quick) },
  });
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection });
  const pool = new Pool({ connectionString: stack.databaseUrl, max: 2 });
  const floors = spawnFloorWorker(stack.temporalAddress, 'floors', false);
  const results: Record<string, unknown> = {
    machine: machine(),
    platformRoot: root ?? ROOT,
    startedAt: started.toISOString(),
    quick,
  };

  try {
    const api = apiClient(stack.apiUrl, stack.adminKey);
    const sku = `bench-${randomUUID().slice(0, 8)}`;
    await api.post('/v1/products', {
      sku,
      name: 'Bench VIP',
      kind: 'card_key',
      price: { minor: 100, currency: 'CNY' },
    });
    for (let i = 0; i < D.keys; i += 1000) {
      await api.post('/v1/inventory/batches', {
        sku,
        keys: Array.from({ length: 1000 }, () => `BENCH-${randomUUID()}`),
      });
    }
    const shop = await api.post('/v1/clients', { name: 'bench shop', role: 'order-system' });
    await api.post(`/v1/clients/${shop.id}/topups`, { amount: { minor: 1_000_000_000, currency: 'CNY' } });
    const shopApi = apiClient(stack.apiUrl, shop.apiKey);
    const submit = async () => {
      const externalOrderId = randomUUID();
      await shopApi.post('/v1/orders', {
        externalOrderId,
        buyer: { id: `buyer-${externalOrderId.slice(0, 4)}`, ip: '203.0.113.7' },
        items: [{ sku, quantity: 1 }],
      });
      return workflowIds.order(shop.id, externalOrderId);
    };
    const order = async () => {
      const result = (await whenStarted(client, await submit(), (h) => h.result())) as OrderProgress;
      if (result.status !== 'delivered') throw new Error(`order ended ${result.status}`);
    };
    const f1 = () => client.workflow.execute('f1', { taskQueue: 'floors', workflowId: randomUUID() });

    log('warming up…');
    await closedLoop(CONCURRENCY, D.warm, order);
    await closedLoop(CONCURRENCY, D.warm, f1);

    const shape = await orderShape(client, await submit());
    results.orderShape = shape;
    const fSame = () =>
      client.workflow.execute('fSame', { taskQueue: 'floors', workflowId: randomUUID(), args: [shape] });
    // The supplier path's floor: no-op activities of the kinds a supplier-routed order makes
    // (its purchase is a regular activity). Supplier-routed ÷ own-inventory orders cannot
    // beat this floor's ratio to F-same by much: it is what the purchase's kind alone costs.
    const supplied = await supplierRoutedOrder(api, client);
    const supplierShape = await orderShape(client, await supplied.submit());
    results.supplierOrderShape = supplierShape;
    const fSupplier = () =>
      client.workflow.execute('fSame', { taskQueue: 'floors', workflowId: randomUUID(), args: [supplierShape] });

    const pids = stack.pids();
    const processes = {
      temporal: () => cpuMs(pids.temporal!),
      worker: () => pids.workers.reduce((t, pid) => t + cpuMs(pid), 0),
      api: () => cpuMs(pids.api!),
      postgres: postgresCpuMs,
      floorWorker: () => cpuMs(floors.pid!),
    };
    const withCpu = async (run: () => Promise<LoadResult>) => {
      const before = Object.fromEntries(Object.entries(processes).map(([k, f]) => [k, f()]));
      const result = await run();
      const perCall = Object.fromEntries(
        Object.entries(processes).map(([k, f]) => [k, round((f() - before[k]!) / Math.max(1, result.completed))]),
      );
      return { ...result, cpuMsPerCall: perCall };
    };

    log('floors…');
    const F1 = await withCpu(() => closedLoop(CONCURRENCY, D.run, f1));
    const FSame = await withCpu(() => closedLoop(CONCURRENCY, D.run, fSame));
    const FSupplier = await withCpu(() => closedLoop(CONCURRENCY, D.run, fSupplier));
    // The SDK's own peak under load: the floor worker (no-op activities) after F1 and F-same.
    const floorWorkerPeakMb = round(peakRssMb(floors.pid!));
    log('orders, closed loop…');
    const orders = await withCpu(() => closedLoop(CONCURRENCY, D.run, order));
    // The worker's peak (a high-water mark) after each section: own-stock orders at
    // sustained load, then supplier-routed orders, then the open loop's overload steps.
    const workerPeakSustainedMb = round(peakRssMb(pids.workers[0]!));
    log('supplier-routed orders, closed loop…');
    await closedLoop(CONCURRENCY, D.warm / 2, supplied.order);
    const supplierOrders = await withCpu(() => closedLoop(CONCURRENCY, D.run, supplied.order));
    await supplied.close();
    const workerPeakSuppliedMb = round(peakRssMb(pids.workers[0]!));
    results.closedLoop = { F1, FSame, FSupplier, orders, supplierOrders };

    log('orders, open loop at rising rates…');
    const steps: { offered: number; result: LoadResult }[] = [];
    let sustained = 0;
    for (let rate = 10; rate <= 200; rate += 5) {
      const result = await openLoop(rate, D.step, order);
      steps.push({ offered: rate, result });
      log(
        `  ${rate}/s → ${result.rate.toFixed(1)}/s, p99 ${result.latency.p99.toFixed(0)} ms, errors ${result.errors}`,
      );
      const held = result.errors === 0 && result.latency.p99 <= MAX_P99_MS && result.rate >= rate * 0.9;
      if (!held) break;
      sustained = rate;
    }
    const half = sustained > 0 ? await openLoop(sustained / 2, D.step, order) : undefined;
    results.openLoop = { steps, sustained, atHalf: half };

    log('intake at the highest sustained rate…');
    const intakeRate = Math.max(sustained, 10);
    const apiBefore = cpuMs(pids.api!);
    const intake = await openLoop(intakeRate, D.step, async () => {
      await submit();
    });
    const intakeApiCpu = round((cpuMs(pids.api!) - apiBefore) / Math.max(1, intake.completed));
    await new Promise((r) => setTimeout(r, 3_000)); // let those orders finish before the next section
    results.intake = { rate: intakeRate, result: intake, apiCpuMsPerRequest: intakeApiCpu };

    log('key claiming…');
    results.keyClaiming = await keyClaiming(root ?? ROOT, stack.databaseUrl, D.claims);

    log('risk evaluation over 10,000 prior orders…');
    results.riskEvaluation = await riskEvaluation(root ?? ROOT, stack.databaseUrl, quick ? 200 : 1000);

    log('memory…');
    const bare = spawnFloorWorker(stack.temporalAddress, 'bare', true);
    await new Promise((r) => setTimeout(r, 10_000));
    results.peakRssMb = {
      api: round(peakRssMb(pids.api!)),
      worker: round(peakRssMb(pids.workers[0]!)),
      workerAtSustainedLoad: workerPeakSustainedMb,
      workerAfterSupplierOrders: workerPeakSuppliedMb,
      bareSdkWorker: round(peakRssMb(bare.pid!)),
      floorWorkerUnderLoad: floorWorkerPeakMb,
    };
    await stopChild(bare);

    log('scale-out: a second worker…');
    await stack.startWorker();
    const twoWorkers = await closedLoop(CONCURRENCY, D.run, order);
    results.scaleOut = { oneWorker: orders.rate, twoWorkers: twoWorkers.rate, twoWorkersLatency: twoWorkers.latency };
    await stack.killWorker(1, 'SIGTERM');

    // Last, on one worker (restarted in them): nothing after them can meet a renewal, and the
    // sleepers stay asleep until the stack stops.
    const subscriptions: SubscriptionBenchContext = {
      worker: {
        pid: () => stack.pids().workers[0]!,
        stop: () => stack.killWorker(0, 'SIGTERM'),
        start: () => stack.startWorker(),
      },
      admin: api,
      apiFor: (key) => apiClient(stack.apiUrl, key),
      client,
      pool,
      taskQueue: stack.taskQueue,
      // The worker process changes in these sections: its CPU is read from the live one.
      cpu: () => ({
        ...Object.fromEntries(Object.entries(processes).map(([k, f]) => [k, f()])),
        worker: stack.pids().workers.reduce((t, pid) => t + cpuMs(pid), 0),
      }),
      startBareWorker: () => spawnFloorWorker(stack.temporalAddress, 'bare', true),
      stopChild,
      log,
    };
    let ratiosOfSubscriptions = {};
    if (existsSync(path.join(root ?? ROOT, 'workflows/subscription.ts'))) {
      log('subscriptions: a renewal peak…');
      const peak = await renewalPeak(subscriptions, quick);
      log(`  ${peak.renewed} renewals at ${peak.rate.toFixed(1)}/s; own-inventory orders again, closed loop…`);
      const ordersAfterPeak = await closedLoop(CONCURRENCY, D.step, order);
      log('subscriptions: sleeping, on a fresh worker…');
      const sleeping = await sleepingMemory(subscriptions, quick);
      results.subscriptions = { peak, ordersAfterPeak, sleeping };
      ratiosOfSubscriptions = {
        renewalsToOrders: round(peak.rate / orders.rate),
        renewalsToOrdersAfterPeak: round(peak.rate / ordersAfterPeak.rate),
        sleepingWorkerToBare: sleeping.workerToBare,
      };
    } else {
      results.subscriptions = { skipped: 'the checkout under test has no subscriptions' };
    }

    results.ratios = {
      ordersToF1: round(orders.rate / F1.rate),
      ordersToFSame: round(orders.rate / FSame.rate),
      supplierOrdersToOrders: round(supplierOrders.rate / orders.rate),
      fSupplierToFSame: round(FSupplier.rate / FSame.rate),
      sustainedToF1: round(sustained / F1.rate),
      ...ratiosOfSubscriptions,
    };
    results.finishedAt = new Date().toISOString();
    mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
    const file = path.join(ROOT, 'bench/results', `${started.toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(table(results));
    process.stdout.write(`\nJSON: ${path.relative(ROOT, file)}\n`);
  } finally {
    await stopChild(floors);
    await pool.end();
    await connection.close();
    await stack.stop();
  }
}

/**
 * One-unit orders of a product with no own stock, bought from a simulated supplier (reference
 * protocol, no added latency, in this process) through its route: quote + order over HTTP,
 * the key sealed on arrival. What a supplier costs the platform beyond an own-stock order.
 */
async function supplierRoutedOrder(api: ReturnType<typeof apiClient>, client: Client) {
  const sim = await startSupplierSim();
  const name = `bench-${randomUUID().slice(0, 8)}`;
  const secret = `bench-secret-${randomUUID()}`;
  await fetch(`${sim.url}/admin/suppliers/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      protocol: 'reference',
      accountId: 'bench',
      secret,
      currency: 'CNY',
      products: { P: { kind: 'card_key', costMinor: 50, stock: 1_000_000 } },
    }),
  });
  await api.post('/v1/suppliers', {
    name,
    protocol: 'reference',
    baseUrl: `${sim.url}/ref/${name}`,
    credentials: { accountId: 'bench', secret },
  });
  const sku = `bench-sup-${randomUUID().slice(0, 8)}`;
  await api.post('/v1/products', {
    sku,
    name: 'Bench points',
    kind: 'card_key',
    price: { minor: 100, currency: 'CNY' },
  });
  await api.put(`/v1/products/${sku}/routes/${name}`, { productCode: 'P', cost: { minor: 50 } });
  const shop = await api.post('/v1/clients', { name: 'bench supplier shop', role: 'order-system' });
  await api.post(`/v1/clients/${shop.id}/topups`, { amount: { minor: 1_000_000_000, currency: 'CNY' } });
  const shopApi = apiClient(api.baseUrl, shop.apiKey);
  const submit = async () => {
    const externalOrderId = randomUUID();
    await shopApi.post('/v1/orders', {
      externalOrderId,
      buyer: { id: `buyer-${externalOrderId.slice(0, 4)}`, ip: '203.0.113.7' },
      items: [{ sku, quantity: 1 }],
    });
    return workflowIds.order(shop.id, externalOrderId);
  };
  const order = async () => {
    const workflowId = await submit();
    const result = (await whenStarted(client, workflowId, (h) => h.result())) as OrderProgress;
    if (result.status !== 'delivered') throw new Error(`supplier order ended ${result.status}`);
  };
  return { submit, order, close: () => sim.close() };
}

function spawnFloorWorker(address: string, taskQueue: string, bare: boolean): ChildProcess {
  return spawn(process.execPath, nodeTsArgs('bench/floors/worker.ts'), {
    cwd: ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: address, BENCH_TASK_QUEUE: taskQueue, BENCH_BARE: bare ? '1' : '0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function apiClient(baseUrl: string, key: string) {
  const send = async (method: string, route: string, body: unknown): Promise<any> => {
    const res = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    if (res.status >= 300) throw new Error(`${route}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    baseUrl,
    post: (route: string, body: unknown) => send('POST', route, body),
    put: (route: string, body: unknown) => send('PUT', route, body),
    patch: (route: string, body: unknown) => send('PATCH', route, body),
  };
}

/** The kinds of activity calls one order makes, in order, read from its history. */
async function orderShape(client: Client, workflowId: string): Promise<Step[]> {
  const handle = await whenStarted(client, workflowId, async (h) => (await h.result(), h));
  const { EventType } = temporal.api.enums.v1;
  const steps: Step[] = [];
  for (const event of (await handle.fetchHistory()).events ?? []) {
    // Local activities are recorded as markers; so are patch decisions (`core_patch`), which are not calls.
    const marker = event.markerRecordedEventAttributes?.markerName;
    if (event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED && marker === 'core_local_activity')
      steps.push('local');
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) steps.push('regular');
  }
  return steps;
}

/**
 * 32 claimers on one SKU: the reservation the order workflow runs (the store function,
 * one-unit orders) against a raw-SQL baseline that binds a key to a unit with the plainest
 * statement (UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1)) through pg, same run.
 */
async function keyClaiming(root: string, databaseUrl: string, perSide: number) {
  // The store of the checkout under test (BENCH_ROOT), so a before/after compares its reservation.
  const { reserveKeysForOrder } = (await import(
    path.join(root, 'store/inventory')
  )) as typeof import('../store/inventory');
  const { createDb, closeDb } = await platformDb(root);
  const pool = new Pool({ connectionString: databaseUrl, max: CLAIMERS + 2 });
  const db = createDb(databaseUrl, CLAIMERS + 2);
  try {
    const one = async (sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows[0];
    const client = await one(
      `INSERT INTO clients (id, name, role, api_key_hash, api_key_prefix) VALUES (gen_random_uuid(), 'claims', 'order-system', md5(random()::text), 'x') RETURNING id`,
    );
    const product = await one(
      `INSERT INTO products (id, sku, name, kind, price_minor, currency) VALUES (gen_random_uuid(), 'claims-' || md5(random()::text), 'claims', 'card_key', 1, 'CNY') RETURNING id`,
    );
    const batch = await one(`INSERT INTO key_batches (id, product_id) VALUES (gen_random_uuid(), $1) RETURNING id`, [
      product.id,
    ]);
    await pool.query(
      `INSERT INTO card_keys (id, product_id, batch_id, ciphertext, encryption_key_id, fingerprint)
       SELECT gen_random_uuid(), $1, $2, 'bench', 'k1', md5(random()::text || g) FROM generate_series(1, $3) g`,
      [product.id, batch.id, perSide * 2],
    );
    const orderIds: string[] = (
      await pool.query(
        `WITH o AS (
           INSERT INTO orders (id, client_id, external_order_id, request_hash, buyer_id, buyer_ip, amount_minor, currency, workflow_id, status, updated_at)
           SELECT gen_random_uuid(), $1, 'claims-' || g, 'h', 'b', '203.0.113.7', 1, 'CNY', 'claims:' || gen_random_uuid(), 'fulfilling', now()
           FROM generate_series(1, $2) g RETURNING id
         ), i AS (
           INSERT INTO order_items (id, order_id, position, product_id, sku, quantity, unit_price_minor)
           SELECT gen_random_uuid(), o.id, 0, $3, 'claims', 1, 1 FROM o RETURNING id, order_id
         ), u AS (
           INSERT INTO order_units (id, order_id, item_id, product_id) SELECT gen_random_uuid(), order_id, id, $3 FROM i
         )
         SELECT id FROM o`,
        [client.id, perSide * 2, product.id],
      )
    ).rows.map((r) => r.id);

    const claim = async (ids: string[], reserve: (orderId: string) => Promise<boolean>) => {
      let next = 0;
      let failed = 0;
      const latency = latencies();
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CLAIMERS }, async () => {
          for (let id = ids[next++]; id; id = ids[next++]) {
            const s = performance.now();
            if (await reserve(id)) latency.record(performance.now() - s);
            else failed += 1;
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      return {
        reservations: latency.count(),
        failed,
        perSecond: round(latency.count() / seconds),
        latency: latency.summary(),
      };
    };
    const store = await claim(
      orderIds.slice(0, perSide),
      async (id) => (await reserveKeysForOrder(db, id)).reserved === 1,
    );
    const raw = await claim(orderIds.slice(perSide), async (id) => {
      const result = await pool.query(
        `WITH k AS (SELECT id FROM card_keys WHERE product_id = $2 AND status = 'available' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED),
              u AS (UPDATE order_units SET card_key_id = (SELECT id FROM k), status = 'reserved'
                    WHERE order_id = $1 AND card_key_id IS NULL AND EXISTS (SELECT 1 FROM k) RETURNING id)
         UPDATE card_keys c SET status = 'reserved', reserved_by_unit_id = u.id, reserved_at = now() FROM k, u WHERE c.id = k.id`,
        [id, product.id],
      );
      return result.rowCount === 1;
    });
    const doubles = await one(
      `SELECT
         (SELECT count(*) FROM (SELECT card_key_id FROM order_units WHERE card_key_id IS NOT NULL GROUP BY card_key_id HAVING count(*) > 1) d)::int AS units_sharing_a_key,
         (SELECT count(*) FROM card_keys k JOIN order_units u ON u.card_key_id = k.id WHERE k.reserved_by_unit_id IS DISTINCT FROM u.id)::int AS mismatched,
         (SELECT count(*) FROM card_keys WHERE product_id = $1 AND status = 'reserved')::int AS reserved_keys`,
      [product.id],
    );
    return { claimers: CLAIMERS, store, rawSql: raw, storeToRaw: round(store.perSecond / raw.perSecond), doubles };
  } finally {
    await closeDb(db);
    await pool.end();
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

function table(r: any): string {
  const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |\n`;
  const lat = (l: any) => `${l.p50.toFixed(0)} / ${l.p95.toFixed(0)} / ${l.p99.toFixed(0)}`;
  const cpu = (c: any, worker = c.worker) => `${c.temporal} / ${worker} / ${c.api} / ${c.postgres}`;
  const { F1, FSame, FSupplier, orders } = r.closedLoop;
  let out = `\nMachine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGb} GB, Node ${r.machine.node}, commit ${r.machine.commit}\n\n`;
  out += row([
    'closed loop, 20 concurrent',
    'completed/s',
    'p50 / p95 / p99 ms',
    'CPU ms per call: server / worker / API / PostgreSQL',
  ]);
  out += row(['---', '---', '---', '---']);
  out += row([
    'F1: one no-op activity',
    F1.rate.toFixed(1),
    lat(F1.latency),
    cpu(F1.cpuMsPerCall, F1.cpuMsPerCall.floorWorker),
  ]);
  out += row([
    `F-same: ${r.orderShape.join(', ')}`,
    FSame.rate.toFixed(1),
    lat(FSame.latency),
    cpu(FSame.cpuMsPerCall, FSame.cpuMsPerCall.floorWorker),
  ]);
  out += row([
    `F-supplier: ${r.supplierOrderShape.join(', ')}`,
    FSupplier.rate.toFixed(1),
    lat(FSupplier.latency),
    cpu(FSupplier.cpuMsPerCall, FSupplier.cpuMsPerCall.floorWorker),
  ]);
  out += row([
    'own-inventory order, POST → delivered',
    orders.rate.toFixed(1),
    lat(orders.latency),
    cpu(orders.cpuMsPerCall),
  ]);
  const sup = r.closedLoop.supplierOrders;
  out += row([
    'supplier-routed order (simulator, no latency)',
    sup.rate.toFixed(1),
    lat(sup.latency),
    cpu(sup.cpuMsPerCall),
  ]);
  out += `\nOrders ÷ F1: ${r.ratios.ordersToF1}   Orders ÷ F-same: ${r.ratios.ordersToFSame}   Supplier-routed ÷ own-inventory: ${r.ratios.supplierOrdersToOrders} (their floors, F-supplier ÷ F-same: ${r.ratios.fSupplierToFSame})\n`;
  out += `Open loop: highest sustained ${r.openLoop.sustained}/s (${r.ratios.sustainedToF1} × F1); `;
  out += r.openLoop.atHalf
    ? `at half (${r.openLoop.sustained / 2}/s) p50/p95/p99 ${lat(r.openLoop.atHalf.latency)} ms\n`
    : '\n';
  out += `Intake at ${r.intake.rate}/s: POST p50 ${r.intake.result.latency.p50.toFixed(1)} ms, p99 ${r.intake.result.latency.p99.toFixed(1)} ms; API CPU ${r.intake.apiCpuMsPerRequest} ms/request\n`;
  const k = r.keyClaiming;
  out += `Key claiming, ${k.claimers} claimers, one SKU: store ${k.store.perSecond}/s (p99 ${k.store.latency.p99.toFixed(1)} ms) vs raw SQL ${k.rawSql.perSecond}/s (p99 ${k.rawSql.latency.p99.toFixed(1)} ms) = ${k.storeToRaw}×; units sharing a key ${k.doubles.units_sharing_a_key}, mismatched ${k.doubles.mismatched}\n`;
  const risk = r.riskEvaluation;
  out += risk.skipped
    ? `Risk evaluation: ${risk.skipped}\n`
    : `Risk evaluation (facts + rules) with ${risk.priorOrders} prior orders, heavy buyer: p50 ${risk.latency.p50.toFixed(1)} ms, p99 ${risk.latency.p99.toFixed(1)} ms over ${risk.latency.count} (${JSON.stringify(risk.decisions)})\n`;
  const rss = r.peakRssMb;
  const toBare = (mb: number) => `${mb} MB, ${round(mb / rss.bareSdkWorker)}×`;
  out += `Peak RSS: API ${rss.api} MB; worker against the bare SDK worker's ${rss.bareSdkWorker} MB: own-stock orders ${toBare(rss.workerAtSustainedLoad)}; + supplier-routed ${toBare(rss.workerAfterSupplierOrders)}; + open loop to overload ${toBare(rss.worker)}; the floor worker (SDK, no-op activities) after F1 and F-same ${toBare(rss.floorWorkerUnderLoad)}\n`;
  out += `Scale-out: 1 worker ${r.scaleOut.oneWorker.toFixed(1)}/s, 2 workers ${r.scaleOut.twoWorkers.toFixed(1)}/s\n`;
  if (r.subscriptions.skipped) return `${out}Subscriptions: ${r.subscriptions.skipped}\n`;
  const { peak, ordersAfterPeak, sleeping } = r.subscriptions;
  out += `Renewal peak: ${peak.subscriptions} monthly subscriptions due within ${peak.dueWindowSeconds} s, all waiting for the worker (down ${peak.workerDownSeconds} s over it) → ${peak.rate.toFixed(1)} renewals/s (${peak.notRenewed} not renewed) = ${r.ratios.renewalsToOrders} × own-inventory orders/s (${r.ratios.renewalsToOrdersAfterPeak} × the ${ordersAfterPeak.rate.toFixed(1)}/s right after); delivered p50 ${peak.lateness.p50.toFixed(0)} ms, p99 ${peak.lateness.p99.toFixed(0)} ms after the worker came back; CPU ms per renewal ${cpu(peak.cpuMsPerRenewal)}\n`;
  out += `Sleeping: ${sleeping.asleep} yearly subscriptions asleep (${sleeping.createdPerSecond}/s created): worker RSS ${sleeping.workerRssMb} MB against the bare SDK worker's ${sleeping.bareSdkWorkerRssMb} MB = ${sleeping.workerToBare}× (${sleeping.workerRssBeforeMb} MB before them, ${sleeping.growthMbPer1000} MB per 1,000); at most ${sleeping.maxCachedWorkflows} workflows cached\n`;
  return out;
}

main().catch((err) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
