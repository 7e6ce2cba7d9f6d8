// Recording the renewal workflow's events. Each is one transaction: the history row (unique
// on the workflow's number, so a retried or replayed write finds it and changes nothing), the
// subscription's current state as the workflow sees it (applied only if newer than what the
// row holds, so two writes racing cannot leave an older state standing), the period's row,
// and for a staff member's action an audit entry.
import type { Prisma } from '@prisma/client';
import type { SubscriptionEventRecord } from '../../domain/subscriptions/events';
import type { Db } from '../../infra/db';
import { recordAuditInTx } from '../audit';
import { priceAt } from './price-changes';

/** Records one event; returns false when it was recorded already (a retry). */
export async function recordSubscriptionEvent(db: Db, event: SubscriptionEventRecord): Promise<boolean> {
  const { subscriptionId, seq, snapshot, period } = event;
  return db.$transaction(async (tx) => {
    const detail: Record<string, unknown> = { ...event.detail };
    if (event.actor.clientId) detail.actorClientId = event.actor.clientId;
    // A notice announces the price the period will be charged: the product's at the charge's
    // time, an announced price change included.
    let amount: { minor: number; currency: string } | undefined;
    if (period?.notice) {
      const chargeAt = typeof event.detail.chargeAt === 'string' ? new Date(event.detail.chargeAt) : new Date();
      amount = await priceAt(tx, period.productId, chargeAt);
      detail.amount = amount;
    }
    const { count } = await tx.subscriptionEvent.createMany({
      data: [
        {
          subscriptionId,
          seq,
          type: event.type,
          status: snapshot.status,
          periodNumber: period?.bounds.number ?? null,
          actor: event.actor.name,
          detail: detail as Prisma.InputJsonObject,
        },
      ],
      skipDuplicates: true,
    });
    if (count === 0) return false;

    const payment = snapshot.payment;
    await tx.subscription.updateMany({
      where: { id: subscriptionId, lastSeq: { lt: seq } },
      data: {
        lastSeq: seq,
        status: snapshot.status,
        statusReason: snapshot.statusReason,
        currentPeriod: snapshot.currentPeriod,
        nextChargeAt: snapshot.nextChargeAt === null ? null : new Date(snapshot.nextChargeAt),
        productId: snapshot.plan.productId,
        period: snapshot.plan.period,
        pendingProductId: snapshot.pending?.plan.productId ?? null,
        pendingPeriod: snapshot.pending?.plan.period ?? null,
        pendingFromPeriod: snapshot.pending?.fromPeriod ?? null,
        ...(payment
          ? {
              paymentMethod: payment.method,
              paymentMethodRef: payment.method === 'stripe' ? payment.paymentMethodId : null,
            }
          : {}),
      },
    });

    if (period) {
      const now = new Date();
      const changes = {
        ...(amount ? { amountMinor: BigInt(amount.minor), currency: amount.currency } : {}),
        ...(period.notice ? { noticeSentAt: now } : {}),
        ...(period.outcome ? { outcome: period.outcome } : {}),
        ...(period.outcome === 'paid' ? { paidAt: now } : {}),
        ...(period.orderId ? { orderId: period.orderId } : {}),
      };
      await tx.subscriptionPeriod.upsert({
        where: { subscriptionId_number: { subscriptionId, number: period.bounds.number } },
        create: {
          subscriptionId,
          number: period.bounds.number,
          startsAt: new Date(period.bounds.startsAt),
          endsAt: new Date(period.bounds.endsAt),
          productId: period.productId,
          ...changes,
        },
        update: changes,
      });
    }

    if (event.actor.staff) {
      await recordAuditInTx(tx, {
        actorClientId: event.actor.clientId,
        actor: event.actor.name,
        action: `subscription.${event.type}`,
        subjectType: 'subscription',
        subjectId: subscriptionId,
        ...(typeof event.detail.reason === 'string' ? { reason: event.detail.reason } : {}),
        details: { seq },
      });
    }
    return true;
  });
}
