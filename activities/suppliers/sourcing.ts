// Obtaining one unit from one supplier route. buyUnit is a regular activity (a network call
// with its own timeout, retried briefly by Temporal); it checks the shared circuit, quotes,
// then orders with the unit's id as the supplier-side reference. A retry after an answer
// that proves nothing looks the reference up first, so a sale that went through is used,
// never bought twice; resolveUnit does the same when the workflow is about to move on.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FailureType, RetryableFailure } from '../../domain/failures';
import { parseAllowList } from '../../infra/outbound-url';
import { deliverOrder } from '../../store/orders/fulfilment';
import { admitCall, type Admission, recordCall } from '../../store/suppliers/circuit';
import { credentialsOf } from '../../store/suppliers/registry';
import {
  type AttemptRecord,
  planSourcing,
  recordAttempt,
  recordObtained,
  refusalOf,
  unitAtRoute,
} from '../../store/suppliers/sourcing';
import { aboveThePrice, type SourcingPlan } from '../../domain/suppliers';
import type { ActivityDeps } from '../deps';
import { keepAlive } from '../keepalive';
import { adapterFor, type SaleState, SupplierUnavailable } from './adapters';
import { disputeSale, recordDisputeUndelivered } from './disputes';

export interface UnitRoute {
  orderId: string;
  unitId: string;
  routeId: string;
  /**
   * The order workflow's purchase: a sale bound here also delivers the order when it was the
   * last unit missing (deliver_order does nothing before), so the workflow needs no delivering
   * step of its own after it. A compensation's replacement leaves it unset.
   */
  deliver?: boolean;
}

/** What the workflow does next with this unit at this route. */
export type RouteOutcome =
  /** `delivered`: the purchase delivered the order too (only asked with `deliver`). */
  | { kind: 'obtained'; delivered?: boolean }
  /** Accepted asynchronously: wait for the callback until the deadline, then resolve. */
  | { kind: 'pending'; deadlineMs: number }
  /** Nothing was bought here: try the next route. */
  | { kind: 'next'; reason: string };

/**
 * The purchase and the lookup beat this often while they run (the first beat after it: most
 * answer sooner and send none), so an attempt whose worker died is retried once the workflow's
 * heartbeat timeout (PURCHASE_HEARTBEAT_TIMEOUT in workflows/supplier-route.ts) passes, not
 * after its start-to-close timeout of three supplier timeouts.
 */
const KEEPALIVE_MS = 1_000;

