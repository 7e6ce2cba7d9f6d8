// The chaos run: mixed orders from several shops while workers and the API are SIGKILLed, the Temporal
// dev server restarts and PostgreSQL connections are dropped, then every invariant checked
// from the database, the webhook receivers and the workflow histories. Seeded: the same
// seed makes the same orders and the same schedule of faults (their timing against the
// system still varies). `npm run chaos` (full), and a short run in `npm test`.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { Pool } from 'pg';
import { verifyWebhook } from '../../infra/webhook-signature';
import { workflowIds } from '../../domain/workflow-ids';
import { ROOT } from './node-ts';
import { startProcessStack } from './process-stack';
import { mulberry32 } from './prng';
import { type FaultMix, startSupplierSim } from './supplier-sim';

export interface ChaosOptions {
  seed: number;
  orders: number;
  /** Milliseconds between faults, on average. */
  faultEveryMs: number;
  /** Submissions are spread over this long, so faults land on orders in every step. */
  submitOverMs: number;
  /** Faults go on after the last submission until at least these many happened. */
  minFaults: { workerKills: number; apiKills: number; temporalRestarts: number; droppedConnections: number };
  settleTimeoutMs: number;
  log?: (line: string) => void;
}

export const FULL: Omit<ChaosOptions, 'seed'> = {
  orders: 600,
  faultEveryMs: 4_000,
  submitOverMs: 150_000,
  minFaults: { workerKills: 10, apiKills: 3, temporalRestarts: 2, droppedConnections: 20 },
  settleTimeoutMs: 300_000,
};
export const SHORT: Omit<ChaosOptions, 'seed'> = {
  orders: 60,
  faultEveryMs: 3_000,
  submitOverMs: 15_000,
  minFaults: { workerKills: 1, apiKills: 1, temporalRestarts: 1, droppedConnections: 3 },
  settleTimeoutMs: 120_000,
};

export interface Verdict {
  seed: number;
  orders: number;
  byStatus: Record<string, number>;
  faults: { workerKills: number; apiKills: number; temporalRestarts: number; droppedConnections: number };
  checks: { name: string; ok: boolean; detail: string }[];
  ok: boolean;
  seconds: number;
}

type Mode = 'ok' | 'flaky' | 'down';

