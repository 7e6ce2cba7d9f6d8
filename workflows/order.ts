// One order, from received to a terminal status. The workflow carries ids only: card-key
// plaintext never enters its history. It decides; PostgreSQL records: every step below is
// one transaction that acts only from the status it expects, so the database, not the
// workflow's memory, is the truth when a step, a cancellation or a crash interleave.
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  patched,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrderActivities } from '../activities/orders';
import type { PaymentActivities } from '../activities/payments';
import type { OrderRisk, ReviewOutcome, RiskActivities } from '../activities/risk';
import type { SourcingActivities } from '../activities/suppliers/sourcing';
import type { WebhookActivities } from '../activities/webhooks';
import { FailureType } from '../domain/failures';
import { ledgerKeys, orderEventId } from '../domain/ledger-keys';
import type { OrderStatus } from '../domain/order-status';
import type { SourcingPlan } from '../domain/suppliers';
import { eachLimited } from './each-limited';
import { messageOf, permanentFailure } from './failures';
import { tryRoute } from './supplier-route';
import {
  DEFAULT_STEP_BOUNDS,
  type OrderInput,
  type OrderPosition,
  type OrderProgress,
  type OrderStep,
  resumeUpdate,
  reviewDecisionUpdate,
  statusQuery,
  type StepBounds,
  supplierResultSignal,
} from './order-messages';

// Database steps run as local activities: a short transaction in the worker, recorded as a
// marker in the same workflow task, with no server round trip of its own (which is what an
// order costs: see bench/RESULTS.md). One attempt per call: `durably` below retries, so the
// status query can show the attempt count and the last error while a step keeps failing.
const LOCAL_STEP = { startToCloseTimeout: '10s', retry: { maximumAttempts: 1 } } as const;
const steps = proxyLocalActivities<OrderActivities>(LOCAL_STEP);
const sourcingSteps = proxyLocalActivities<SourcingActivities>(LOCAL_STEP);
const riskSteps = proxyLocalActivities<RiskActivities>(LOCAL_STEP);
// An analyst's decision and support's resume are recorded inside their Update's handler: a
// few quick attempts, then the Update fails and the person may send it again.
const HANDLER_STEP = { startToCloseTimeout: '10s', retry: { initialInterval: '200ms', maximumAttempts: 5 } } as const;
const reviewSteps = proxyLocalActivities<RiskActivities>(HANDLER_STEP);
const resumeSteps = proxyLocalActivities<OrderActivities>(HANDLER_STEP);
// A parking's record in the database: a regular activity, so the server retries it (the fault
// may be the database itself) without a history event per attempt; no attempt limit.
const parkingSteps = proxyActivities<OrderActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' },
});

/** Units sourced at the same time; the rest wait their turn. */
const SOURCING_CONCURRENCY = 8;

// A payment provider's calls (Stripe): a few quick attempts each; `durably` keeps retrying
// after them. The timeout bounds a call the SDK gives up on after 8 s (and one retry).
const payments = proxyActivities<PaymentActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3 },
});

// Webhooks: the receiver may be down for a while; ten attempts over about eight minutes,
// then the order stays as it is and the client can still poll.
const webhooks = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '15s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [FailureType.WebhookUrlRefused],
  },
});

// A database step that fails is retried (an outage must lose nothing), 200 ms doubling up to
// the bounds' caps; one that keeps failing parks the order (below, `durably`). Orders whose step
// failed before the bounds were deployed replay the loop they ran: doubling to 30 s, forever.
const RETRY_FIRST_MS = 200;
const UNBOUNDED_RETRY_MAX_MS = 30_000;

/** The wait before the next attempt of a step that has failed `attempt` times over `failingForMs`. */
function retryDelayMs(attempt: number, failingForMs: number, bounds: StepBounds): number {
  const cap = failingForMs < bounds.slowAfterMs ? bounds.retryMaxMs : bounds.slowMaxMs;
  return Math.min(RETRY_FIRST_MS * 2 ** (attempt - 1), cap);
}

