// One subscription, for its whole life: the first period at once, then for each period a
// durable timer to the renewal notice (at least the notice period before the charge), the
// notice, a timer to the period's start, and the charge, which is a child order workflow
// whose id derives from (subscription, period, attempt): a restarted renewal finds the order
// it placed and never places two. A failed charge is retried on the dunning schedule keeping
// the anchor (past_due), then the subscription is on hold (suspended), then expired. Cancel,
// pause, resume and plan changes are Updates whose validators refuse what the status does not
// accept. The workflow decides; PostgreSQL records each event (a row and a webhook). Every
// few periods, or when Temporal suggests it, the run continues as new carrying its state, so
// a subscription of ten years keeps one id and a bounded history.
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  executeChild,
  isCancellation,
  log,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { SubscriptionActivities } from '../activities/subscriptions';
import { FailureType } from '../domain/failures';
import { TERMINAL_STATUSES, type OrderStatus } from '../domain/order-status';
import type { SubscriptionEventRecord, SubscriptionEventType } from '../domain/subscriptions/events';
import { noticeLeadMs as noticeLeadOf } from '../domain/subscriptions/notice';
import { periodAt, periodBounds, type PlanSegment, segmentFrom } from '../domain/subscriptions/periods';
import {
  accepts,
  ENDED_STATUSES,
  refusal,
  type SubscriptionRequest,
  type SubscriptionStatus,
} from '../domain/subscriptions/status';
import { messageOf } from './failures';
import type { orderWorkflow } from './order';
import { ORDER_WORKFLOW_VERSION } from './order-messages';
import {
  cancelUpdate,
  changePlanUpdate,
  DEFAULT_PERIODS_PER_RUN,
  type DueCharge,
  pauseUpdate,
  priceChangingSignal,
  resumeSubscriptionUpdate,
  scheduleQuery,
  type SubscriptionActor,
  type SubscriptionInput,
  type SubscriptionPayment,
  type SubscriptionPlan,
  type SubscriptionSchedule,
} from './subscription-messages';

// Database steps: local activities, retried by the SDK until they pass (a failure that cannot
// pass is retried by `durably` below, slowly: giving up would lose a renewal). They run one at
// a time (`serially` below): two local activities in flight at once may resolve in one
// activation on replay but in two when they ran, and whatever their continuations command (a
// child order, an Update's completion) would then come in another order — a nondeterminism
// error the recorded histories caught.
const steps = proxyLocalActivities<SubscriptionActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s' },
});
// Webhooks: the receiver may be down a while; ten attempts over about eight minutes, as for orders.
const webhooks = proxyActivities<SubscriptionActivities>({
  startToCloseTimeout: '15s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '2m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [FailureType.WebhookUrlRefused],
  },
});

const SYSTEM: SubscriptionActor = { clientId: null, name: 'system:renewal' };
/** How often a renewal whose child order it could not start reads the order's status. */
const ORDER_POLL_MS = 5_000;
/** A price change further ahead than this many periods is told by the renewal notices alone. */
const MAX_PERIODS_AHEAD = 240;
const MAX_PRICE_CHANGES_KEPT = 20;

type ChargeOutcome = 'paid' | 'declined' | 'unfulfilled';

/** What a period's order ended as, for the subscription. */
function outcomeOf(status: OrderStatus): ChargeOutcome {
  if (status === 'delivered' || status === 'partially_delivered') return 'paid';
  // Charged, then refunded: out of stock, every supplier down. Retried, never skipped.
  if (status === 'refunded') return 'unfulfilled';
  // Nothing charged: a declined card, a short balance, risk control's refusal.
  return 'declined';
}

