// The facts risk rules judge, gathered by indexed SQL over the platform's own tables in one
// round trip (counts, never rows, come back to Node). Windows end at the order's own intake
// time and include it, so a retried or replayed assessment sees exactly the same facts.
import type { Geo, OrderFacts, WindowCounts } from '../../domain/risk/facts';
import { ipFactsOf } from '../../domain/risk/geo';
import { type RiskPolicy, RiskPolicySchema } from '../../domain/risk/policy';
import type { Db } from '../../infra/db';
import { sqlOf } from '../../infra/db';

// How many of a key's most recent orders a window counts: every limit a policy sets is far
// below it, so counts that saturate here decide the same, and one busy key (a carrier's NAT
// address) costs a bounded scan.
export const COUNT_CAP = 1000;

// The counters of one key column over the three windows ending at the order's time, and the
// distinct buyers behind it in 24 h: a bounded index-only range scan of that key's index (it
// carries the units, amount and buyer). `counted` false skips the scan (a non-public address
// is not counted per address). The column names are constants of this module, never input.
function windowCounts(column: 'buyer_id' | 'buyer_device_id' | 'buyer_ip' | 'buyer_network', counted = 'true'): string {
  const counter = (interval: string) => `json_build_object(
      'orders', count(*) FILTER (WHERE x.created_at > o.created_at - interval '${interval}'),
      'units', COALESCE(sum(x.unit_count) FILTER (WHERE x.created_at > o.created_at - interval '${interval}'), 0),
      'amountMinor', COALESCE(sum(x.amount_minor) FILTER (WHERE x.created_at > o.created_at - interval '${interval}'), 0))`;
  return `(SELECT json_build_object('1m', ${counter('1 minute')}, '1h', ${counter('1 hour')}, '24h', ${counter('24 hours')},
                                    'buyers24h', count(DISTINCT x.buyer_id))
             FROM (SELECT x.created_at, x.unit_count, x.amount_minor, x.buyer_id FROM orders x
                    WHERE ${counted} AND x.${column} = o.${column} AND x.created_at > o.created_at - interval '24 hours'
                      AND x.created_at <= o.created_at
                    ORDER BY x.created_at DESC LIMIT ${COUNT_CAP}) x)`;
}

/**
 * The allow/deny list entries an order's buyer, device or an address hit (`address`: an
 * inet expression: the order's own, or a claim's), as a JSON array; `o` is the order.
 */
export function listHitsOf(address: string): string {
  return `(SELECT COALESCE(json_agg(json_build_object('list', e.list, 'kind', e.kind, 'value', e.value, 'note', e.note)), '[]')
            FROM risk_list_entries e
           WHERE (e.kind = 'buyer' AND e.value = o.buyer_id)
              OR (e.kind = 'device' AND e.value = o.buyer_device_id)
              OR (e.kind = 'ip' AND e.value::cidr >>= ${address}))`;
}

/** The policy of each of order `o`'s SKUs (its own, or the default), as a JSON array. */
export const POLICIES_OF_ORDER = `(SELECT json_agg(json_build_object('sku', i.sku, 'policy', COALESCE(p.policy, d.policy)))
            FROM order_items i
            LEFT JOIN risk_policies p ON p.product_id = i.product_id
            CROSS JOIN (SELECT policy FROM risk_policies WHERE product_id IS NULL) d
           WHERE i.order_id = o.id)`;

