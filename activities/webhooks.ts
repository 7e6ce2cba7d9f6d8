// Signed webhooks to the order system. A non-2xx answer or a timeout throws, so Temporal
// retries with backoff; the event id lets receivers drop the duplicates retries can cause.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../domain/failures';
import type { OrderStatus } from '../domain/order-status';
import { OutboundAddressRefused, parseAllowList, postOutbound } from '../infra/outbound-url';
import { signWebhook } from '../infra/webhook-signature';
import { webhookSecretOf } from '../store/clients';
import type { ActivityDeps } from './deps';

/**
 * Posts one signed event (`{id, type, createdAt, data}`) to `url` under `secret`. A non-2xx
 * answer or a timeout throws, to be retried; an address the guard refuses fails for good.
 * Orders' and subscriptions' webhooks (activities/subscriptions.ts) all go through here.
 */
export function signedEventPoster({ config, logger }: Pick<ActivityDeps, 'config' | 'logger'>) {
  const outboundAllowList = parseAllowList(config.OUTBOUND_URL_ALLOWLIST);
  return async function postEvent(
    url: string,
    secret: string,
    event: { id: string; type: string; data: object },
  ): Promise<{ sent: true; status: number }> {
    const body = JSON.stringify({
      id: event.id,
      type: event.type,
      createdAt: new Date().toISOString(),
      data: event.data,
    });
    let answered: number;
    try {
      answered = await postOutbound(
        url,
        body,
        {
          'content-type': 'application/json',
          'user-agent': 'rights-platform-webhooks/1',
          'x-signature': signWebhook(secret, body, Math.floor(Date.now() / 1000)),
        },
        { allow: outboundAllowList, timeoutMs: config.WEBHOOK_TIMEOUT_MS },
      );
    } catch (err) {
      if (!(err instanceof OutboundAddressRefused)) throw err;
      // Asking again will not make the address public: stop, and say why.
      logger.warn({ eventId: event.id, error: err.message }, 'webhook address refused');
      throw ApplicationFailure.create({
        message: err.message,
        type: FailureType.WebhookUrlRefused,
        nonRetryable: true,
      });
    }
    if (answered < 200 || answered >= 300) throw new Error(`webhook answered ${answered}`);
    return { sent: true, status: answered };
  };
}

export function webhookActivities(deps: ActivityDeps) {
  const { db, keyring } = deps;
  const postEvent = signedEventPoster(deps);
  /** Posts one signed event to the order's callbackUrl or its client's webhookUrl; false when nobody listens. */
  async function sendEvent(
    orderId: string,
    event: { id: string; type: string; data: (order: { id: string; externalOrderId: string }) => object },
  ): Promise<{ sent: boolean; status?: number }> {
    const order = await db.order.findUniqueOrThrow({ where: { id: orderId }, include: { client: true } });
    const url = order.callbackUrl ?? order.client.webhookUrl;
    const secret = webhookSecretOf(keyring, order.client);
    if (!url || !secret) return { sent: false };
    return postEvent(url, secret, { id: event.id, type: event.type, data: event.data(order) });
  }

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
      return sendEvent(orderId, {
        id: eventId,
        type: `order.${status}`,
        data: (order) => ({ orderId: order.id, externalOrderId: order.externalOrderId, status }),
      });
    },

    /** `order.compensated`: what became of a bad unit (ids and the outcome; the new key only through its claim link). */
    async notifyCompensation({ compensationId }: { compensationId: string }): Promise<{ sent: boolean }> {
      const c = await db.compensation.findUniqueOrThrow({ where: { id: compensationId } });
      return sendEvent(c.orderId, {
        id: `evt_${c.id}_compensated`,
        type: 'order.compensated',
        data: (order) => ({
          orderId: order.id,
          externalOrderId: order.externalOrderId,
          compensationId: c.id,
          unitId: c.unitId,
          action: c.action,
          outcome: c.outcome,
          newUnitId: c.newUnitId,
        }),
      });
    },
  };
}

export type WebhookActivities = ReturnType<typeof webhookActivities>;
