// The subscription period an order was placed for, for the order's timeline. A period's row
// names its latest attempt's order only (dunning places one order per attempt and the row
// moves on), so an earlier attempt is found through the subscription's own history instead:
// its external id names the subscription (`periodNamedBy`, domain/subscriptions/status.ts),
// and the renewal event recorded for that charge names the order. The name alone proves nothing (an order
// system may call any order `subscription:…`); only the recorded event links it.
import type { SubscriptionPeriodUnit, SubscriptionStatus } from '@prisma/client';
import { periodNamedBy } from '../../domain/subscriptions/status';
import type { DbTx } from '../../infra/db';

export interface OrderPeriod {
  subscription: {
    id: string;
    externalSubscriptionId: string;
    status: SubscriptionStatus;
    /** The plan in effect now. */
    sku: string;
    period: SubscriptionPeriodUnit;
  };
  number: number;
  startsAt: Date;
}

const fields = {
  number: true,
  startsAt: true,
  subscription: {
    select: {
      id: true,
      clientId: true,
      externalSubscriptionId: true,
      status: true,
      period: true,
      product: { select: { sku: true } },
    },
  },
} as const;

/** The period `order` paid for (or tried to), or null when it is no subscription's. */
export async function periodOfOrder(
  db: DbTx,
  order: { id: string; clientId: string; externalOrderId: string },
): Promise<OrderPeriod | null> {
  let row = await db.subscriptionPeriod.findFirst({ where: { orderId: order.id }, select: fields });
  const named = periodNamedBy(order.externalOrderId);
  if (!row && named) {
    const { subscriptionId, period: number } = named;
    const charged = await db.subscriptionEvent.findFirst({
      where: { subscriptionId, periodNumber: number, detail: { path: ['orderId'], equals: order.id } },
      select: { id: true },
    });
    if (charged) {
      row = await db.subscriptionPeriod.findUnique({
        where: { subscriptionId_number: { subscriptionId, number } },
        select: fields,
      });
    }
  }
  // A subscription's orders are placed under its own client.
  if (!row || row.subscription.clientId !== order.clientId) return null;
  const { subscription: s } = row;
  return {
    subscription: {
      id: s.id,
      externalSubscriptionId: s.externalSubscriptionId,
      status: s.status,
      sku: s.product.sku,
      period: s.period,
    },
    number: row.number,
    startsAt: row.startsAt,
  };
}
