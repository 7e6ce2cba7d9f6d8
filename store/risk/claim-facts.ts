// The facts of a claim on an order, for the claim gate (API): the claim's address and the
// order's, located by geoip-lite here (the API loads it), the risk lists they hit, and the
// policies of the order's SKUs.
import type { CanonicalIp } from '../../domain/ip-address';
import type { ClaimFacts } from '../../domain/risk/facts';
import { type RiskPolicy, RiskPolicySchema } from '../../domain/risk/policy';
import { type Db, sqlOf } from '../../infra/db';
import { ipFacts } from '../../infra/geoip';
import { listHitsOf, POLICIES_OF_ORDER } from './facts';

const CLAIM_FACTS_SQL = `
  SELECT o.id, o.created_at, o.buyer_id, o.buyer_device_id, o.buyer_ip,
         ${listHitsOf('$2::inet')} AS lists,
         ${POLICIES_OF_ORDER} AS policies
    FROM orders o WHERE o.id = $1`;

/**
 * The facts of a claim from `ip` at `at` on an order; null when the order does not exist. The
 * address is canonical (the API refuses a claim whose address is not one), so the lists match
 * it as they match the order's.
 */
export async function claimFactsOf(
  db: Db,
  input: { orderId: string; ip: CanonicalIp; at: Date },
): Promise<{ facts: ClaimFacts; policies: { sku: string; policy: RiskPolicy }[] } | null> {
  const [row] = await sqlOf(db).rows<{
    id: string;
    created_at: Date;
    buyer_id: string;
    buyer_device_id: string | null;
    buyer_ip: string;
    lists: ClaimFacts['lists'];
    policies: { sku: string; policy: unknown }[];
  }>(CLAIM_FACTS_SQL, [input.orderId, input.ip]);
  if (!row) return null;
  const facts: ClaimFacts = {
    kind: 'claim',
    at: input.at.toISOString(),
    orderId: row.id,
    buyer: { id: row.buyer_id, deviceId: row.buyer_device_id },
    ip: ipFacts(input.ip),
    orderIp: ipFacts(row.buyer_ip),
    orderAt: row.created_at.toISOString(),
    lists: row.lists,
  };
  const policies = row.policies.map((p) => ({ sku: p.sku, policy: RiskPolicySchema.parse(p.policy) }));
  return { facts, policies };
}
