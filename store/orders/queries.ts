// Reading orders: the detail the API shows, and orders that have stopped moving.
import type { Prisma as P } from '@prisma/client';
import type { DbTx } from '../../infra/db';
import { money } from '../../domain/money';
import { TERMINAL_STATUSES } from '../../domain/order-status';

const orderDetail = {
  items: {
    orderBy: { position: 'asc' },
    include: { units: { orderBy: { createdAt: 'asc' }, select: { id: true, status: true } } },
  },
  history: { orderBy: { id: 'asc' } },
} satisfies P.OrderInclude;

export type OrderDetail = P.OrderGetPayload<{ include: typeof orderDetail }>;

export function findOrderDetail(db: DbTx, where: P.OrderWhereInput): Promise<OrderDetail[]> {
  return db.order.findMany({ where, include: orderDetail, take: 2 });
}

export function orderView(order: OrderDetail, claimUrl?: string) {
  return {
    id: order.id,
    externalOrderId: order.externalOrderId,
    status: order.status,
    amount: money(order.amountMinor, order.currency),
    items: order.items.map((item) => ({
      sku: item.sku,
      quantity: item.quantity,
      units: item.units.map((u) => ({ id: u.id, status: u.status })),
    })),
    ...(claimUrl ? { claimUrl } : {}),
    history: order.history.map((h) => ({
      status: h.status,
      at: h.at.toISOString(),
      ...(h.reason ? { reason: h.reason } : {}),
    })),
    createdAt: order.createdAt.toISOString(),
  };
}

/** Orders in a non-terminal status that has not changed since `before`, oldest first. */
export function findStuckOrders(db: DbTx, before: Date, limit: number) {
  return db.order.findMany({
    where: { status: { notIn: [...TERMINAL_STATUSES] }, updatedAt: { lt: before } },
    orderBy: { updatedAt: 'asc' },
    take: limit,
    select: { id: true, clientId: true, externalOrderId: true, status: true, updatedAt: true, workflowId: true },
  });
}
