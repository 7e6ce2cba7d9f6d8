// Refunding delivered units (support's decision): the database records the refund at once
// (units refunded, keys void, the prepaid balance credited, or the provider's refunds queued
// under one key per unit), then the provider is asked, until it has answered every one.
import { CancellationScope, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { PaymentActivities, RefundResult } from '../activities/payments';
import type { WebhookActivities } from '../activities/webhooks';
import { orderEventId } from '../domain/ledger-keys';

const local = proxyLocalActivities<PaymentActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '30s' },
});
const provider = proxyActivities<PaymentActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});
const webhooks = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 10 },
});

export interface RefundInput {
  orderId: string;
  /** Omitted: every delivered unit. */
  unitIds?: string[];
  reason: string;
  /** An admin's: refund units whose keys were redeemed too. */
  override?: boolean;
  actor: { clientId: string | null; name: string };
}

export interface RefundOutcome extends RefundResult {
  /** Refunds the provider refused for good (their operations keep the reason). */
  providerFailures: number;
}

export async function refundWorkflow(input: RefundInput): Promise<RefundOutcome> {
  return CancellationScope.nonCancellable(async () => {
    const result = await local.refundUnits(input);
    const providerFailures = result.viaProvider ? await provider.sendProviderRefunds(input.orderId) : 0;
    if (result.orderStatus === 'refunded' && result.refunded.length > 0) {
      try {
        await webhooks.notifyOrderStatus({
          orderId: input.orderId,
          status: 'refunded',
          eventId: orderEventId(input.orderId, 'refunded'),
        });
      } catch {
        // The order's status is readable by polling; the webhook gave up after its retries.
      }
    }
    return { ...result, providerFailures };
  });
}
