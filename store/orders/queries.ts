// Reading orders: the detail the API shows, and orders that have stopped moving.
import type { Prisma as P } from '@prisma/client';
import type { DbTx } from '../../infra/db';
import { money } from '../../domain/money';
import { type OrderStatus, TERMINAL_STATUSES } from '../../domain/order-status';
import { HIDDEN_OUTCOMES } from '../../domain/suppliers';
import { compensationFields, compensationView } from '../compensation-queries';

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

type UnitDetail = OrderDetail['items'][number]['units'][number];

/** A unit as the API shows it; what the platform paid a supplier only to staff (`withCosts`). */
function unitView(unit: UnitDetail, withCosts: boolean) {
  return {
    id: unit.id,
    status: unit.status,
    ...(unit.source
      ? { source: unit.supplier ? { kind: unit.source, supplier: unit.supplier.name } : { kind: unit.source } }
      : {}),
    ...(unit.supplierRef ? { supplierTransactionId: unit.supplierRef } : {}),
    ...(unit.reason ? { reason: unit.reason } : {}),
    ...(unit.replacesUnitId ? { replacesUnitId: unit.replacesUnitId } : {}),
    ...(unit.attempts.length > 0
      ? {
          attempts: unit.attempts.map((a) => ({
            supplier: a.supplier?.name ?? a.source,
            outcome: a.outcome,
            ...(a.detail ? { detail: a.detail } : {}),
            ...(a.latencyMs !== null ? { latencyMs: a.latencyMs } : {}),
            ...(withCosts && a.costMinor !== null ? { costMinor: a.costMinor } : {}),
            at: a.at.toISOString(),
          })),
        }
      : {}),
    // Staff (the same callers who see costs) also see who asked for each compensation.
    ...(unit.compensations.length > 0
      ? { compensations: unit.compensations.map((c) => compensationView(c, withCosts)) }
      : {}),
  };
}

export function orderView(order: OrderDetail, claimUrl?: string, withCosts = false) {
  return {
    id: order.id,
    externalOrderId: order.externalOrderId,
    status: order.status,
    amount: money(order.amountMinor, order.currency),
    ...(order.allowPartial ? { allowPartial: true } : {}),
    items: order.items.map((item) => ({
      sku: item.sku,
      quantity: item.quantity,
      ...(item.account ? { account: item.account } : {}),
      units: item.units.map((u) => unitView(u, withCosts)),
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
