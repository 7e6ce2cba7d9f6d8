// An Update waits for a worker to run its validator and its handler. With no worker polling
// (an outage, a deploy) the client polls for the outcome for ever and the request hangs until
// the caller gives up: every Update the API sends is bounded, and one not answered in time is
// 503 workflow_unavailable — the caller sends it again (the workflow refuses what no longer applies).
import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { Problem } from './problem';

/** Long enough for a busy worker to record a change, short enough that a caller is told. */
export const UPDATE_WITHIN_MS = 10_000;

/** Runs `send` (which sends one Update) under a deadline; past it, 503 instead of a hang or a 500. */
export async function updateWithinDeadline<T>(
  temporal: Client,
  send: () => Promise<T>,
  withinMs = UPDATE_WITHIN_MS,
): Promise<T> {
  const deadline = Date.now() + withinMs;
  try {
    return await temporal.withDeadline(deadline, send);
  } catch (err) {
    // The workflow's own answers (refused, not found) stand; anything else past the deadline is the deadline.
    if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError) throw err;
    if (Date.now() >= deadline) {
      throw new Problem(503, 'workflow_unavailable', 'the workflow did not answer in time; send it again');
    }
    throw err;
  }
}