async function receiver(mode: Mode, random: () => number) {
  const hits = new Map<string, { verified: boolean; accepted: boolean }[]>();
  let secret = '';
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const accept = mode === 'ok' || (mode === 'flaky' && random() < 0.6);
      let id = '(unparsable)';
      try {
        id = JSON.parse(raw).id;
      } catch {
        // recorded under (unparsable)
      }
      const verified = verifyWebhook(
        secret,
        raw,
        String(req.headers['x-signature'] ?? ''),
        Math.floor(Date.now() / 1000),
      );
      hits.set(id, [...(hits.get(id) ?? []), { verified, accepted: accept }]);
      res.writeHead(accept ? 204 : 503).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    mode,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    hits,
    setSecret: (s: string) => (secret = s),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function runChaos(options: ChaosOptions): Promise<Verdict> {
  const log = options.log ?? (() => undefined);
  const random = mulberry32(options.seed);
  const started = Date.now();
  const stack = await startProcessStack({
    name: `chaos_${process.pid}`,
    dataDir: path.join(ROOT, '.data', `chaos-${process.pid}`),
    log,
  });
  const pool = new Pool({ connectionString: stack.databaseUrl, max: 4 });
  const receivers = await Promise.all((['ok', 'flaky', 'down'] as const).map((m) => receiver(m, random)));
  // Upstream suppliers live outside the faulted stack, as real ones do; they have faults of their own.
  const sim = await startSupplierSim();
  const faults = { workerKills: 0, apiKills: 0, temporalRestarts: 0, droppedConnections: 0 };
  const codes: string[] = [];
  let temporalConnection: Connection | undefined;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers are read field by field below
  const call = async (key: string, method: string, route: string, body?: unknown): Promise<Record<string, any>> => {
    // While Temporal or PostgreSQL is down the API answers 5xx or not at all: the caller
    // retries with the same body (and for orders the same externalOrderId, the idempotent contract).
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(`${stack.apiUrl}${route}`, {
          method,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(10_000),
        });
        const json = (await res.json()) as Awaited<ReturnType<typeof call>>;
        if (res.status < 500) {
          if (res.status >= 400) throw new Error(`${route}: ${res.status} ${JSON.stringify(json)}`);
          return json;
        }
      } catch (err) {
        if (String(err).includes(': 4')) throw err;
      }
      if (attempt > 200) throw new Error(`${route}: no answer after ${attempt} attempts`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  try {
    // Two products: one well stocked, one short (so some orders are refunded as out of stock).
    const skus = ['chaos-plenty', 'chaos-scarce'];
    for (const [i, sku] of skus.entries()) {
      await call(stack.adminKey, 'POST', '/v1/products', {
        sku,
        name: sku,
        kind: 'card_key',
        price: { minor: 100 + i * 50, currency: 'CNY' },
      });
      const n = i === 0 ? options.orders * 2 : Math.ceil(options.orders / 5);
      for (let from = 0; from < n; from += 1000) {
        const keys = Array.from(
          { length: Math.min(1000, n - from) },
          (_, j) => `CHAOS-${options.seed}-${sku}-${from + j}-${random().toString(36).slice(2)}`,
        );
        codes.push(...keys);
        await call(stack.adminKey, 'POST', '/v1/inventory/batches', { sku, keys });
      }
    }
    // A third product with no own stock, bought from two faulty suppliers (reference protocol,
    // then Reloadly-shaped) at order time.
    const suppliers = await addChaosSuppliers(sim.url, options.seed, (method, route, body) =>
      call(stack.adminKey, method, route, body),
    );
    skus.push('chaos-supplied');
    // Three shops: one rich with a healthy receiver, one poor with a flaky one (some orders
    // fail for balance), one rich whose receiver is always down.
    type Shop = {
      id: string;
      apiKey: string;
      webhookSecret: string;
      receiver: (typeof receivers)[number];
      topUp: number;
    };
    const shops: Shop[] = [];
    for (const [i, r] of receivers.entries()) {
      const shop = await call(stack.adminKey, 'POST', '/v1/clients', {
        name: `chaos shop ${i}`,
        role: 'order-system',
        webhookUrl: r.url,
      });
      r.setSecret(shop.webhookSecret);
      const topUp = i === 1 ? options.orders * 30 : options.orders * 1000;
      await call(stack.adminKey, 'POST', `/v1/clients/${shop.id}/topups`, {
        amount: { minor: topUp, currency: 'CNY' },
      });
      shops.push({ id: shop.id, apiKey: shop.apiKey, webhookSecret: shop.webhookSecret, receiver: r, topUp });
    }

    const plan = Array.from({ length: options.orders }, (_, n) => {
      const shop = shops[Math.floor(random() * shops.length)]!;
      const pick = random();
      const sku = pick < 0.6 ? skus[0]! : pick < 0.8 ? skus[1]! : skus[2]!;
      return { shop, externalOrderId: `chaos-${options.seed}-${n}`, sku, quantity: 1 + Math.floor(random() * 3) };
    });
    const faultPlan = Array.from({ length: 1000 }, () => random());

    // Faults, on a schedule from the seed: kill a worker (most often), drop connections, restart Temporal.
    let faulting = true;
    const faultLoop = (async () => {
      let i = 0;
      while (faulting) {
        await new Promise((r) => setTimeout(r, options.faultEveryMs * (0.5 + faultPlan[i % faultPlan.length]!)));
        if (!faulting) break;
        const pick = faultPlan[(i + 1) % faultPlan.length]!;
        i += 2;
        try {
          if (pick < 0.45) {
            await stack.killWorker(0, 'SIGKILL');
            faults.workerKills += 1;
            log(`fault: worker killed (${faults.workerKills})`);
            await stack.startWorker();
          } else if (pick < 0.65) {
            const { rowCount } = await pool.query(
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
            );
            faults.droppedConnections += rowCount ?? 0;
            log(`fault: ${rowCount} PostgreSQL connections dropped`);
          } else if (pick < 0.85) {
            // Killed mid-request: an order it accepted may have no workflow yet (the sweep of
            // the next API process starts it); an order it never answered is resubmitted.
            await stack.restartApi('SIGKILL');
            faults.apiKills += 1;
            log(`fault: API killed (${faults.apiKills})`);
          } else {
            await stack.restartTemporal();
            faults.temporalRestarts += 1;
            log(`fault: Temporal restarted (${faults.temporalRestarts})`);
          }
        } catch (err) {
          log(`fault failed: ${String(err)}`);
        }
      }
    })();

    // Submit with ten callers, order n not before its slot; each order is retried with its own
    // externalOrderId until accepted.
    let next = 0;
    const submitStart = Date.now();
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let n = next++, o = plan[n]; o; n = next++, o = plan[n]) {
          const slot = submitStart + (n * options.submitOverMs) / plan.length - Date.now();
          if (slot > 0) await new Promise((r) => setTimeout(r, slot));
          await call(o.shop.apiKey, 'POST', '/v1/orders', {
            externalOrderId: o.externalOrderId,
            buyer: { id: `buyer-${o.externalOrderId}`, ip: '203.0.113.9' },
            items: [{ sku: o.sku, quantity: o.quantity }],
            // Supplier-bought orders deliver what they got: every sale then ends up delivered.
            ...(o.sku === 'chaos-supplied' ? { allowPartial: true } : {}),
          });
        }
      }),
    );
    log(`${plan.length} orders accepted; faults keep coming for a while`);
    const enough = () =>
      faults.workerKills >= options.minFaults.workerKills &&
      faults.apiKills >= options.minFaults.apiKills &&
      faults.temporalRestarts >= options.minFaults.temporalRestarts &&
      faults.droppedConnections >= options.minFaults.droppedConnections;
    const faultsBy = Date.now() + 120_000;
    while (!enough() && Date.now() < faultsBy) await new Promise((r) => setTimeout(r, 500));
    faulting = false;
    await faultLoop;
    if (stack.pids().workers.length === 0) await stack.startWorker();

    // Settle: every order terminal.
    const deadline = Date.now() + options.settleTimeoutMs;
    let open = Infinity;
    while (Date.now() < deadline) {
      open = Number(
        (
          await pool.query(
            `SELECT count(*) FROM orders WHERE status NOT IN ('delivered', 'partially_delivered', 'failed', 'refunded', 'rejected')`,
          )
        ).rows[0].count,
      );
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    // An order's workflow ends once its webhook got through or ran out of attempts (about
    // eight minutes for a receiver that stays down): wait for every workflow of the shops whose
    // receivers answer to close before reading what they saw.
    temporalConnection = await Connection.connect({ address: stack.temporalAddress });
    const client = new Client({ connection: temporalConnection });
    const downShop = shops.find((s) => s.receiver.mode === 'down')!.id;
    const handles = (
      await pool.query(`SELECT client_id, external_order_id FROM orders WHERE client_id <> $1`, [downShop])
    ).rows.map((o) => client.workflow.getHandle(workflowIds.order(o.client_id, o.external_order_id)));
    let running = handles;
    const closeBy = Date.now() + options.settleTimeoutMs;
    while (running.length > 0 && Date.now() < closeBy) {
      // A workflow not found yet is one whose start a fault lost: the API's sweep starts it.
      const states = await Promise.all(
        running.map((h) =>
          h.describe().then(
            (d) => d.status.name,
            (err: unknown) => {
              if (err instanceof WorkflowNotFoundError) return 'NOT_STARTED';
              throw err;
            },
          ),
        ),
      );
      running = running.filter((_, i) => states[i] === 'RUNNING' || states[i] === 'NOT_STARTED');
      if (running.length > 0) await new Promise((r) => setTimeout(r, 2_000));
    }

    const checks: Verdict['checks'] = [];
    checks.push({
      name: 'the faults happened',
      ok: enough(),
      detail: `${faults.workerKills} worker kills, ${faults.apiKills} API kills, ${faults.temporalRestarts} restarts, ${faults.droppedConnections} drops; wanted ${JSON.stringify(options.minFaults)}`,
    });
    const check = async (name: string, sql: string, detail = (n: number) => `${n} violations`) => {
      const n = Number((await pool.query(sql)).rows[0].n);
      checks.push({ name, ok: n === 0, detail: detail(n) });
    };
    await check(
      'every order terminal',
      `SELECT count(*) AS n FROM orders WHERE status NOT IN ('delivered', 'partially_delivered', 'failed', 'refunded', 'rejected')`,
      (n) => `${n} not terminal`,
    );
    await check(
      'no key bound to two units',
      `SELECT count(*) AS n FROM (SELECT card_key_id FROM order_units WHERE card_key_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1) x`,
    );
    await check(
      'unit and key agree on every binding',
      `SELECT count(*) AS n FROM order_units u JOIN card_keys k ON k.id = u.card_key_id WHERE k.reserved_by_unit_id IS DISTINCT FROM u.id`,
    );
    await check(
      'delivered orders: every unit delivered with a delivered key',
      `SELECT count(*) AS n FROM orders o JOIN order_units u ON u.order_id = o.id LEFT JOIN card_keys k ON k.id = u.card_key_id
       WHERE o.status = 'delivered' AND (u.status <> 'delivered' OR k.status IS DISTINCT FROM 'delivered')`,
    );
    await check(
      'no key left reserved or bound outside a delivered order',
      `SELECT count(*) AS n FROM card_keys k WHERE k.status = 'reserved'
          OR (k.reserved_by_unit_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM order_units u JOIN orders o ON o.id = u.order_id
                WHERE u.id = k.reserved_by_unit_id AND o.status IN ('delivered', 'partially_delivered')))`,
    );
    // Money per order: authorized once; captured exactly what was delivered; the rest released.
    const ORDER_MONEY = `
      SELECT o.id, o.status, o.amount_minor,
             (SELECT count(*) FROM ledger_transactions t WHERE t.order_id = o.id AND t.kind = 'hold') AS holds, (SELECT coalesce(sum(t.amount_minor), 0) FROM ledger_transactions t WHERE t.order_id = o.id AND t.kind = 'hold') AS held,
             (SELECT count(*) FROM ledger_transactions t WHERE t.order_id = o.id AND t.kind = 'capture') AS captures, (SELECT coalesce(sum(t.amount_minor), 0) FROM ledger_transactions t WHERE t.order_id = o.id AND t.kind = 'capture') AS captured,
             (SELECT count(*) FROM ledger_transactions t WHERE t.order_id = o.id AND t.kind = 'release') AS releases, (SELECT coalesce(sum(t.amount_minor), 0) FROM ledger_transactions t WHERE t.order_id = o.id AND t.kind = 'release') AS released,
             (SELECT coalesce(sum(i.unit_price_minor), 0) FROM order_units u JOIN order_items i ON i.id = u.item_id WHERE u.order_id = o.id AND u.status = 'delivered') AS delivered_value
        FROM orders o`;
    await check(
      'delivered orders: authorized once and captured once, for their amount',
      `SELECT count(*) AS n FROM (${ORDER_MONEY}) m WHERE m.status = 'delivered'
         AND (holds <> 1 OR captures <> 1 OR releases <> 0 OR held <> amount_minor OR captured <> amount_minor)`,
    );
    await check(
      'refunded orders: authorized once, nothing captured, the hold released in full',
      `SELECT count(*) AS n FROM (${ORDER_MONEY}) m WHERE m.status = 'refunded'
         AND (holds <> 1 OR captures <> 0 OR releases <> 1 OR released <> amount_minor)`,
    );
    await check(
      'partially delivered orders: captured exactly the delivered units, the rest released',
      `SELECT count(*) AS n FROM (${ORDER_MONEY}) m WHERE m.status = 'partially_delivered'
         AND (holds <> 1 OR captures <> 1 OR releases <> 1 OR captured <> delivered_value
              OR released <> amount_minor - delivered_value
              OR EXISTS (SELECT 1 FROM order_units u WHERE u.order_id = m.id AND u.status NOT IN ('delivered', 'refunded')))`,
    );
    await check(
      'every ledger transaction sums to zero',
      `SELECT count(*) AS n FROM (SELECT transaction_id FROM ledger_postings GROUP BY 1 HAVING sum(amount_minor) <> 0) x`,
    );
    await check(
      'running balances equal the sum of their postings',
      `SELECT count(*) AS n FROM ledger_accounts a WHERE a.client_id IS NOT NULL
         AND a.balance_minor <> (SELECT coalesce(sum(p.amount_minor), 0) FROM ledger_postings p WHERE p.account_id = a.id)`,
    );
    // Suppliers: each one's own ledger of sales is exactly the units delivered from it.
    let salesOff = 0;
    for (const supplier of suppliers) {
      const sold = (await (await fetch(`${sim.url}/admin/suppliers/${supplier.name}/sales`)).json()) as {
        sales: { reference: string; status: string }[];
      };
      const soldRefs = sold.sales
        .filter((x) => x.status === 'succeeded')
        .map((x) => x.reference)
        .sort();
      const delivered = (
        await pool.query(
          `SELECT u.id FROM order_units u JOIN suppliers s ON s.id = u.supplier_id WHERE s.name = $1 AND u.status = 'delivered'`,
          [supplier.name],
        )
      ).rows
        .map((r) => r.id as string)
        .sort();
      if (JSON.stringify(soldRefs) !== JSON.stringify(delivered)) salesOff += 1;
      log(`supplier ${supplier.name}: ${soldRefs.length} sold, ${delivered.length} delivered from it`);
    }
    checks.push({
      name: "each supplier's sales = the units delivered from it (bought once, none lost)",
      ok: salesOff === 0,
      detail: `${salesOff} suppliers off`,
    });
    await check(
      'failed orders never charged',
      `SELECT count(*) AS n FROM orders o WHERE o.status = 'failed' AND EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.order_id = o.id)`,
    );
    // Balances: available = top-ups − captures, nothing left held, ≥ 0, and the API says the same.
    let balanceViolations = 0;
    for (const shop of shops) {
      const { rows } = await pool.query(
        `SELECT coalesce((SELECT balance_minor FROM ledger_accounts WHERE client_id = $1 AND kind = 'client_available'), 0)::bigint AS available,
                coalesce((SELECT balance_minor FROM ledger_accounts WHERE client_id = $1 AND kind = 'client_held'), 0)::bigint AS held,
                coalesce((SELECT sum(amount_minor) FROM ledger_transactions WHERE client_id = $1 AND kind = 'topup'), 0)::bigint AS topups,
                coalesce((SELECT sum(amount_minor) FROM ledger_transactions WHERE client_id = $1 AND kind = 'capture'), 0)::bigint AS captures`,
        [shop.id],
      );
      const r = rows[0];
      const viaApi = (await call(shop.apiKey, 'GET', '/v1/balance')).available?.minor;
      if (
        BigInt(r.available) !== BigInt(r.topups) - BigInt(r.captures) ||
        BigInt(r.held) !== 0n ||
        BigInt(r.topups) !== BigInt(shop.topUp) ||
        Number(r.available) !== viaApi
      )
        balanceViolations += 1;
    }
    checks.push({
      name: 'available = top-ups − captures, nothing held, as the API reports',
      ok: balanceViolations === 0,
      detail: `${balanceViolations} shops off`,
    });
    // Stock: per product, available = imported − delivered (nothing reserved once all is settled).
    await check(
      'stock accounted for',
      `SELECT count(*) AS n FROM (
         SELECT b.product_id, sum(b.imported_count) AS imported,
                (SELECT count(*) FROM card_keys k WHERE k.product_id = b.product_id AND k.status = 'available') AS available,
                (SELECT count(*) FROM card_keys k WHERE k.product_id = b.product_id AND k.status = 'delivered') AS delivered
         FROM key_batches b GROUP BY b.product_id) s WHERE imported <> available + delivered`,
    );
    // Webhooks: each terminal order announced, signed, to a receiver that accepts; attempts seen by the one that never does.
    // The ledger against what was delivered, as finance reads it (GET /v1/reports/reconciliation).
    const recon = await call(
      stack.adminKey,
      'GET',
      `/v1/reports/reconciliation?from=${new Date(started - 60_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`,
    );
    checks.push({
      name: 'the reconciliation report is empty',
      ok: recon.mismatches?.length === 0,
      detail: `${recon.mismatches?.length} mismatches: ${JSON.stringify(recon.mismatches?.slice(0, 3))}`,
    });
    await check(
      'no order parked (every step got through its faults)',
      `SELECT count(*) AS n FROM order_parkings WHERE resumed_at IS NULL`,
      (n) => `${n} parked`,
    );
    const orders = (await pool.query(`SELECT id, client_id, external_order_id, status FROM orders`)).rows;
    let unannounced = 0;
    let unsigned = 0;
    for (const o of orders) {
      const shop = shops.find((s) => s.id === o.client_id)!;
      const hits = shop.receiver.hits.get(`evt_${o.id}_${o.status}`) ?? [];
      if (hits.some((h) => !h.verified)) unsigned += 1;
      const announced = shop.receiver.mode === 'down' ? hits.length > 0 : hits.some((h) => h.accepted);
      if (!announced) unannounced += 1;
    }
    checks.push({
      name: 'every terminal status announced (or attempted, to a receiver that is down)',
      ok: unannounced === 0,
      detail: `${unannounced} orders unannounced`,
    });
    checks.push({
      name: 'every webhook signed with the shop secret',
      ok: unsigned === 0,
      detail: `${unsigned} orders with an unverifiable webhook`,
    });
    checks.push({
      name: 'every order workflow closed (but those retrying a receiver that is down)',
      ok: running.length === 0,
      detail: `${running.length} still running`,
    });
    // Secrecy: no imported code in any order workflow's history.
    let leaks = 0;
    for (const o of orders) {
      const history = JSON.stringify(
        await client.workflow.getHandle(workflowIds.order(o.client_id, o.external_order_id)).fetchHistory(),
      );
      if (codes.some((c) => history.includes(c))) leaks += 1;
    }
    checks.push({
      name: 'no card-key plaintext in any workflow history',
      ok: leaks === 0,
      detail: `${leaks} histories with a key, ${orders.length} read`,
    });

    const byStatus: Record<string, number> = {};
    for (const o of orders) byStatus[o.status] = (byStatus[o.status] ?? 0) + 1;
    return {
      seed: options.seed,
      orders: orders.length,
      byStatus,
      faults,
      checks,
      ok: checks.every((c) => c.ok),
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await temporalConnection?.close();
    await pool.end();
    await Promise.all(receivers.map((r) => r.close()));
    await sim.close();
    await stack.stop();
  }
}

