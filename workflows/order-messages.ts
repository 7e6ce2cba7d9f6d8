// The order workflow's input and queries, shared with the API (which must not import the
// workflow module itself).
import { defineQuery } from '@temporalio/workflow';
import type { OrderStatus } from '../domain/order-status';

export interface OrderInput {
  orderId: string;
}

export interface OrderProgress {
  status: OrderStatus;
  step: 'recording' | 'charging' | 'reserving' | 'delivering' | 'notifying' | 'compensating' | 'done';
  unitsTotal: number;
  unitsReserved: number;
  reason?: string;
}

export const statusQuery = defineQuery<OrderProgress>('status');
