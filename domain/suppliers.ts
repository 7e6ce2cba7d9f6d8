// Supplier routing rules, on given facts: which routes to try for a unit and in what order,
// whether a supplier's circuit lets a call through, and what an attempt's outcome means.
import { z } from 'zod';
import { HttpUrl, Identifier, VerbatimText } from './text';

export interface RouteFacts {
  routeId: string;
  supplierId: string;
  supplierName: string;
  priority: number;
  costMinor: number;
  enabled: boolean;
  supplierEnabled: boolean;
}

/** A route as the order workflow tries it. */
export interface PlannedRoute extends RouteFacts {
  productCode: string;
  /** The supplier's per-call timeout: the workflow sizes the attempt's own timeout from it. */
  timeoutMs: number;
}

export interface ProductPlan {
  productId: string;
  kind: 'card_key' | 'direct_topup';
  priceMinor: number;
  currency: string;
  routes: PlannedRoute[];
}

export interface SourcingPlan {
  products: ProductPlan[];
  units: { unitId: string; productId: string }[];
}

export interface RoutePlan<R extends RouteFacts> {
  /** Routes to try, best first: by priority, then the cheaper one. */
  tryInOrder: R[];
  /** Routes left out, each with the reason recorded on the unit. */
  skipped: { route: R; outcome: AttemptOutcome; detail: string }[];
}

/** The largest cost a route may record or a supplier may state: far above any price, well inside PostgreSQL's integer. */
export const MAX_COST_MINOR = 100_000_000;

/**
 * Never sell below cost: the one rule for a route's recorded cost, a live quote and a sale a
 * supplier reports (synchronously or by callback). A cost above the product's price is
 * `price_above_limit`: the route is not tried, the order not placed, the sale not taken.
 */
export function aboveThePrice(costMinor: number, priceMinor: number): boolean {
  return costMinor > priceMinor;
}

/** Routes to try, best first; one whose recorded cost is above the product's price is left out. */
export function planRoutes<R extends RouteFacts>(routes: readonly R[], priceMinor: number): RoutePlan<R> {
  const plan: RoutePlan<R> = { tryInOrder: [], skipped: [] };
  for (const route of routes) {
    if (!route.enabled || !route.supplierEnabled) continue;
    if (aboveThePrice(route.costMinor, priceMinor)) {
      plan.skipped.push({
        route,
        outcome: 'price_above_limit',
        detail: `cost ${route.costMinor} exceeds the price ${priceMinor}`,
      });
    } else {
      plan.tryInOrder.push(route);
    }
  }
  plan.tryInOrder.sort((a, b) => a.priority - b.priority || a.costMinor - b.costMinor);
  return plan;
}

export const AttemptOutcomeSchema = z.enum([
  /** Written just before an order goes out: if the worker dies before the answer is recorded, this is what says to look it up. */
  'sent',
  'delivered',
  'pending',
  'found_on_lookup',
  'out_of_stock',
  'price_above_limit',
  'circuit_open',
  'refused',
  'invalid_key',
  'ambiguous',
  'failed',
  'cancelled',
  'unresolved',
  /** A sale the platform did not take was reported back to its supplier (its dispute call), so it is refunded, not billed. */
  'disputed',
]);
export type AttemptOutcome = z.infer<typeof AttemptOutcomeSchema>;

/** Outcomes after which the supplier may have sold the unit: look it up before buying elsewhere. */
export const AMBIGUOUS_OUTCOMES: readonly AttemptOutcome[] = ['sent', 'ambiguous', 'pending'];

/** Internal markers, not shown as attempts. */
export const HIDDEN_OUTCOMES: readonly string[] = ['sent'];

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitFacts {
  state: CircuitState;
  changedAt: Date;
  cooldownSeconds: number;
}

/**
 * Whether a call may go to a supplier: a closed circuit lets every call through; an open one
 * none until the cool-down has passed, then exactly one probe (the caller that wins the
 * move to half_open); while half-open, the probe's outcome is awaited and others skip.
 */
export function circuitAdmits(circuit: CircuitFacts, now: Date): 'call' | 'probe' | 'skip' {
  if (circuit.state === 'closed') return 'call';
  if (circuit.state === 'open' && now.getTime() - circuit.changedAt.getTime() >= circuit.cooldownSeconds * 1000) {
    return 'probe';
  }
  // A probe whose worker died would hold the circuit half-open for ever: after another
  // cool-down, the next caller probes again.
  if (circuit.state === 'half_open' && now.getTime() - circuit.changedAt.getTime() >= circuit.cooldownSeconds * 1000) {
    return 'probe';
  }
  return 'skip';
}

/** A closed circuit opens on `failures` failed calls in the window that are also at least half of its calls. */
export function shouldOpen(window: { calls: number; failures: number }, failuresToOpen: number): boolean {
  return window.failures >= failuresToOpen && window.failures * 2 >= window.calls;
}

/** A reference-protocol or Reloadly product code: `<id>` or `<id>@<face value>[@<country>]`. */
export function parseProductCode(code: string): { id: string; faceValue?: string; country?: string } {
  const [id = '', faceValue, country] = code.split('@');
  return { id, ...(faceValue ? { faceValue } : {}), ...(country ? { country } : {}) };
}

/** Reference protocol: the account id and shared secret the supplier issued. */
export const ReferenceCredentials = z.strictObject({
  accountId: Identifier(200),
  secret: VerbatimText(500, 16),
});
export type ReferenceCredentials = z.infer<typeof ReferenceCredentials>;

/** Reloadly: OAuth client credentials; the URLs default to Reloadly's own hosts. */
export const ReloadlyCredentials = z.strictObject({
  clientId: Identifier(200),
  clientSecret: VerbatimText(500),
  authUrl: HttpUrl().default('https://auth.reloadly.com/oauth/token'),
  topupsBaseUrl: HttpUrl().default('https://topups.reloadly.com'),
});
export type ReloadlyCredentials = z.infer<typeof ReloadlyCredentials>;

export const CREDENTIALS_BY_PROTOCOL = { reference: ReferenceCredentials, reloadly: ReloadlyCredentials } as const;
export type SupplierProtocol = keyof typeof CREDENTIALS_BY_PROTOCOL;
