// Starting order workflows, off the request path. `POST /v1/orders` answers 202 once the
// order is committed: the order is recorded and will be fulfilled. Its workflow is started
// right after, in the background, so intake does not wait on (or fail with) the Temporal
// start call: at saturation that call was most of the request's latency, and a Temporal
// outage no longer refuses orders. What a crash or an outage left unstarted, the sweep
// starts: an order still `received` a while after intake gets its start again, which is
// idempotent (the workflow id comes from the order), so sweeping a started order costs one
// refused call and nothing else. docs/architecture.md ("Intake") has the trade-off.
import type { Order } from '@prisma/client';
import type { Client } from '@temporalio/client';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import type { Logger } from '../infra/logger';
import { startOnce } from '../infra/temporal';
import { findStuckOrders } from '../store/orders';
import type { orderWorkflow } from '../workflows/order';
import { ORDER_WORKFLOW_VERSION, type StepBounds } from '../workflows/order-messages';
import { createStartSweep, type StartSweep } from './start-sweep';

/**
 * Starts in flight beyond which intake waits for its own start: when Temporal falls behind,
 * order systems are slowed down instead of the API queueing starts without bound. At the
 * sustained rate a few are in flight (bench/RESULTS.md).
 */
const MAX_STARTS_IN_FLIGHT = 200;

type Startable = Pick<Order, 'id' | 'workflowId'>;

/**
 * The step bounds configured (ORDER_RETRY_*, ORDER_PARK_*), read at each start; none set: the
 * workflow's own defaults and an input as before.
 */
function configuredBounds(config: Config): Partial<StepBounds> | undefined {
  const all: Record<keyof StepBounds, number | undefined> = {
    retryMaxMs: config.ORDER_RETRY_MAX_MS,
    slowAfterMs: config.ORDER_RETRY_SLOW_AFTER_MS,
    slowMaxMs: config.ORDER_RETRY_SLOW_MAX_MS,
    parkAfterMs: config.ORDER_PARK_AFTER_MS,
    parkAtEvents: config.ORDER_PARK_HISTORY_EVENTS,
  };
  const set = Object.entries(all).filter(([, value]) => value !== undefined);
  return set.length > 0 ? (Object.fromEntries(set) as Partial<StepBounds>) : undefined;
}

export interface OrderStarts extends StartSweep {
  /**
   * Starts the order's workflow in the background (resolves at once) or, with too many starts
   * in flight, resolves when this one is done; a start that fails is left to the sweep.
   */
  start(order: Startable): Promise<void>;
  /** Waits for the starts in flight (on shutdown, after the server stopped taking requests). */
  drain(): Promise<void>;
}

export function createOrderStarts(deps: { db: Db; temporal: Client; config: Config; logger: Logger }): OrderStarts {
  const { db, temporal, config, logger } = deps;
  const inFlight = new Set<Promise<void>>();

  function startWorkflow(order: Startable): Promise<void> {
    const bounds = configuredBounds(config);
    const args: Parameters<typeof orderWorkflow> = [
      { orderId: order.id, version: ORDER_WORKFLOW_VERSION, ...(bounds ? { bounds } : {}) },
    ];
    return startOnce(temporal, 'orderWorkflow', {
      workflowId: order.workflowId,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args,
    });
  }

  // Lost: an order still `received` ORDER_START_SWEEP_IDLE_MS after its last change.
  const { sweep, sweepPeriodically } = createStartSweep({
    what: 'order',
    find: (limit, only) =>
      findStuckOrders(db, new Date(Date.now() - config.ORDER_START_SWEEP_IDLE_MS), limit, {
        status: 'received',
        ...only,
      }),
    start: startWorkflow,
    everyMs: config.ORDER_START_SWEEP_EVERY_MS,
    logger,
  });

  return {
    async start(order) {
      const started = startWorkflow(order).then(
        () => undefined,
        (err: unknown) => logger.warn({ err, orderId: order.id }, 'order workflow not started yet: the sweep retries'),
      );
      inFlight.add(started);
      void started.finally(() => inFlight.delete(started));
      if (inFlight.size > MAX_STARTS_IN_FLIGHT) await started;
    },
    sweep,
    sweepPeriodically,
    async drain() {
      await Promise.all([...inFlight]);
    },
  };
}
