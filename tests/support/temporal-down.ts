// For the start sweeps' tests: another API process over the stack's database whose Temporal is
// unreachable, so intake commits what a start cannot follow (Temporal away), and a look at
// whether a workflow was ever started.
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { createApp } from '../../api/app';
import { createOrderStarts } from '../../api/order-starts';
import { freePort } from '../../scripts/lib/process-stack';
import type { TestStack } from './stack';

/** The API's URL and its close (the caller closes it before the stack). */
export async function apiWithoutTemporal(stack: TestStack): Promise<{ url: string; close(): Promise<void> }> {
  // Nobody listens on a free port: Temporal, as this API process sees it, is down. No retries:
  // the start fails at once instead of backing off past the test.
  const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: [] });
  const temporal = new Client({ connection, namespace: stack.config.TEMPORAL_NAMESPACE });
  const deps = { ...stack.deps, temporal };
  const orderStarts = createOrderStarts(deps);
  const server: Server = createApp({ ...deps, orderStarts }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await orderStarts.drain();
      await connection.close();
    },
  };
}

export async function workflowExists(stack: TestStack, workflowId: string): Promise<boolean> {
  try {
    await stack.deps.temporal.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** How many runs Temporal has had under the workflow id (continued-as-new runs each count). */
export async function runsOf(stack: TestStack, workflowId: string): Promise<number> {
  let runs = 0;
  for await (const _run of stack.deps.temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs += 1;
  return runs;
}
