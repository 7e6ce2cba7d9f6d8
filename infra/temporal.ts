// The Temporal connection for API processes: one client for the process's lifetime.
import { Client, Connection, WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import { WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/common';
import type { Config } from './config';

export async function connectTemporal(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>,
): Promise<Client> {
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS, connectTimeout: '5s' });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

/**
 * Starts a workflow whose id comes from business ids, unless one with that id exists (running
 * or finished): a resubmitted or concurrent request finds the workflow the first one started.
 * `againAfterFailure`: a run that failed (or was terminated) does not hold the id for good, so
 * asking again starts a new one — for work whose every step is idempotent, such as a refund.
 */
export async function startOnce(
  client: Client,
  workflowType: string,
  {
    againAfterFailure,
    ...options
  }: { workflowId: string; taskQueue: string; args: unknown[]; againAfterFailure?: boolean },
): Promise<void> {
  try {
    await client.workflow.start(workflowType, {
      ...options,
      workflowIdReusePolicy: againAfterFailure
        ? WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
        : WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * Uses a workflow's handle once the workflow exists: an order's workflow starts just after
 * the order's 202 (api/order-starts.ts), so whoever holds the order id may ask before the
 * start lands. Retries `use` while the workflow is not found, up to `withinMs`.
 */
export async function whenStarted<T>(
  client: Client,
  workflowId: string,
  use: (handle: WorkflowHandle) => Promise<T>,
  withinMs = 10_000,
): Promise<T> {
  const handle = client.workflow.getHandle(workflowId);
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await use(handle);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
