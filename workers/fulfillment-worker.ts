// The worker for the `fulfillment` task queue: workflows by bundle, activities by module.
import { NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';

export interface FulfillmentWorkerOptions {
  deps: ActivityDeps;
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (tests build one per suite); otherwise the worker bundles at start. */
  workflowBundle?: WorkflowBundleWithSourceMap;
}

export function createFulfillmentWorker(options: FulfillmentWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.deps),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    identity: options.deps.workerIdentity,
  });
}
