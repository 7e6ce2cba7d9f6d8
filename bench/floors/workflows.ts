// Temporal's own floor, measured beside the orders: the cheapest useful workflow (F1, one
// no-op activity) and one making the same calls, of the same kinds and in the same order,
// as one own-inventory order (F-same, its shape read from a real order's history).
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

interface FloorActivities {
  noop(): Promise<void>;
}

const regular = proxyActivities<FloorActivities>({ startToCloseTimeout: '10s' });
const local = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '10s' });

export type Step = 'local' | 'regular';

export async function f1(): Promise<void> {
  await regular.noop();
}

export async function fSame(steps: Step[]): Promise<void> {
  for (const step of steps) await (step === 'local' ? local : regular).noop();
}
