// Signed webhooks to the order system. A non-2xx answer or a timeout throws, so Temporal
// retries with backoff; the event id lets receivers drop the duplicates retries can cause.
import type { OrderStatus } from '../domain/order-status';
import { signWebhook } from '../infra/webhook-signature';
import { webhookSecretOf } from '../store/clients';
import type { ActivityDeps } from './deps';

export function webhookActivities({ db, keyring, config }: ActivityDeps) {
  return {
    /**
     * Announces the status the workflow decided, under the event id it chose: a retry sends
     * the same event even if a later step (a compensation) has moved the order since.
     */
    async notifyOrderStatus({
      orderId,
      status,
      eventId,
    }: {
      orderId: string;
      status: OrderStatus;
      eventId: string;
    }): Promise<{ sent: boolean; status?: number }> {
      const order = await db.order.findUniqueOrThrow({ where: { id: orderId }, include: { client: true } });
      const url = order.callbackUrl ?? order.client.webhookUrl;
      const secret = webhookSecretOf(keyring, order.client);
      if (!url || !secret) return { sent: false };
      const body = JSON.stringify({
        id: eventId,
        type: `order.${status}`,
        createdAt: new Date().toISOString(),
        data: { orderId: order.id, externalOrderId: order.externalOrderId, status },
      });
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'rights-platform-webhooks/1',
          'x-signature': signWebhook(secret, body, Math.floor(Date.now() / 1000)),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(config.WEBHOOK_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`webhook answered ${res.status}`);
      return { sent: true, status: res.status };
    },
  };
}

export type WebhookActivities = ReturnType<typeof webhookActivities>;
