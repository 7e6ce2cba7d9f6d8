// A period's order, placed through order intake as any order system's order would be: risk
// control, payment, stock and suppliers, fallback and compensation all apply unchanged. Its
// external id is derived from (subscription, period, attempt) (domain/subscriptions/status.ts),
// so placing it again — a retried step, a restarted worker — finds the order placed before.
import type { Geo } from '../../domain/risk/facts';
import { subscriptionKeys } from '../../domain/subscriptions/status';
import type { Db } from '../../infra/db';
import { createOrder, InvalidAccount, MixedCurrencies, UnknownSkus } from '../orders/intake';

export interface PeriodOrderInput {
  subscriptionId: string;
  period: { number: number; startsAt: string; endsAt: string };
  attempt: number;
  productId: string;
  sku: string;
}

/** The order placed (new or found), or why intake refused it (an inactive SKU, an account the product no longer takes). */
export type PeriodOrder = { orderId: string; workflowId: string } | { refused: string };

export async function placePeriodOrder(db: Db, input: PeriodOrderInput): Promise<PeriodOrder> {
  const subscription = await db.subscription.findUniqueOrThrow({ where: { id: input.subscriptionId } });
  const externalOrderId = subscriptionKeys.periodOrder(subscription.id, input.period.number, input.attempt);
  // Found first by id alone: the subscription's payment may have changed since the order was
  // placed (a resume with a new card), which would make the same request hash differently.
  let order = await db.order.findUnique({
    where: { clientId_externalOrderId: { clientId: subscription.clientId, externalOrderId } },
    select: { id: true, workflowId: true, amountMinor: true, currency: true },
  });
  if (!order) {
    try {
      const created = await createOrder(
        db,
        subscription.clientId,
        {
          externalOrderId,
          buyer: {
            id: subscription.buyerId,
            ip: subscription.buyerIp,
            ...(subscription.buyerDeviceId ? { deviceId: subscription.buyerDeviceId } : {}),
          },
          items: [{ sku: input.sku, quantity: 1, ...(subscription.account ? { account: subscription.account } : {}) }],
          ...(subscription.callbackUrl ? { callbackUrl: subscription.callbackUrl } : {}),
          ...(subscription.paymentMethod === 'stripe' && subscription.paymentMethodRef
            ? { payment: { method: 'stripe' as const, paymentMethodId: subscription.paymentMethodRef } }
            : {}),
        },
        { buyerGeo: (subscription.buyerGeo as Geo | null) ?? null },
      );
      order = await db.order.findUniqueOrThrow({
        where: { id: created.order.id },
        select: { id: true, workflowId: true, amountMinor: true, currency: true },
      });
    } catch (err) {
      if (err instanceof UnknownSkus || err instanceof InvalidAccount || err instanceof MixedCurrencies) {
        return { refused: err.message };
      }
      throw err;
    }
  }
  await db.subscriptionPeriod.upsert({
    where: { subscriptionId_number: { subscriptionId: subscription.id, number: input.period.number } },
    create: {
      subscriptionId: subscription.id,
      number: input.period.number,
      startsAt: new Date(input.period.startsAt),
      endsAt: new Date(input.period.endsAt),
      productId: input.productId,
      amountMinor: order.amountMinor,
      currency: order.currency,
      orderId: order.id,
      attempts: input.attempt,
      outcome: 'pending',
    },
    update: {
      productId: input.productId,
      amountMinor: order.amountMinor,
      currency: order.currency,
      orderId: order.id,
      attempts: input.attempt,
      outcome: 'pending',
    },
  });
  return { orderId: order.id, workflowId: order.workflowId };
}

/** An order's status, for a renewal that lost its child (the order was started by the sweep first). */
export async function periodOrderStatus(db: Db, orderId: string) {
  const order = await db.order.findUniqueOrThrow({ where: { id: orderId }, select: { status: true } });
  return order.status;
}
