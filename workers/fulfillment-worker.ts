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
  // Workflows kept in memory between their tasks: one per workflow-task slot at work and one
  // more waiting (an activity, a child order). The SDK's default grows with the heap (about
  // 2,300 on a 4 GB heap), and a subscription asleep until its next period stayed cached at
  // about 0.4 MB: 1,000 of them added 417 MB to the worker (bench/RESULTS.md, issue 31). A
  // workflow not cached is replayed from its history when it wakes, once a period for a
  // subscription; an order in flight stays cached.
  maxCachedWorkflows: 80,
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
