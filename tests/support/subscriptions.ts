// Shared setup for subscription tests: renewals of seconds (a month of SECONDS_PER_MONTH,
// a notice NOTICE_SECONDS ahead, dunning retries and the hold in seconds), a shop with stock
// and a balance whose webhooks a real receiver records, all through the public API.
import { randomUUID } from 'node:crypto';
import { PRICE, shopWithStock } from './orders';
import { type StackOptions, startStack, type TestStack } from './stack';
import { waitFor } from './wait';
import { startWebhookReceiver, type ReceivedWebhook } from './webhook-receiver';
import { RENEWALS_SECONDS_APART_POLICY } from '../../scripts/lib/renewal-risk-policy';

export const SECONDS_PER_MONTH = 5;
export const NOTICE_SECONDS = 2;

/** The config of a stack whose subscriptions renew in seconds; `overrides` change any of it. */
export function subscriptionConfig(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    SUBSCRIPTION_SECONDS_PER_MONTH: String(SECONDS_PER_MONTH),
    SUBSCRIPTION_NOTICE_SECONDS: String(NOTICE_SECONDS),
    SUBSCRIPTION_RETRY_OFFSETS_SECONDS: '1,2',
    SUBSCRIPTION_HOLD_SECONDS: '3',
    ...overrides,
  };
}

export type Receiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

/**
 * Call at a suite's top level: a stack whose subscriptions renew in seconds (`overrides`, read
 * when the suite starts, over subscriptionConfig) and a webhook receiver, up before the
 * suite's tests and down after them.
 */
export function subscriptionSuite(
  overrides: () => Record<string, string> = () => ({}),
  options: Omit<StackOptions, 'config'> = {},
) {
  let stack: TestStack | undefined;
  let receiver: Receiver | undefined;
  beforeAll(async () => {
    [stack, receiver] = await Promise.all([
      startStack({ ...options, config: subscriptionConfig(overrides()) }),
      startWebhookReceiver(),
    ]);
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });
  const started = <T>(part: T | undefined): T => {
    if (part === undefined) throw new Error('the subscription suite starts in beforeAll');
    return part;
  };
  return {
    get stack() {
      return started(stack);
    },
    get receiver() {
      return started(receiver);
    },
  };
}

/**
 * A product with `stock` keys and a shop with `topUp` on its balance whose webhooks go to
 * `receiver`. The SKU's risk policy lets one buyer order every few seconds: renewals place an
 * order a period, which at seconds-long periods would trip the default velocity limits
 * (tests/risk covers those).
 */
export async function subscriptionShop(
  stack: TestStack,
  receiver: Receiver,
  options: { stock: number; topUp: number; price?: number },
) {
  const shop = await shopWithStock(stack, { stock: options.stock, topUp: options.topUp, webhookUrl: receiver.url });
  const policy = await shop.admin.patch(`/v1/risk/policies/${shop.sku}`, RENEWALS_SECONDS_APART_POLICY);
  if (policy.status !== 200) throw new Error(`risk policy: ${policy.status} ${policy.text}`);
  return { ...shop, price: options.price ?? PRICE };
}

export function subscriptionBody(sku: string, extra: Record<string, unknown> = {}) {
  const buyer = randomUUID().slice(0, 8);
  return {
    externalSubscriptionId: `sub-${randomUUID()}`,
    buyer: { id: `buyer-${buyer}`, ip: '203.0.113.9', deviceId: `dev-${buyer}` },
    sku,
    period: 'month',
    ...extra,
  };
}

type Api = Awaited<ReturnType<typeof subscriptionShop>>['api'];

/** Polls GET /v1/subscriptions/:id until `until` holds; returns the last answer. */
export async function waitForSubscription(
  api: Api,
  id: string,
  until: (s: any) => boolean,
  what: string,
  timeoutMs = 60_000,
) {
  let last: any;
  await waitFor(
    async () => {
      last = (await api.get(`/v1/subscriptions/${id}`)).body;
      return until(last);
    },
    `subscription ${id}: ${what} (last: ${JSON.stringify(last?.status)} period ${last?.currentPeriod})`,
    timeoutMs,
  );
  return last;
}

/** The subscription webhooks the receiver got for one subscription, by type. */
export function subscriptionEvents(received: ReceivedWebhook[], subscriptionId: string, type?: string) {
  return received
    .map((w) => w.body)
    .filter((b) => b.type?.startsWith('subscription.') && b.data?.subscriptionId === subscriptionId)
    .filter((b) => type === undefined || b.type === `subscription.${type}`);
}