/** Two faulty suppliers of `chaos-supplied`, at the simulator and registered with the platform. */
async function addChaosSuppliers(
  simUrl: string,
  seed: number,
  call: (method: string, route: string, body: unknown) => Promise<unknown>,
): Promise<{ name: string }[]> {
  const admin = async (path: string, body: unknown) => {
    const res = await fetch(`${simUrl}${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`simulator ${path}: ${res.status}`);
  };
  await call('POST', '/v1/products', {
    sku: 'chaos-supplied',
    name: 'chaos-supplied',
    kind: 'card_key',
    price: { minor: 200, currency: 'CNY' },
  });
  const product = { kind: 'card_key', costMinor: 150, stock: 100_000 };
  const mixes: Record<string, FaultMix> = {
    'chaos-ref': {
      seed,
      rates: {
        error_500: 0.05,
        reset: 0.05,
        lost_response: 0.05,
        out_of_stock: 0.03,
        async_callback: 0.05,
        async_silent: 0.02,
      },
      callbackDelayMs: 300,
    },
    'chaos-reloadly': { seed: seed + 1, rates: { error_500: 0.05, reset: 0.05, lost_response: 0.05 } },
  };
  const secret = `chaos-supplier-secret-${seed}`;
  await admin('/admin/suppliers/chaos-ref', {
    protocol: 'reference',
    accountId: 'chaos',
    secret,
    currency: 'CNY',
    products: { P: product },
  });
  await admin('/admin/suppliers/chaos-reloadly', {
    protocol: 'reloadly',
    clientId: 'chaos',
    clientSecret: secret,
    currency: 'CNY',
    products: { '120': product },
  });
  for (const [name, mix] of Object.entries(mixes)) await admin(`/admin/suppliers/${name}/faults`, { rules: [], mix });
  const reloadlyBase = `${simUrl}/reloadly/chaos-reloadly`;
  await call('POST', '/v1/suppliers', {
    name: 'chaos-ref',
    protocol: 'reference',
    baseUrl: `${simUrl}/ref/chaos-ref`,
    credentials: { accountId: 'chaos', secret },
    timeoutMs: 1_000,
    callbackDeadlineMs: 2_000,
  });
  await call('POST', '/v1/suppliers', {
    name: 'chaos-reloadly',
    protocol: 'reloadly',
    baseUrl: reloadlyBase,
    credentials: {
      clientId: 'chaos',
      clientSecret: secret,
      authUrl: `${reloadlyBase}/oauth/token`,
      topupsBaseUrl: reloadlyBase,
    },
    timeoutMs: 1_000,
  });
  await call('PUT', '/v1/products/chaos-supplied/routes/chaos-ref', {
    productCode: 'P',
    cost: { minor: 150 },
    priority: 1,
  });
  await call('PUT', '/v1/products/chaos-supplied/routes/chaos-reloadly', {
    productCode: '120@1.5',
    cost: { minor: 150 },
    priority: 2,
  });
  return [{ name: 'chaos-ref' }, { name: 'chaos-reloadly' }];
}

export function formatVerdict(v: Verdict): string {
  const lines = [
    `chaos verdict: ${v.ok ? 'PASS' : 'FAIL'}   seed ${v.seed}   ${v.seconds} s`,
    `orders ${v.orders}: ${Object.entries(v.byStatus)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}`,
    `faults: ${v.faults.workerKills} worker kills, ${v.faults.apiKills} API kills, ${v.faults.temporalRestarts} Temporal restarts, ${v.faults.droppedConnections} dropped connections`,
    ...v.checks.map((c) => `  ${c.ok ? '✓' : '✗'} ${c.name}${c.ok ? '' : ` — ${c.detail}`}`),
  ];
  return `${lines.join('\n')}\n`;
}