export async function orderWorkflow(input: OrderInput): Promise<OrderProgress> {
  const { orderId, version = 1, resumed: carried } = input;
  const bounds: StepBounds = { ...DEFAULT_STEP_BOUNDS, ...input.bounds };
  const progress: OrderProgress = {
    status: carried?.status ?? 'received',
    step: 'recording',
    unitsTotal: carried?.unitsTotal ?? 0,
    unitsReserved: carried?.unitsReserved ?? 0,
  };
  setHandler(statusQuery, () => progress);
  // Callbacks of asynchronous suppliers, by unit and supplier: whether the unit was obtained.
  const callbacks = new Map<string, boolean>();
  setHandler(supplierResultSignal, ({ unitId, supplierId, obtained }) => {
    callbacks.set(`${unitId}/${supplierId}`, obtained);
  });
  const keys = { debitKey: ledgerKeys.orderDebit(orderId), refundKey: ledgerKeys.orderRefund(orderId) };
  // Until the first step says whether anyone listens, assume someone does.
  let notify = carried?.notify ?? true;
  // Whether the order pays through a provider, whose hold is settled after the database's.
  let viaProvider = carried?.viaProvider ?? false;
  // How far the order got, for a run that continues it after a parking.
  let position: OrderPosition = carried?.position ?? { at: 'admit' };
  // Parkings so far (each a numbered row), and support's resume of the current one once recorded.
  let parkings = carried?.parkings ?? 0;
  let resumeAsked: { continueAsNew: boolean } | undefined;
  let resuming = false;
  // Past half the history bound, a resumed order goes on in a new run (its position carried).
  const historyIsLarge = () => workflowInfo().historyLength >= bounds.parkAtEvents / 2;
  setHandler(
    resumeUpdate,
    async (resume) => {
      resuming = true;
      try {
        await resumeSteps.resumeParkedOrder(orderId, resume);
        resumeAsked = { continueAsNew: historyIsLarge() };
        return { step: progress.step, attempts: progress.attempt ?? 0, continuesAsNew: resumeAsked.continueAsNew };
      } finally {
        resuming = false;
      }
    },
    {
      validator: (_resume) => {
        if (progress.parked?.marked && !resuming && !resumeAsked) return;
        throw ApplicationFailure.create({
          type: FailureType.OrderNotParked,
          nonRetryable: true,
          message: progress.parked ? 'the parking is not recorded yet; try again shortly' : 'this order is not parked',
        });
      },
    },
  );
  // The risk review the order waits for, and the decision that ended it.
  let awaitingReview: OrderRisk['review'] | undefined;
  let reviewDecision: ReviewOutcome | undefined;
  setHandler(
    reviewDecisionUpdate,
    async (input) => {
      // Taken before the first await: a second decision arriving meanwhile fails validation.
      const review = awaitingReview;
      awaitingReview = undefined;
      try {
        const outcome = await reviewSteps.decideReview({ ...input, via: 'analyst' });
        reviewDecision = outcome;
        return outcome;
      } catch (err) {
        awaitingReview = review;
        throw err;
      }
    },
    {
      validator: ({ reviewId }) => {
        if (awaitingReview?.id !== reviewId) throw new Error('this order is not waiting for that review');
      },
    },
  );

  /**
   * Stops retrying `step` until support resumes the order: visible in the status query at once
   * and in the database when it can take the record. A resumed order whose history is large
   * continues as a new run from `position`; otherwise the step is tried again here.
   */
  async function park(step: OrderStep): Promise<void> {
    parkings += 1;
    const parked = {
      since: new Date(Date.now()).toISOString(),
      historyLength: workflowInfo().historyLength,
      marked: false,
    };
    progress.parked = parked;
    const attempts = progress.attempt ?? 0;
    const lastError = progress.lastError ?? '';
    log.error('order step keeps failing; parked until support resumes it', { orderId, step, attempts, lastError });
    // Retried without limit: only the order's cancellation (outside a compensation) stops it.
    void parkingSteps
      .markOrderParked({ orderId, parking: parkings, step, attempts, lastError, historyLength: parked.historyLength })
      .then(
        () => (parked.marked = true),
        () => undefined,
      );
    try {
      await condition(() => resumeAsked !== undefined);
    } finally {
      delete progress.parked;
    }
    const renew = resumeAsked!.continueAsNew;
    resumeAsked = undefined;
    if (!renew) return;
    await condition(allHandlersFinished);
    const { status, unitsTotal, unitsReserved } = progress;
    await continueAsNew<typeof orderWorkflow>({
      ...input,
      resumed: { position, viaProvider, notify, status, unitsTotal, unitsReserved, parkings },
    });
  }

  /**
   * Runs a step until it succeeds. A compensation retries even permanent failures: giving up
   * would leave money taken. The retries are bounded in history, not in intent: a step that
   * keeps failing (for `parkAfterMs`, or until the history reaches `parkAtEvents`) parks the
   * order, and a compensation parks too rather than give up.
   */
  async function durably<T>(
    step: OrderStep,
    run: () => Promise<T>,
    options: { compensation?: boolean } = {},
  ): Promise<T> {
    progress.step = step;
    let failingSince: number | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await run();
        delete progress.attempt;
        delete progress.lastError;
        return result;
      } catch (err) {
        if (isCancellation(err) || (permanentFailure(err) && !options.compensation)) throw err;
        progress.attempt = attempt;
        progress.lastError = messageOf(err);
        log.warn('order step failed; retrying', { orderId, step, attempt, error: progress.lastError });
        // Only failing orders pay for the patch's marker; see docs/workflow-changes.md.
        if (!patched('bounded-retries')) {
          await sleep(Math.min(RETRY_FIRST_MS * 2 ** (attempt - 1), UNBOUNDED_RETRY_MAX_MS));
          continue;
        }
        failingSince ??= Date.now();
        const failingFor = Date.now() - failingSince;
        if (failingFor >= bounds.parkAfterMs || workflowInfo().historyLength >= bounds.parkAtEvents) {
          await park(step);
          failingSince = undefined;
          continue;
        }
        await sleep(retryDelayMs(attempt, failingFor, bounds));
      }
    }
  }

  /**
   * Risk control before any money moves: a blocked order is rejected; a flagged one waits for
   * an analyst's decision until its policy's deadline, then the policy's default applies.
   * Returns the reason when the order ends here, rejected.
   */
  async function passRiskControl(risk: OrderRisk | null): Promise<string | undefined> {
    if (risk?.decision === 'block') return risk.reason ?? 'rejected by risk control';
    if (!risk?.review) return undefined;
    const review = risk.review;
    progress.status = 'in_review';
    progress.step = 'reviewing';
    awaitingReview = review;
    while (!reviewDecision) {
      const waitMs = review.deadlineMs - Date.now();
      if (waitMs > 0) {
        await condition(() => reviewDecision !== undefined, waitMs);
      } else if (awaitingReview) {
        // Past the deadline: the policy's default, unless an analyst decided first.
        awaitingReview = undefined;
        reviewDecision = await durably('reviewing', () =>
          riskSteps.decideReview({
            reviewId: review.id,
            decision: review.onDeadline,
            via: 'deadline',
            actor: { clientId: null, name: 'risk-deadline' },
          }),
        );
      } else {
        // An analyst's decision is being recorded: it ends the wait, or gives the review back.
        await condition(() => reviewDecision !== undefined || awaitingReview !== undefined);
      }
    }
    if (reviewDecision!.status === 'rejected') {
      return reviewDecision!.decidedVia === 'deadline'
        ? 'risk review not decided in time: rejected by policy'
        : 'rejected in risk review';
    }
    progress.status = 'received';
    return undefined;
  }

  /** Announces the outcome; a cancellation cannot stop it. */
  async function finish(status: OrderStatus, reason?: string): Promise<OrderProgress> {
    position = { at: 'finish', status, ...(reason ? { reason } : {}) };
    Object.assign(progress, { status, ...(reason ? { reason } : {}) });
    if (viaProvider) {
      // The database settled what is due; now the provider captures it (or voids the hold).
      await CancellationScope.nonCancellable(() =>
        durably('settling-payment', () => payments.settleProviderPayment(orderId), { compensation: true }),
      );
    }
    if (notify) {
      progress.step = 'notifying';
      await CancellationScope.nonCancellable(async () => {
        try {
          await webhooks.notifyOrderStatus({ orderId, status, eventId: orderEventId(orderId, status) });
        } catch (err) {
          log.warn('webhook not delivered', { orderId, error: messageOf(err) });
        }
      });
    }
    progress.step = 'done';
    return progress;
  }

  /** Undoes what was done (release, refund) and ends the order; runs to the end even when cancelled. */
  function closeUnfulfilled(reason: string): Promise<OrderStatus> {
    position = { at: 'close', reason };
    return CancellationScope.nonCancellable(async () => {
      const status = await durably('compensating', () => steps.closeUnfulfilled(orderId, { ...keys, reason }), {
        compensation: true,
      });
      if (status !== 'delivered') progress.unitsReserved = 0;
      return status;
    });
  }

  /** Ends an order some of whose units could not be obtained (delivers what was, refunds the rest, or closes it). */
  async function settleShortfall(reason: string): Promise<OrderProgress> {
    position = { at: 'shortfall', reason };
    const status = await CancellationScope.nonCancellable(() =>
      durably('compensating', () => steps.settleShortfall(orderId, { ...keys, reason }), { compensation: true }),
    );
    if (status !== 'partially_delivered' && status !== 'delivered') progress.unitsReserved = 0;
    return await finish(status, reason);
  }

  /**
   * Every unit still without a key, through its product's routes in order (the plan the stock
   * step made, or one read now); returns how many stay unobtained, and whether a purchase
   * delivered the order (the last unit bought synchronously: no delivering step after it).
   */
  async function sourceFromSuppliers(
    planned?: SourcingPlan,
  ): Promise<{ unobtained: number; routed: boolean; delivered: boolean }> {
    const plan: SourcingPlan = planned ?? (await durably('sourcing', () => sourcingSteps.planSourcing(orderId)));
    const routesOf = new Map(plan.products.map((p) => [p.productId, p.routes]));
    let unobtained = 0;
    let delivered = false;
    await eachLimited(plan.units, SOURCING_CONCURRENCY, async (unit) => {
      for (const route of routesOf.get(unit.productId) ?? []) {
        const key = `${unit.unitId}/${route.supplierId}`;
        const callback = async (deadlineMs: number) =>
          (await condition(() => callbacks.has(key), deadlineMs)) ? callbacks.get(key) : undefined;
        const bought = await tryRoute(
          { orderId, unitId: unit.unitId, routeId: route.routeId, deliver: true },
          route,
          callback,
        );
        if (bought.obtained) {
          progress.unitsReserved += 1;
          delivered ||= bought.delivered;
          return;
        }
      }
      unobtained += 1;
    });
    return { unobtained, routed: plan.products.some((p) => p.routes.length > 0), delivered };
  }

  try {
    // A run continued after a parking starts where the parked one stood.
    const from = carried?.position;
    if (from?.at === 'finish') return await finish(from.status, from.reason);
    if (from?.at === 'shortfall') return await settleShortfall(from.reason);
    if (from?.at === 'close') {
      const status = await closeUnfulfilled(from.reason);
      return await finish(status, status === 'delivered' ? undefined : from.reason);
    }
    // Version 2 takes two local activities where the earlier orders took four, and decides by
    // its input, not by patch markers: a patch costs every order a search-attribute write on
    // the server. Orders started before it run (and replay) the steps one by one.
    const lean = version >= 2;
    let begun: Awaited<ReturnType<OrderActivities['beginOrder']>> | undefined;
    if (from?.at !== 'begin') {
      if (lean) {
        const admitted = await durably('assessing', () => steps.admitOrder(orderId, keys.debitKey));
        begun = admitted.begun;
        if (!begun) {
          const rejected = await passRiskControl(admitted.risk);
          if (rejected) return await finish('rejected', rejected);
        }
      } else if (patched('risk-control')) {
        const rejected = await passRiskControl(await durably('assessing', () => riskSteps.assessOrder(orderId)));
        if (rejected) return await finish('rejected', rejected);
      }
    }
    // Risk control is passed: from here every step finds on the database what was done.
    position = { at: 'begin' };
    begun ??= await durably('charging', () => steps.beginOrder(orderId, keys.debitKey));
    if (begun.status === 'received') {
      // Paid through a provider and not yet authorized: authorize, then begin again (which
      // moves on once authorized, or fails a declined order). Not cancellable: a hold the
      // provider made must be known to be voided.
      viaProvider = true;
      await CancellationScope.nonCancellable(() => durably('authorizing', () => payments.authorizePayment(orderId)));
      begun = await durably('charging', () => steps.beginOrder(orderId, keys.debitKey));
    }
    progress.unitsTotal = begun.units;
    notify = begun.notify;
    if (begun.status !== 'fulfilling') return await finish(begun.status, begun.reason);
    progress.status = 'fulfilling';

    // The stock step plans the sourcing of what it leaves (one local activity less). An order
    // recorded before that replays a result without a plan, and plans in a step of its own.
    const { reserved, missing, plan } = await durably(
      'reserving',
      (): Promise<{ reserved: number; missing: number; plan?: SourcingPlan }> =>
        lean ? steps.fulfilFromStock(orderId, { plan: true }) : steps.reserveKeys(orderId),
    );
    progress.unitsReserved = reserved;
    if (lean && missing === 0) return await finish('delivered');
    let delivered = false;
    if (missing > 0 && (lean || patched('supplier-sourcing'))) {
      const sourced = await sourceFromSuppliers(plan);
      const { unobtained, routed } = sourced;
      delivered = sourced.delivered;
      if (unobtained > 0) {
        const reason = routed
          ? `unavailable: ${unobtained} of ${progress.unitsTotal} units could not be obtained from stock or any supplier`
          : `out of stock: ${unobtained} of ${progress.unitsTotal} units unavailable`;
        return await settleShortfall(reason);
      }
    } else if (missing > 0) {
      const reason = `out of stock: ${missing} of ${progress.unitsTotal} units unavailable`;
      return await finish(await closeUnfulfilled(reason), reason);
    }

    // Histories from before purchases delivered (their results carry no `delivered`) replay this step.
    if (!delivered) await durably('delivering', () => steps.deliverOrder(orderId));
    return await finish('delivered');
  } catch (err) {
    if (err instanceof ContinueAsNew || permanentFailure(err)?.type === FailureType.OrderNotFound) throw err;
    const reason = isCancellation(err) ? 'cancelled' : `fulfilment error: ${messageOf(err)}`;
    if (!isCancellation(err)) log.error('order step failed for good; compensating', { orderId, error: reason });
    const status = await closeUnfulfilled(reason);
    // A step that committed before the cancellation reached it may have delivered: the
    // database's status is the outcome, and a delivered order is not cancelled.
    const progressed = await finish(status, status === 'delivered' ? undefined : reason);
    if (isCancellation(err) && status !== 'delivered') throw err;
    return progressed;
  }
}
