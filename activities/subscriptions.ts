// Renewal steps: thin wrappers over store/subscriptions. The database steps run as local
// activities (short transactions, idempotent on the workflow's event number or the period's
// order id); the webhook is a regular activity, retried with backoff, whose body is built
// from what the database recorded (the cancel link included: its token never enters history).
import type { SubscriptionEventRecord } from '../domain/subscriptions/events';
import { subscriptionKeys } from '../domain/subscriptions/status';
import { webhookSecretOf } from '../store/clients';
import { cancelUrlFor } from '../store/subscriptions/cancel-links';
import { recordSubscriptionEvent } from '../store/subscriptions/events';
import { type PeriodOrderInput, periodOrderStatus, placePeriodOrder } from '../store/subscriptions/period-orders';
import { applyPriceChange, subscriptionsOnProduct } from '../store/subscriptions/price-changes';
import type { ActivityDeps } from './deps';
import { signedEventPoster } from './webhooks';

export function subscriptionActivities(deps: ActivityDeps) {
  const { db, keyring, config, logger } = deps;
  const postEvent = signedEventPoster(deps);
  return {
    async recordSubscriptionEvent(event: SubscriptionEventRecord): Promise<void> {
      const recorded = await recordSubscriptionEvent(db, event);
      if (recorded) {
        logger.info(
          { subscriptionId: event.subscriptionId, seq: event.seq, type: event.type, status: event.snapshot.status },
          'subscription event',
        );
      }
    },

    /** Places the period's order (or finds the one placed before) and links it to the period. */
    placePeriodOrder(input: PeriodOrderInput) {
      return placePeriodOrder(db, input);
    },

    periodOrderStatus(orderId: string) {
      return periodOrderStatus(db, orderId);
    },

    /** A page of the open subscriptions a price change of the product concerns (ids and workflow ids). */
    subscriptionsToTell(productId: string, after: string | null, limit: number) {
      return subscriptionsOnProduct(db, productId, after, limit);
    },

    async applyPriceChange(changeId: string): Promise<void> {
      if (await applyPriceChange(db, changeId)) logger.info({ changeId }, 'product price changed');
    },

    /**
     * `subscription.<type>` to the subscription's callbackUrl or its client's webhookUrl, under
     * the event's id. A renewal notice carries the charge's time and amount and the buyer's
     * cancel link. False when nobody listens.
     */
    async notifySubscription({ subscriptionId, seq }: { subscriptionId: string; seq: number }) {
      const event = await db.subscriptionEvent.findUniqueOrThrow({
        where: { subscriptionId_seq: { subscriptionId, seq } },
        include: { subscription: { include: { client: true } } },
      });
      const subscription = event.subscription;
      const url = subscription.callbackUrl ?? subscription.client.webhookUrl;
      const secret = webhookSecretOf(keyring, subscription.client);
      if (!url || !secret) return { sent: false };
      const { actorClientId: _actor, ...detail } = event.detail as Record<string, unknown>;
      // Notices carry the buyer's way out.
      const notice = event.type === 'renewal_upcoming' || event.type === 'price_changing';
      const result = await postEvent(url, secret, {
        id: subscriptionKeys.event(subscriptionId, seq),
        type: `subscription.${event.type}`,
        data: {
          subscriptionId,
          externalSubscriptionId: subscription.externalSubscriptionId,
          seq,
          status: event.status,
          ...(event.periodNumber !== null ? { period: event.periodNumber } : {}),
          ...detail,
          ...(notice
            ? { cancelUrl: cancelUrlFor(config.PUBLIC_BASE_URL, config.CLAIM_TOKEN_SECRET, subscription) }
            : {}),
        },
      });
      return { sent: result.sent };
    },
  };
}

export type SubscriptionActivities = ReturnType<typeof subscriptionActivities>;
