// Reading orders: the detail the API shows (shaped by api/views/orders.ts), and orders that have stopped moving.
import type { Prisma as P } from '@prisma/client';
import type { DbTx } from '../../infra/db';
import { type OrderStatus, TERMINAL_STATUSES } from '../../domain/order-status';
import { HIDDEN_OUTCOMES } from '../../domain/suppliers';
import { compensationFields } from '../compensation-queries';

const orderDetail = {
  items: {
    orderBy: { position: 'asc' },
    include: {
      units: {
        orderBy: { createdAt: 'asc' },
        select: {
          id: true,
          status: true,
          source: true,
          supplierRef: true,
          reason: true,
          replacesUnitId: true,
          supplier: { select: { name: true } },
          compensations: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], select: compensationFields },
          attempts: {
            where: { outcome: { notIn: [...HIDDEN_OUTCOMES] } },
            orderBy: { id: 'asc' },
            include: { supplier: { select: { name: true } } },
          },
        },
      },
    },
  },
  history: { orderBy: { id: 'asc' } },
} satisfies P.OrderInclude;

export type OrderDetail = P.OrderGetPayload<{ include: typeof orderDetail }>;

export function findOrderDetail(db: DbTx, where: P.OrderWhereInput): Promise<OrderDetail[]> {
  return db.order.findMany({ where, include: orderDetail, take: 2 });
}

/**
 * Orders in a non-terminal status that has not changed since `before`, oldest first;
 * `only` narrows them to one status or one client.
 */
export function findStuckOrders(
  db: DbTx,
  before: Date,
  limit: number,
  only: { status?: OrderStatus; clientId?: string } = {},
) {
  return db.order.findMany({
    where: {
      status: only.status ?? { notIn: [...TERMINAL_STATUSES] },
      updatedAt: { lt: before },
      ...(only.clientId ? { clientId: only.clientId } : {}),
    },
    orderBy: { updatedAt: 'asc' },
    take: limit,
    select: { id: true, clientId: true, externalOrderId: true, status: true, updatedAt: true, workflowId: true },
  });
}