const ORDER_FACTS_SQL = `
  SELECT o.created_at, o.buyer_id, o.buyer_device_id, o.buyer_ip,
         (SELECT json_agg(json_build_object('sku', i.sku, 'units', i.quantity) ORDER BY i.position)
            FROM order_items i WHERE i.order_id = o.id) AS items,
         ${windowCounts('buyer_id')} AS v_buyer,
         CASE WHEN o.buyer_device_id IS NULL THEN NULL ELSE ${windowCounts('buyer_device_id')} END AS v_device,
         ${windowCounts('buyer_ip', '$2')} AS v_ip,
         ${windowCounts('buyer_network', '$2')} AS v_network,
         (SELECT count(*) FROM orders x JOIN order_units u ON u.order_id = x.id
           WHERE x.buyer_id = o.buyer_id AND x.created_at > o.created_at - interval '30 days' AND x.created_at < o.created_at
             AND x.status IN ('delivered', 'partially_delivered') AND x.claimed_at IS NULL
             AND u.status = 'delivered')::int AS unclaimed,
         (SELECT json_agg(json_build_object(
                   'sku', s.sku,
                   'units24h', (SELECT COALESCE(sum(i.quantity), 0) FROM orders x JOIN order_items i ON i.order_id = x.id
                                 WHERE x.buyer_id = o.buyer_id AND i.sku = s.sku
                                   AND x.created_at > o.created_at - interval '24 hours' AND x.created_at <= o.created_at),
                   'dailyAverage30d', (SELECT COALESCE(sum(i.quantity), 0) / 30.0 FROM orders x JOIN order_items i ON i.order_id = x.id
                                 WHERE x.buyer_id = o.buyer_id AND i.sku = s.sku
                                   AND x.created_at > o.created_at - interval '31 days'
                                   AND x.created_at <= o.created_at - interval '24 hours')))
            FROM (SELECT DISTINCT sku FROM order_items WHERE order_id = o.id) s) AS sku_history,
         (SELECT json_build_object('at', x.created_at, 'ip', x.buyer_ip, 'geo', x.buyer_geo) FROM orders x
           WHERE x.buyer_id = o.buyer_id AND x.created_at < o.created_at ORDER BY x.created_at DESC LIMIT 1) AS previous,
         ${listHitsOf('o.buyer_ip::inet')} AS lists,
         ${POLICIES_OF_ORDER} AS policies
    FROM orders o WHERE o.id = $1`;

type Counted = WindowCounts & { buyers24h: number };

function windows({ buyers24h: _buyers, ...counts }: Counted): WindowCounts {
  return counts;
}

interface OrderFactsRow {
  created_at: Date;
  buyer_id: string;
  buyer_device_id: string | null;
  buyer_ip: string;
  items: OrderFacts['items'];
  v_buyer: Counted;
  v_device: Counted | null;
  v_ip: Counted;
  v_network: Counted;
  unclaimed: number;
  sku_history: { sku: string; units24h: string | number; dailyAverage30d: string | number }[];
  previous: { at: string; ip: string; geo: Geo | null } | null;
  lists: OrderFacts['lists'];
  policies: { sku: string; policy: unknown }[];
}

/** An order's facts and the policies of its SKUs (each SKU's own, or the default); null when the order does not exist. */
export async function orderFactsOf(
  db: Db,
  orderId: string,
): Promise<{ facts: OrderFacts; policies: { sku: string; policy: RiskPolicy }[] } | null> {
  // Located at intake (orders.buyer_geo): the worker loads no geo database.
  const [address] = await sqlOf(db).rows<{ buyer_ip: string; buyer_geo: Geo | null }>(
    'SELECT buyer_ip, buyer_geo FROM orders WHERE id = $1',
    [orderId],
    'risk_order_address',
  );
  if (!address) return null;
  const ip = ipFactsOf(address.buyer_ip, address.buyer_geo);
  const [row] = await sqlOf(db).rows<OrderFactsRow>(
    ORDER_FACTS_SQL,
    [orderId, ip.kind === 'public'],
    'risk_order_facts',
  );
  if (!row) return null;
  const facts: OrderFacts = {
    kind: 'order',
    at: row.created_at.toISOString(),
    buyer: { id: row.buyer_id, deviceId: row.buyer_device_id },
    ip,
    items: row.items,
    velocity: {
      buyer: windows(row.v_buyer),
      device: row.v_device ? windows(row.v_device) : null,
      ip: windows(row.v_ip),
      network: windows(row.v_network),
    },
    buyersOnDevice24h: row.v_device?.buyers24h ?? null,
    buyersOnIp24h: row.v_ip.buyers24h,
    unclaimedUnits: row.unclaimed,
    skuHistory: row.sku_history.map((s) => ({
      sku: s.sku,
      units24h: Number(s.units24h),
      dailyAverage30d: Number(s.dailyAverage30d),
    })),
    previous: row.previous
      ? { at: new Date(row.previous.at).toISOString(), ip: ipFactsOf(row.previous.ip, row.previous.geo) }
      : null,
    lists: row.lists,
  };
  const policies = row.policies.map((p) => ({ sku: p.sku, policy: RiskPolicySchema.parse(p.policy) }));
  return { facts, policies };
}
