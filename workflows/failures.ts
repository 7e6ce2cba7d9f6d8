// Reading an activity's failure in workflow code: the application failure behind it (local
// activities fail with it unwrapped), whether it is permanent, and its message.
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

/** The application failure behind an activity's failure (local activities fail with it unwrapped). */
export function applicationFailureOf(err: unknown): ApplicationFailure | undefined {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause;
  return undefined;
}

export function permanentFailure(err: unknown): ApplicationFailure | undefined {
  const failure = applicationFailureOf(err);
  return failure?.nonRetryable ? failure : undefined;
}

export function messageOf(err: unknown): string {
  const cause = applicationFailureOf(err) ?? (err instanceof ActivityFailure && err.cause ? err.cause : err);
  return cause instanceof Error ? cause.message : String(cause);
}