export function sourcingActivities({ db, keyring, config, logger }: ActivityDeps) {
  const allow = parseAllowList(config.OUTBOUND_URL_ALLOWLIST);
  const secrets = { keyring, fingerprintSecret: config.KEY_FINGERPRINT_SECRET };
  const callbackBase = `${config.PUBLIC_BASE_URL}/v1/supplier-callbacks`;

  async function contextOf({ unitId, routeId }: UnitRoute) {
    const found = await unitAtRoute(db, unitId, routeId);
    if (!found)
      throw ApplicationFailure.nonRetryable(`no unit ${unitId} or route ${routeId}`, FailureType.UnitOrRouteNotFound);
    const { supplier, product } = found;
    const adapter = adapterFor(supplier, credentialsOf(keyring, supplier), allow, product.currency);
    return { ...found, adapter };
  }
  type RouteContext = Awaited<ReturnType<typeof contextOf>>;

  const attemptOf = (ctx: RouteContext, started: number): Omit<AttemptRecord, 'outcome'> => ({
    unitId: ctx.unit.id,
    supplierId: ctx.supplier.id,
    source: ctx.supplier.name,
    latencyMs: Date.now() - started,
  });

  /** Acts on a supplier's answer about the unit: binds a sale, waits for a pending one, or moves on. */
  async function settleSale(
    ctx: RouteContext,
    sale: SaleState,
    started: number,
    via: 'delivered' | 'found_on_lookup',
  ): Promise<RouteOutcome> {
    const attempt = attemptOf(ctx, started);
    switch (sale.kind) {
      case 'succeeded': {
        const result = await recordObtained(db, secrets, {
          ...attempt,
          outcome: via,
          sale,
          product: ctx.product,
          priceMinor: ctx.unit.priceMinor,
        });
        const refused = refusalOf(result);
        if (refused === null) return { kind: 'obtained' };
        await disputeQuietly(ctx, refused);
        return { kind: 'next', reason: refused };
      }
      case 'pending':
        await recordAttempt(db, { ...attempt, outcome: 'pending' });
        return { kind: 'pending', deadlineMs: ctx.supplier.callbackDeadlineMs };
      case 'out_of_stock':
        await recordAttempt(db, { ...attempt, outcome: 'out_of_stock' });
        return { kind: 'next', reason: 'out of stock' };
      case 'price_above_limit':
        await recordAttempt(db, {
          ...attempt,
          outcome: 'price_above_limit',
          detail: `supplier price above the product price ${ctx.unit.priceMinor}`,
          ...(sale.costMinor >= 0 ? { costMinor: sale.costMinor } : {}),
        });
        return { kind: 'next', reason: 'price above limit' };
      case 'refused':
        await recordAttempt(db, { ...attempt, outcome: 'refused', detail: sale.detail });
        return { kind: 'next', reason: sale.detail };
      case 'not_found':
        await recordAttempt(db, { ...attempt, outcome: 'failed', detail: 'supplier has no sale under this reference' });
        return { kind: 'next', reason: 'not found at the supplier' };
    }
  }

  /** Inline, best effort: the unit moves on at once; an undelivered dispute is on record. */
  async function disputeQuietly(ctx: RouteContext, reason: string) {
    const sale = { unitId: ctx.unit.id, supplierId: ctx.supplier.id, source: ctx.supplier.name, reason };
    try {
      await disputeSale(db, ctx.adapter, sale);
    } catch (err) {
      if (!(err instanceof SupplierUnavailable)) throw err;
      logger.warn({ reference: sale.unitId, error: err.message }, 'dispute not delivered');
      await recordDisputeUndelivered(db, sale, err.message);
    }
  }

  /** A call through the circuit: its outcome counts towards opening or closing it. */
  async function throughCircuit<T>(supplier: { id: string }, admission: Admission, call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      await recordCall(db, supplier.id, true, admission);
      return result;
    } catch (err) {
      if (err instanceof SupplierUnavailable) await recordCall(db, supplier.id, false, admission);
      throw err;
    }
  }

  const placeRequest = ({ unit, product, productCode, supplier }: RouteContext) => ({
    reference: unit.id,
    productCode,
    kind: product.kind,
    maxCostMinor: unit.priceMinor,
    currency: product.currency,
    ...(product.kind === 'direct_topup' && unit.account ? { account: unit.account } : {}),
    callbackUrl: `${callbackBase}/${encodeURIComponent(supplier.name)}`,
  });

  /**
   * Settles a unit the supplier may have sold: a sale found is used; a pending order is
   * cancelled (or, if it completed meanwhile, used). Not subject to the circuit: knowing
   * whether the unit was bought is what keeps it from being bought twice.
   */
  async function resolve(ctx: RouteContext): Promise<RouteOutcome> {
    const started = Date.now();
    try {
      let sale = await ctx.adapter.lookup(ctx.unit.id, ctx.productCode, ctx.product.kind);
      if (sale.kind === 'pending') {
        // A supplier that cannot cancel may still complete: keep asking (the workflow's
        // resolve retries) rather than buy the unit elsewhere too.
        if (!ctx.adapter.cancel)
          throw ApplicationFailure.retryable('still pending at the supplier', RetryableFailure.SupplierPending);
        sale = await ctx.adapter.cancel(ctx.unit.id);
        if (sale.kind === 'refused') {
          await recordAttempt(db, { ...attemptOf(ctx, started), outcome: 'cancelled', detail: sale.detail });
          return { kind: 'next', reason: 'cancelled' };
        }
      }
      if (sale.kind === 'pending') return { kind: 'next', reason: 'still pending' };
      return await settleSale(ctx, sale, started, 'found_on_lookup');
    } catch (err) {
      if (!(err instanceof SupplierUnavailable)) throw err;
      throw ApplicationFailure.retryable(`lookup: ${err.message}`, RetryableFailure.SupplierUnavailable);
    }
  }

  /**
   * A unit no longer pending: obtained when it holds its sale (reserved, or delivered by an
   * earlier attempt of this purchase whose answer was lost); otherwise it moved on.
   */
  function alreadySettled(ctx: RouteContext, input: UnitRoute): RouteOutcome {
    if (ctx.unit.status === 'reserved') return { kind: 'obtained' };
    if (ctx.unit.status === 'delivered' && input.deliver) return { kind: 'obtained', delivered: true };
    return { kind: 'next', reason: 'unit moved on' };
  }

  /** Tries to obtain the unit at this route. Throws (retryably) when the supplier answered nothing conclusive. */
  async function buy(input: UnitRoute): Promise<RouteOutcome> {
    const ctx = await contextOf(input);
    if (ctx.unit.status !== 'pending') return alreadySettled(ctx, input);
    const started = Date.now();
    const admission = await admitCall(db, ctx.supplier.id, ctx.circuit);
    if (admission === 'skip') {
      // An open circuit stops new purchases, not finding out about one that may have happened.
      if (ctx.mayHaveBought) return resolve(ctx);
      await recordAttempt(db, {
        ...attemptOf(ctx, started),
        outcome: 'circuit_open',
        detail: 'circuit open: not called',
      });
      return { kind: 'next', reason: 'circuit open' };
    }
    try {
      return await throughCircuit(ctx.supplier, admission, async () => {
        // An earlier attempt may have bought it: its answer was lost, or it is pending.
        if (ctx.mayHaveBought) {
          const found = await ctx.adapter.lookup(ctx.unit.id, ctx.productCode, ctx.product.kind);
          if (found.kind !== 'not_found') return settleSale(ctx, found, started, 'found_on_lookup');
        }
        const quote = await ctx.adapter.quote(ctx.productCode, ctx.product.kind);
        if (!quote.available || quote.stock === 0)
          return settleSale(ctx, { kind: 'out_of_stock' }, started, 'delivered');
        if (aboveThePrice(quote.costMinor, ctx.unit.priceMinor)) {
          return settleSale(ctx, { kind: 'price_above_limit', costMinor: quote.costMinor }, started, 'delivered');
        }
        // On record before it goes out: a worker that dies before the answer is stored leaves this to say "look it up".
        await recordAttempt(db, { ...attemptOf(ctx, started), outcome: 'sent' });
        const sale = await ctx.adapter.place(placeRequest(ctx));
        return settleSale(ctx, sale, started, 'delivered');
      });
    } catch (err) {
      if (!(err instanceof SupplierUnavailable)) throw err;
      await recordAttempt(db, {
        ...attemptOf(ctx, started),
        outcome: err.ambiguous ? 'ambiguous' : 'failed',
        detail: err.message,
      });
      logger.warn(
        {
          unitId: ctx.unit.id,
          supplier: ctx.supplier.name,
          attempt: Context.current().info.attempt,
          error: err.message,
        },
        'supplier call failed',
      );
      throw ApplicationFailure.retryable(err.message, RetryableFailure.SupplierUnavailable);
    }
  }

  return {
    /** The units still without a source and, per product, the routes to try (local activity). */
    async planSourcing(orderId: string): Promise<SourcingPlan> {
      return planSourcing(db, orderId);
    },

    /** Tries to obtain the unit at this route. Throws (retryably) when the supplier answered nothing conclusive. */
    buyUnit(input: UnitRoute): Promise<RouteOutcome> {
      return keepAlive(async () => {
        const outcome = await buy(input);
        if (outcome.kind !== 'obtained' || !input.deliver || outcome.delivered) return outcome;
        // Failing here retries the activity, which finds the unit reserved and delivers again;
        // when those attempts run out, the workflow's own delivering step does it.
        const delivered = await deliverOrder(db, config.CLAIM_TOKEN_SECRET, input.orderId);
        if (delivered) logger.info({ orderId: input.orderId, status: 'delivered' }, 'order status changed');
        return { kind: 'obtained', delivered };
      }, KEEPALIVE_MS);
    },

    /**
     * Before the workflow moves on from a route (retries spent, or a pending order past its
     * deadline): if the supplier may have sold the unit, ask. A sale is used; a pending
     * order is cancelled (or, if it completed meanwhile, used). Throws while the supplier
     * cannot answer; the workflow gives up after a bounded number of tries.
     */
    resolveUnit(input: UnitRoute): Promise<RouteOutcome> {
      return keepAlive(async () => {
        const ctx = await contextOf(input);
        if (ctx.unit.status !== 'pending') return alreadySettled(ctx, input);
        if (!ctx.mayHaveBought) return { kind: 'next', reason: 'nothing bought' };
        return resolve(ctx);
      }, KEEPALIVE_MS);
    },

    /** The workflow gave up resolving an ambiguous attempt: say so on the unit. */
    async recordUnresolved(input: UnitRoute & { detail: string }): Promise<void> {
      const route = await db.supplierRoute.findUniqueOrThrow({
        where: { id: input.routeId },
        include: { supplier: true },
      });
      await recordAttempt(db, {
        unitId: input.unitId,
        supplierId: route.supplierId,
        source: route.supplier.name,
        outcome: 'unresolved',
        detail: input.detail,
      });
    },
  };
}

export type SourcingActivities = ReturnType<typeof sourcingActivities>;
