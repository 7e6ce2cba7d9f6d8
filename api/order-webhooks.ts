// Webhooks an order's workflows sent, for its timeline. No table records deliveries: the
// order's and its compensations' workflow histories do (the notify activities' input, attempts
// and result), so they are read from Temporal. Only the event id, status and outcome are taken
// from those payloads; they carry ids, never card-key plaintext (invariant 1).
import type { Client as TemporalClient } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { tsToDate } from '@temporalio/common/lib/time';
import type { TimelineEntry } from '../store/orders/timeline';

const NOTIFY_ACTIVITIES = new Set(['notifyOrderStatus', 'notifyCompensation']);

interface Scheduled {
  activity: string;
  input: { status?: string; eventId?: string; compensationId?: string };
  attempt: number;
}

function decode(payloads: { payloads?: unknown[] | null } | null | undefined): unknown {
  const first = payloads?.payloads?.[0];
  if (!first) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(first as Parameters<typeof defaultPayloadConverter.fromPayload>[0]);
  } catch {
    return undefined;
  }
}

async function webhooksOf(temporal: TemporalClient, workflowId: string): Promise<TimelineEntry[]> {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, Scheduled>();
  const entries: TimelineEntry[] = [];
  for (const event of history.events ?? []) {
    const at = event.eventTime ? tsToDate(event.eventTime) : new Date(0);
    const sched = event.activityTaskScheduledEventAttributes;
    if (sched && NOTIFY_ACTIVITIES.has(sched.activityType?.name ?? '')) {
      const input = (decode(sched.input) ?? {}) as Scheduled['input'];
      scheduled.set(String(event.eventId), { activity: sched.activityType!.name!, input, attempt: 1 });
      continue;
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const s = scheduled.get(String(started.scheduledEventId));
      if (s) s.attempt = started.attempt ?? 1;
      continue;
    }
    const done = event.activityTaskCompletedEventAttributes;
    const failed = event.activityTaskFailedEventAttributes;
    const timedOut = event.activityTaskTimedOutEventAttributes;
    const ref = done?.scheduledEventId ?? failed?.scheduledEventId ?? timedOut?.scheduledEventId;
    const s = ref !== undefined && ref !== null ? scheduled.get(String(ref)) : undefined;
    if (!s) continue;
    const result = done ? ((decode(done.result) ?? {}) as { sent?: boolean; status?: number }) : undefined;
    const type = s.activity === 'notifyCompensation' ? 'order.compensated' : `order.${s.input.status ?? '?'}`;
    entries.push({
      at,
      source: 'webhook',
      event: done ? (result?.sent ? 'sent' : 'no_receiver') : 'failed',
      data: {
        type,
        ...(s.input.eventId ? { eventId: s.input.eventId } : {}),
        ...(s.input.compensationId ? { compensationId: s.input.compensationId } : {}),
        attempts: s.attempt,
        ...(result?.status ? { httpStatus: result.status } : {}),
        ...(failed?.failure?.message ? { error: failed.failure.message } : {}),
        ...(timedOut ? { error: 'timed out' } : {}),
      },
    });
  }
  return entries;
}

/**
 * The webhook entries of these workflows; a workflow Temporal does not know (yet, or any more:
 * retention) has none. `unavailable` is true when Temporal could not be asked within the deadline.
 */
export async function webhookEntries(
  temporal: TemporalClient,
  workflowIds: string[],
  withinMs: number,
): Promise<{ entries: TimelineEntry[]; unavailable: boolean }> {
  let unavailable = false;
  const lists = await temporal
    .withDeadline(Date.now() + withinMs, () =>
      Promise.all(
        workflowIds.map((id) =>
          webhooksOf(temporal, id).catch((err: unknown) => {
            if ((err as { name?: string }).name !== 'WorkflowNotFoundError') unavailable = true;
            return [];
          }),
        ),
      ),
    )
    .catch(() => {
      unavailable = true;
      return [];
    });
  return { entries: lists.flat(), unavailable };
}
