// Risk evaluation cost against a realistic history: 10,000 prior orders over 30 days (a heavy
// buyer with hundreds of them on a handful of devices and one /24, thousands of ordinary
// buyers elsewhere), then the facts query and the rules for new orders of the heavy buyer —
// the worst case, since every window and list has rows to count.
import path from 'node:path';
import { Pool } from 'pg';
import { latencies } from './measure';
import { platformDb } from './platform-db';

const PRIOR_ORDERS = 10_000;
const HEAVY_BUYER_ORDERS = 400;

export async function riskEvaluation(root: string, databaseUrl: string, evaluations: number) {
  let facts: typeof import('../../store/risk/facts');
  let rules: typeof import('../../domain/risk/rules');
  try {
    facts = await import(path.join(root, 'store/risk/facts'));
    rules = await import(path.join(root, 'domain/risk/rules'));
  } catch {
    return { skipped: 'the checkout under test has no risk control' };
  }
  const { createDb, closeDb } = await platformDb(root);
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  const [column] = (
    await pool.query(
      `SELECT 1 FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'unit_count'`,
    )
  ).rows;
  if (!column) {
    await pool.end();
    return { skipped: 'the checkout under test predates the facts query this measures' };
  }
  const db = createDb(databaseUrl, 2);
  try {
    const one = async (sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows[0];
    const client = await one(
      `INSERT INTO clients (id, name, role, api_key_hash, api_key_prefix) VALUES (gen_random_uuid(), 'risk-bench', 'order-system', md5(random()::text), 'x') RETURNING id`,
    );
    const product = await one(
      `INSERT INTO products (id, sku, name, kind, price_minor, currency) VALUES (gen_random_uuid(), 'risk-' || md5(random()::text), 'risk', 'card_key', 100, 'CNY') RETURNING id, sku`,
    );
    // The history: order g is the heavy buyer's when g <= HEAVY_BUYER_ORDERS, else one of
    // 3,000 ordinary buyers with addresses all over the public IPv4 space. Times spread over
    // 30 days, a tenth of them in the last day; delivered and mostly claimed.
    await pool.query(
      `WITH o AS (
         INSERT INTO orders (id, client_id, external_order_id, request_hash, buyer_id, buyer_ip, buyer_device_id,
                             amount_minor, unit_count, currency, workflow_id, status, claimed_at, created_at, updated_at)
         SELECT gen_random_uuid(), $1, 'risk-' || g, 'h',
                CASE WHEN g <= $3 THEN 'heavy-buyer' ELSE 'buyer-' || (g % 3000) END,
                CASE WHEN g <= $3 THEN '61.135.169.' || (g % 200 + 1)
                     ELSE (1 + g % 200) || '.' || (g * 7 % 256) || '.' || (g * 13 % 256) || '.' || (g % 250 + 1) END,
                CASE WHEN g <= $3 THEN 'heavy-device-' || (g % 4) ELSE 'device-' || g END,
                100, 1, 'CNY', 'risk:' || gen_random_uuid(), 'delivered',
                CASE WHEN g % 5 = 0 THEN NULL ELSE now() END,
                now() - CASE WHEN g % 10 = 0 THEN (g % 1440) * interval '1 minute' ELSE (g % 30) * interval '1 day' + interval '1 day' END,
                now()
           FROM generate_series(1, $2) g
         RETURNING id
       ), i AS (
         INSERT INTO order_items (id, order_id, position, product_id, sku, quantity, unit_price_minor)
         SELECT gen_random_uuid(), o.id, 0, $4, $5, 1, 100 FROM o RETURNING id, order_id
       )
       INSERT INTO order_units (id, order_id, item_id, product_id, status)
       SELECT gen_random_uuid(), order_id, id, $4, 'delivered' FROM i`,
      [client.id, PRIOR_ORDERS, HEAVY_BUYER_ORDERS, product.id, product.sku],
    );
    await pool.query(
      `INSERT INTO risk_list_entries (id, list, kind, value, note)
       SELECT gen_random_uuid(), 'deny', 'ip', '10.' || g || '.0.0/16', 'bench' FROM generate_series(1, 50) g
       ON CONFLICT DO NOTHING`,
    );
    // Intake stores where an order's address is (since orders.buyer_geo): the heavy buyer's
    // orders carry it, as the API would have written it (61.135.169.0/24 is in Beijing).
    const geoColumn = await one(
      `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'buyer_geo'`,
    );
    const locate = async (where: string, params: unknown[]) => {
      if (geoColumn.n === 0) return;
      await pool.query(
        `UPDATE orders SET buyer_geo = '{"country":"CN","lat":39.9,"lon":116.4,"accuracyKm":50}' WHERE ${where}`,
        params,
      );
    };
    await locate(`buyer_id = 'heavy-buyer'`, []);
    await pool.query('ANALYZE orders; ANALYZE order_items; ANALYZE order_units');

    const latency = latencies();
    const decisions: Record<string, number> = {};
    for (let i = 0; i < evaluations; i++) {
      const order = await one(
        `WITH o AS (
           INSERT INTO orders (id, client_id, external_order_id, request_hash, buyer_id, buyer_ip, buyer_device_id,
                               amount_minor, unit_count, currency, workflow_id, updated_at)
           VALUES (gen_random_uuid(), $1, 'risk-new-' || gen_random_uuid(), 'h', 'heavy-buyer', '61.135.169.7',
                   'heavy-device-1', 100, 1, 'CNY', 'risk:' || gen_random_uuid(), now())
           RETURNING id
         ), i AS (
           INSERT INTO order_items (id, order_id, position, product_id, sku, quantity, unit_price_minor)
           SELECT gen_random_uuid(), o.id, 0, $2, $3, 1, 100 FROM o
         )
         SELECT id FROM o`,
        [client.id, product.id, product.sku],
      );
      await locate('id = $1', [order.id]);
      const started = performance.now();
      const gathered = await facts.orderFactsOf(db, order.id);
      const { verdict } = rules.evaluateUnder(gathered!.facts, gathered!.policies);
      latency.record(performance.now() - started);
      decisions[verdict.decision] = (decisions[verdict.decision] ?? 0) + 1;
      // Every evaluation sees the same 10,000-order history, not the ones measured before it.
      await pool.query('DELETE FROM order_items WHERE order_id = $1', [order.id]);
      await pool.query('DELETE FROM orders WHERE id = $1', [order.id]);
    }
    return { priorOrders: PRIOR_ORDERS, heavyBuyerOrders: HEAVY_BUYER_ORDERS, latency: latency.summary(), decisions };
  } finally {
    await closeDb(db);
    await pool.end();
  }
}
