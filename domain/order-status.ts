// The order lifecycle. Terminal statuses end the workflow; `delivered` may still become
// `refunded` through compensation.
import type { OrderStatus } from '@prisma/client';

export type { OrderStatus };

const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  received: ['fulfilling', 'failed', 'rejected', 'in_review'],
  // An approved review sends the order back to `received`, from where it is charged.
  in_review: ['received', 'rejected', 'failed'],
  fulfilling: ['delivered', 'partially_delivered', 'failed', 'refunded'],
  delivered: ['refunded'],
  partially_delivered: ['refunded'],
  failed: [],
  refunded: [],
  rejected: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].includes(to);
}

/** Statuses an order may be in to move to `to`. */
export function sourcesOf(to: OrderStatus): OrderStatus[] {
  return (Object.keys(NEXT) as OrderStatus[]).filter((from) => NEXT[from].includes(to));
}

export const TERMINAL_STATUSES: readonly OrderStatus[] = [
  'delivered',
  'partially_delivered',
  'failed',
  'refunded',
  'rejected',
];
