// The worker for the `fulfillment` task queue: workflows by bundle, activities by module.
import { NativeConnection, Worker, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';

/**
 * Concurrency and cache settings, shared with the benchmark's floor workers so floors and
 * orders run under the same settings. See bench/RESULTS.md for the measurements behind them.
 */
export const workerTuning = {
  // Order steps are local activities holding a pooled database connection each: more in
  // flight than the pool (DATABASE_POOL_SIZE, 10) only queue inside the process.
  maxConcurrentLocalActivityExecutions: 20,
  maxConcurrentWorkflowTaskExecutions: 40,
  maxConcurrentActivityTaskExecutions: 100,
} satisfies Partial<WorkerOptions>;

export interface FulfillmentWorkerOptions {
  deps: ActivityDeps;
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (tests build one per suite); otherwise the worker bundles at start. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** Extra worker options, e.g. a test's activity interceptors. */
  extra?: Partial<WorkerOptions>;
}

export function createFulfillmentWorker(options: FulfillmentWorkerOptions): Promise<Worker> {
  return Worker.create({
    ...workerTuning,
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.deps),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    identity: options.deps.workerIdentity,
    ...options.extra,
  });
}
