// What a payment provider says about a payment, kept beside the platform's own record for
// reconciliation. A webhook is only a trigger: on an event about one of the platform's
// payments, the provider is asked for the payment's state now and that answer is stored,
// never the event's body (a signed body is proof of who sent it, not of what is true).
//
// The read is made outside any transaction (no connection is held over a network call) and
// applied by compare-and-set on the row's version (PostgreSQL's `xmin`, which every update
// of the row changes): an answer is stored only when nothing was written to the row since
// it was read before asking. So the state that stands was asked for after every other
// stored answer had been received, which is after every delivered event happened at the
// provider — whatever order concurrent deliveries run in. A lost race asks again.
import type { Db } from '../infra/db';

/** What the provider holds for a payment now (PaymentProvider.retrieve answers it). */
export interface ProviderPaymentState {
  providerStatus: string;
  /** What the provider collected (Stripe: `amount_received`). */
  capturedMinor: bigint;
  /** What it gave back; undefined when the answer does not say (the stored figure stays). */
  refundedMinor?: bigint;
}

/** The event that triggers a read: who it is about, not what it claims. */
export interface ProviderEvent {
  eventId: string;
  type: string;
  createdAt: Date;
  /** The PaymentIntent the event is about; null for events about anything else. */
  intentId: string | null;
}

export type ProviderEventOutcome =
  /** The event id was stored before: nothing changed. */
  | 'duplicate'
  /** Stored; it is about no payment of the platform's, so nothing was asked. */
  | 'stored'
  /** Stored, and the provider's answer for the payment now stands. */
  | 'applied';

/** Every attempt lost its race to other writes of the row: the caller answers so the event is redelivered. */
export class ProviderReportContended extends Error {}

const ATTEMPTS = 3;

/** Sentinel that rolls back an attempt whose compare-and-set found the row written meanwhile. */
class RowChanged extends Error {}

/**
 * Stores the event once by its id and, for one of the platform's payments, what `read`
 * answers for it now. `read` throwing (the provider is down) writes nothing, so a
 * redelivery of the event tries again.
 */
export async function applyProviderEvent(
  db: Db,
  event: ProviderEvent,
  read: (intentId: string) => Promise<ProviderPaymentState>,
): Promise<ProviderEventOutcome> {
  if (await db.paymentWebhookEvent.findUnique({ where: { id: event.eventId }, select: { id: true } })) {
    return 'duplicate';
  }
  const payment = event.intentId
    ? await db.providerPayment.findFirst({
        where: { intentId: event.intentId },
        orderBy: { createdAt: 'desc' },
        select: { id: true, intentId: true },
      })
    : null;
  if (!payment) {
    const stored = await db.paymentWebhookEvent.createMany({
      data: [{ id: event.eventId, provider: 'stripe', type: event.type, paymentId: null }],
      skipDuplicates: true,
    });
    return stored.count === 0 ? 'duplicate' : 'stored';
  }
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const [row] = await db.$queryRaw<{ version: string }[]>`
      SELECT xmin::text AS version FROM provider_payments WHERE id = ${payment.id}::uuid`;
    const state = await read(payment.intentId!);
    try {
      return await db.$transaction(async (tx) => {
        const stored = await tx.paymentWebhookEvent.createMany({
          data: [{ id: event.eventId, provider: 'stripe', type: event.type, paymentId: payment.id }],
          skipDuplicates: true,
        });
        // The same event delivered twice at once: the other delivery stores it.
        if (stored.count === 0) return 'duplicate' as const;
        const updated = await tx.$executeRaw`
          UPDATE provider_payments
             SET provider_status = ${state.providerStatus},
                 provider_captured_minor = ${state.capturedMinor},
                 provider_refunded_minor = COALESCE(${state.refundedMinor ?? null}::bigint, provider_refunded_minor),
                 provider_event_at = GREATEST(provider_event_at, ${event.createdAt}::timestamptz)
           WHERE id = ${payment.id}::uuid AND xmin = ${row!.version}::xid`;
        if (updated === 0) throw new RowChanged();
        return 'applied' as const;
      });
    } catch (err) {
      if (!(err instanceof RowChanged)) throw err;
    }
  }
  throw new ProviderReportContended(`payment ${payment.id} was written by ${ATTEMPTS} other reports meanwhile`);
}