export async function subscriptionWorkflow(input: SubscriptionInput): Promise<SubscriptionSchedule> {
  const { subscriptionId, clock, timing } = input;
  const state = input.state;
  const noticeMs = timing.noticeSeconds * 1000;
  const noticeLeadMs = noticeLeadOf(timing.noticeSeconds);
  // Bumped by every accepted request: the main loop's waits end and it looks again.
  let changes = 0;
  // A child order of the current charge is under way (a plan change then applies after it).
  let charging = false;
  let periodsThisRun = 0;

  // Events are recorded in order by one flusher, so the database sees them as the workflow
  // made them; each recorded event is then announced by a webhook of its own.
  const outbox: SubscriptionEventRecord[] = [];
  let recordedSeq = state.seq;
  let flushing = false;
  const inFlight = new Set<Promise<void>>();
  const announced = new Map<number, Promise<void>>();

  let lastStep: Promise<unknown> = Promise.resolve();
  /** Runs `step` once every step asked for before it has ended: one local activity at a time. */
  function serially<T>(step: () => Promise<T>): Promise<T> {
    const result = lastStep.then(step, step);
    lastStep = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /**
   * Retries a database step until it passes (a permanent failure too, slowly, logged: it
   * needs a person); each attempt waits its turn behind the other steps.
   */
  async function durably<T>(what: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await serially(run);
      } catch (err) {
        if (isCancellation(err)) throw err;
        log.error('subscription step failed; retrying', { subscriptionId, step: what, attempt, error: messageOf(err) });
        await sleep(Math.min(1_000 * 2 ** attempt, 600_000));
      }
    }
  }

  function segmentFor(period: number): PlanSegment {
    const pending = state.pending;
    return pending && period >= pending.fromPeriod
      ? segmentFrom(state.segment, pending.fromPeriod, pending.plan.period)
      : state.segment;
  }
  const planFor = (period: number): SubscriptionPlan =>
    state.pending && period >= state.pending.fromPeriod ? state.pending.plan : state.plan;
  const boundsOf = (period: number) => periodBounds(clock, segmentFor(period), period);
  const isoBounds = (period: number) => {
    const b = boundsOf(period);
    return { number: period, startsAt: new Date(b.startsAt).toISOString(), endsAt: new Date(b.endsAt).toISOString() };
  };

  /** The plan change waiting for `period`, made the plan in effect once that period's charge is prepared. */
  function adoptPlanFor(period: number): void {
    const pending = state.pending;
    if (!pending || period < pending.fromPeriod) return;
    state.segment = segmentFrom(state.segment, pending.fromPeriod, pending.plan.period);
    state.plan = pending.plan;
    delete state.pending;
    record('plan_applied', {
      detail: { sku: state.plan.sku, period: state.plan.period, fromPeriod: pending.fromPeriod },
    });
  }

  function ended(): boolean {
    return ENDED_STATUSES.includes(state.status);
  }

  function record(
    type: SubscriptionEventType,
    options: {
      actor?: SubscriptionActor;
      detail?: Record<string, unknown>;
      period?: SubscriptionEventRecord['period'];
      payment?: SubscriptionPayment;
      notify?: boolean;
    } = {},
  ): number {
    state.seq += 1;
    outbox.push({
      subscriptionId,
      seq: state.seq,
      type,
      actor: options.actor ?? SYSTEM,
      detail: options.detail ?? {},
      snapshot: {
        status: state.status,
        statusReason: state.statusReason ?? null,
        currentPeriod: state.paidPeriod,
        nextChargeAt: ended() ? null : new Date(state.due.at).toISOString(),
        plan: state.plan,
        pending: state.pending ?? null,
        ...(options.payment ? { payment: options.payment } : {}),
      },
      ...(options.period ? { period: options.period } : {}),
      notify: options.notify ?? true,
    });
    void flush();
    return state.seq;
  }

  async function flush(): Promise<void> {
    if (flushing) return;
    flushing = true;
    try {
      while (outbox.length > 0) {
        const event = outbox[0]!;
        await durably('recording', () => steps.recordSubscriptionEvent(event));
        outbox.shift();
        recordedSeq = event.seq;
        if (event.notify) announce(event.seq);
      }
    } finally {
      flushing = false;
    }
  }

  function announce(seq: number): void {
    const sent = webhooks.notifySubscription({ subscriptionId, seq }).then(
      () => undefined,
      (err: unknown) => log.warn('subscription webhook not delivered', { subscriptionId, seq, error: messageOf(err) }),
    );
    inFlight.add(sent);
    announced.set(seq, sent);
    void sent.finally(() => {
      inFlight.delete(sent);
      announced.delete(seq);
    });
  }

  /** Resolves once event `seq` is recorded and its webhook delivered (or given up on). */
  async function told(seq: number): Promise<void> {
    await condition(() => recordedSeq >= seq);
    await announced.get(seq);
  }

  /** Nothing left to write or announce, and no handler running: the run may end or continue as new. */
  const quiet = () => allHandlersFinished() && outbox.length === 0 && !flushing && inFlight.size === 0;

  function schedule(): SubscriptionSchedule {
    const live = !ended();
    const due = state.due;
    const upcoming = live
      ? [0, 1, 2].map((k) => ({ ...isoBounds(due.period + k), sku: planFor(due.period + k).sku }))
      : [];
    return {
      status: state.status,
      ...(state.statusReason ? { statusReason: state.statusReason } : {}),
      plan: state.plan,
      ...(state.pending ? { pending: state.pending } : {}),
      paidPeriod: state.paidPeriod,
      ...(live
        ? {
            nextCharge: {
              period: due.period,
              attempt: due.attempt,
              at: new Date(due.at).toISOString(),
              ...(due.period > state.noticed ? { noticeAt: new Date(due.at - noticeLeadMs).toISOString() } : {}),
            },
          }
        : {}),
      ...(state.holdUntil !== undefined && state.status === 'suspended'
        ? { holdUntil: new Date(state.holdUntil).toISOString() }
        : {}),
      upcoming,
      run: state.runs,
      seq: state.seq,
    };
  }

  /** Refuses at once (the caller learns it) a request the status does not accept. */
  function validate(request: SubscriptionRequest): void {
    if (accepts(state.status, request)) return;
    throw ApplicationFailure.create({
      type: FailureType.SubscriptionRequestRefused,
      nonRetryable: true,
      message: refusal(state.status, request),
    });
  }

  /** Applies an accepted request's transition, and answers once its event is recorded. */
  async function transition(
    status: SubscriptionStatus,
    type: SubscriptionEventType,
    options: Parameters<typeof record>[1] & { reason?: string },
  ): Promise<SubscriptionSchedule> {
    state.status = status;
    if (options.reason) state.statusReason = options.reason;
    else delete state.statusReason;
    const seq = record(type, options);
    changes += 1;
    await condition(() => recordedSeq >= seq);
    return schedule();
  }

  /** The charge a resume makes now: the unpaid period if it has not ended, else the period now in (the anchor kept). */
  function chargeNow(): DueCharge {
    const now = Date.now();
    const due = state.due;
    if (now < boundsOf(due.period).endsAt) return { ...due, retries: 0, firstAt: now, at: now };
    // The periods that passed on hold are not charged: the buyer had no rights in them.
    adoptPlanFor(due.period + 1);
    const current = periodAt(clock, state.segment, now);
    return { period: current.number, attempt: 1, retries: 0, firstAt: now, at: now };
  }

  /** When period `n` is charged as things stand: the due charge's time, else the period's start. */
  const chargeTimeOf = (n: number) => (n === state.due.period ? state.due.at : boundsOf(n).startsAt);

  setHandler(scheduleQuery, schedule);
  // An announced price change of a product: the order system is told which renewal pays it
  // first (the first charged at or after it takes effect, if the plan is the product then).
  // The charge itself needs nothing: orders pay the product's price when they are placed.
  setHandler(priceChangingSignal, (change) => {
    const told = state.toldPriceChanges ?? [];
    if (ended() || told.includes(change.changeId)) return;
    const effectiveAt = Date.parse(change.effectiveAt);
    for (let n = state.due.period; n < state.due.period + MAX_PERIODS_AHEAD; n++) {
      if (chargeTimeOf(n) < effectiveAt) continue;
      if (planFor(n).productId !== change.productId) return;
      state.toldPriceChanges = [...told, change.changeId].slice(-MAX_PRICE_CHANGES_KEPT);
      record('price_changing', {
        detail: {
          changeId: change.changeId,
          sku: change.sku,
          amount: change.amount,
          effectiveAt: change.effectiveAt,
          fromPeriod: n,
          chargeAt: new Date(chargeTimeOf(n)).toISOString(),
        },
      });
      return;
    }
  });
  setHandler(
    cancelUpdate,
    async ({ actor, reason }) => {
      if (state.status === 'cancelled') return schedule();
      delete state.holdUntil;
      return transition('cancelled', 'cancelled', { actor, reason: reason ?? 'cancelled', detail: { reason } });
    },
    { validator: (_request) => validate('cancel') },
  );
  setHandler(
    pauseUpdate,
    ({ actor, reason }) => transition('paused', 'paused', { actor, detail: { reason }, ...(reason ? { reason } : {}) }),
    { validator: (_request) => validate('pause') },
  );
  setHandler(
    resumeSubscriptionUpdate,
    ({ actor, reason, payment }) => {
      const from = state.status;
      // Paused before its renewal fell due: renews on schedule. Otherwise: at once.
      if (from !== 'paused' || Date.now() >= state.due.at) {
        state.due = chargeNow();
        // The buyer asked for this charge now: no notice is due for it.
        state.noticed = Math.max(state.noticed, state.due.period);
      }
      delete state.holdUntil;
      return transition('active', 'resumed', {
        actor,
        detail: { reason, from, ...(payment ? { payment: payment.method } : {}) },
        ...(payment ? { payment } : {}),
      });
    },
    { validator: (_request) => validate('resume') },
  );
  setHandler(
    changePlanUpdate,
    async ({ actor, plan }) => {
      // From the next charge whose notice has not gone out (and that is not under way).
      const due = state.due;
      const fromPeriod = charging || due.period <= state.noticed ? due.period + 1 : due.period;
      const same = plan.productId === state.plan.productId && plan.period === state.plan.period;
      if (same) delete state.pending;
      else state.pending = { plan, fromPeriod };
      const seq = record('plan_changed', {
        actor,
        detail: { sku: plan.sku, period: plan.period, fromPeriod: same ? null : fromPeriod },
      });
      changes += 1;
      await condition(() => recordedSeq >= seq);
      return schedule();
    },
    { validator: (_request) => validate('changePlan') },
  );

  /** Waits until `at`; true when a request came first (the caller looks again). */
  async function waitUntil(at: number): Promise<boolean> {
    const seen = changes;
    const ms = at - Date.now();
    if (ms <= 0) return false;
    return await condition(() => changes !== seen, ms);
  }

  /** The period's order to its end: a child order workflow, or, if one was started without us, its record. */
  async function runOrder(order: { orderId: string; workflowId: string }): Promise<OrderStatus> {
    try {
      const result = await executeChild<typeof orderWorkflow>('orderWorkflow', {
        workflowId: order.workflowId,
        args: [{ orderId: order.orderId, version: input.orderVersion }],
        // An order runs to its end whatever becomes of the subscription's run.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      return result.status;
    } catch (err) {
      // The order start sweep (api/order-starts.ts) started it first, or the order workflow
      // ended without a result (terminated): the database holds the outcome.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError) && !(err instanceof ChildWorkflowFailure)) throw err;
      for (;;) {
        const status = await durably('reading order', () => steps.periodOrderStatus(order.orderId));
        if (TERMINAL_STATUSES.includes(status)) return status;
        await sleep(ORDER_POLL_MS);
      }
    }
  }

  /** Charges the due period once: one order, run to its end. */
  async function charge(due: DueCharge): Promise<{ outcome: ChargeOutcome; orderId?: string; reason?: string }> {
    charging = true;
    try {
      const plan = state.plan;
      const placed = await durably('placing order', () =>
        steps.placePeriodOrder({
          subscriptionId,
          period: isoBounds(due.period),
          attempt: due.attempt,
          productId: plan.productId,
          sku: plan.sku,
        }),
      );
      if ('refused' in placed) return { outcome: 'declined', reason: placed.refused };
      const status = await runOrder(placed);
      return { outcome: outcomeOf(status), orderId: placed.orderId, reason: `order ${status}` };
    } finally {
      charging = false;
    }
  }

  /** After a charge: the next period on success; otherwise the next retry, or the hold. */
  function settle(due: DueCharge, result: Awaited<ReturnType<typeof charge>>): void {
    const periodRecord = (outcome: ChargeOutcome) => ({
      bounds: isoBounds(due.period),
      productId: state.plan.productId,
      outcome,
      ...(result.orderId ? { orderId: result.orderId } : {}),
    });
    // A request that came during the charge (cancel, pause) stands: the outcome does not undo it.
    const renewing = state.status === 'active' || state.status === 'past_due';
    if (result.outcome === 'paid') {
      state.paidPeriod = Math.max(state.paidPeriod, due.period);
      const next = due.period + 1;
      const startsAt = boundsOf(next).startsAt;
      state.due = { period: next, attempt: 1, retries: 0, firstAt: startsAt, at: startsAt };
      if (renewing) {
        state.status = 'active';
        delete state.statusReason;
      }
      record('renewed', { period: periodRecord('paid'), detail: { orderId: result.orderId, attempt: due.attempt } });
      return;
    }
    const offsets = timing.retryOffsetsSeconds;
    const failure = { orderId: result.orderId, attempt: due.attempt, outcome: result.outcome, reason: result.reason };
    if (due.retries < offsets.length) {
      state.due = {
        ...due,
        attempt: due.attempt + 1,
        retries: due.retries + 1,
        at: due.firstAt + offsets[due.retries]! * 1000,
      };
      // A declined payment is the buyer's to fix (past_due); an order that could not be
      // fulfilled was refunded, and is retried the same way without blaming the payment.
      if (renewing && result.outcome === 'declined') {
        state.status = 'past_due';
        state.statusReason = result.reason ?? 'renewal charge declined';
      }
      record('renewal_failed', {
        period: periodRecord(result.outcome),
        detail: { ...failure, nextRetryAt: new Date(state.due.at).toISOString() },
      });
      return;
    }
    state.due = { ...due, attempt: due.attempt + 1 };
    record('renewal_failed', { period: periodRecord(result.outcome), detail: { ...failure, retriesLeft: 0 } });
    if (renewing) {
      state.status = 'suspended';
      state.statusReason = `renewal of period ${due.period} failed after ${offsets.length} retries`;
      state.holdUntil = Date.now() + timing.holdSeconds * 1000;
      record('suspended', { detail: { period: due.period, holdUntil: new Date(state.holdUntil).toISOString() } });
    }
  }

  async function renewals(): Promise<void> {
    while (!ended()) {
      const periodsPerRun = input.periodsPerRun ?? DEFAULT_PERIODS_PER_RUN;
      if (periodsThisRun >= periodsPerRun || workflowInfo().continueAsNewSuggested) {
        await condition(quiet);
        // A request accepted while the run was settling is handled by the next run from its state.
        await continueAsNew<typeof subscriptionWorkflow>({
          ...input,
          orderVersion: ORDER_WORKFLOW_VERSION,
          state: { ...state, runs: state.runs + 1 },
        });
      }
      if (state.status === 'paused') {
        const seen = changes;
        await condition(() => changes !== seen);
        continue;
      }
      if (state.status === 'suspended') {
        if (await waitUntil(state.holdUntil!)) continue;
        state.status = 'expired';
        state.statusReason = 'on hold until the end of the hold period';
        record('expired', { detail: { period: state.due.period } });
        break;
      }
      const due = state.due;
      if (due.period > state.noticed) {
        if (await waitUntil(due.at - noticeLeadMs)) continue;
        adoptPlanFor(due.period);
        state.noticed = due.period;
        const notice = record('renewal_upcoming', {
          period: { bounds: isoBounds(due.period), productId: state.plan.productId, notice: true },
          detail: { chargeAt: new Date(due.at).toISOString(), sku: state.plan.sku, planPeriod: state.plan.period },
        });
        // The notice period runs from when the order system was told. Told late (the run was
        // held up, the webhook retried): the charge waits for the whole notice period after
        // it, never earlier than announced. The period's bounds stay.
        await told(notice);
        const toldAt = Date.now();
        if (state.due === due && due.at - toldAt < noticeMs) {
          state.due = { ...due, firstAt: toldAt + noticeMs, at: toldAt + noticeMs };
        }
        continue;
      }
      if (await waitUntil(due.at)) continue;
      adoptPlanFor(due.period);
      const result = await charge(due);
      periodsThisRun += 1;
      settle(due, result);
    }
  }

  try {
    await renewals();
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Cancelling the workflow itself (Temporal UI or CLI) cancels the subscription, recorded.
    await CancellationScope.nonCancellable(async () => {
      if (!ended()) {
        state.status = 'cancelled';
        state.statusReason = 'workflow cancelled';
        record('cancelled', { detail: { reason: 'workflow cancelled' } });
      }
      await condition(quiet);
    });
    throw err;
  }
  await condition(quiet);
  return schedule();
}
