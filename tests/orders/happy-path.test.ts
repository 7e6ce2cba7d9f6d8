// Acceptance 1 (happy path over HTTP) and 5 (secrecy): client, top-up, keys, an order of two
// units delivered through the workflow, claimed once, with a signed webhook; no plaintext in
// workflow history, logs, webhooks or listings.
import { verifyWebhook } from '../../infra/webhook-signature';
import { statusQuery } from '../../workflows/order-messages';
import { clientFor, expectProblem } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';
import { startWebhookReceiver } from '../support/webhook-receiver';

const logLines: string[] = [];
let stack: TestStack;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
beforeAll(async () => {
  stack = await startStack({ logDestination: { write: (line) => logLines.push(line) } });
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await stack.close();
  await receiver.close();
});

test('an order of two units is delivered, claimed once, and announced by a signed webhook', async () => {
  const { sku, codes, shop, api, admin } = await shopWithStock(stack, {
    stock: 5,
    topUp: 10 * PRICE,
    webhookUrl: receiver.url,
  });
  const body = orderBody(sku, 2);
  const accepted = await api.post('/v1/orders', body);
  expect(accepted.status).toBe(202);
  expect(accepted.body).toEqual({ id: expect.any(String), externalOrderId: body.externalOrderId, status: 'received' });

  const order = await waitForTerminal(api, accepted.body.id);
  expect(order).toMatchObject({
    id: accepted.body.id,
    externalOrderId: body.externalOrderId,
    status: 'delivered',
    amount: { minor: 2 * PRICE, currency: 'CNY' },
    items: [{ sku, quantity: 2, units: [{ status: 'delivered' }, { status: 'delivered' }] }],
  });
  expect(order.history.map((h: { status: string }) => h.status)).toEqual(['received', 'fulfilling', 'delivered']);
  expect(order.claimUrl).toMatch(new RegExp(`^${stack.url}/v1/claims/[0-9a-f]{64}$`));

  // The workflow's live status query agrees.
  const handle = stack.deps.temporal.workflow.getHandle(`order:${shop.id}:${body.externalOrderId}`);
  await expect(handle.query(statusQuery)).resolves.toMatchObject({
    status: 'delivered',
    unitsTotal: 2,
    unitsReserved: 2,
  });

  // Lookup by externalOrderId returns the same order.
  expect((await api.get(`/v1/orders?externalOrderId=${body.externalOrderId}`)).body.id).toBe(order.id);

  // Authorized once, captured once on delivery: nothing left held.
  const balance = await api.get('/v1/balance');
  expect(balance.body.available).toEqual({ minor: 8 * PRICE, currency: 'CNY' });
  expect(balance.body.held).toEqual({ minor: 0, currency: 'CNY' });
  expect(balance.body.entries.map((e: { kind: string; account: string }) => `${e.kind}/${e.account}`)).toEqual([
    'capture/held',
    'hold/held',
    'hold/available',
    'topup/available',
  ]);

  // Claim once: the codes are two of the imported ones; then 410.
  const claimPath = order.claimUrl.slice(stack.url.length);
  const claim = await clientFor(stack.url).get(claimPath);
  expect(claim.status).toBe(200);
  expect(claim.body.orderId).toBe(order.id);
  expect(claim.body.items).toHaveLength(1);
  const [claimed] = claim.body.items;
  expect(claimed.sku).toBe(sku);
  expect(claimed.codes).toHaveLength(2);
  expect(new Set(claimed.codes).size).toBe(2);
  for (const code of claimed.codes) expect(codes).toContain(code);
  expectProblem(await clientFor(stack.url).get(claimPath), 410, 'claim_used');
  const reveal = await stack.db.auditLog.findFirst({ where: { action: 'claim.revealed', subjectId: order.id } });
  expect(reveal?.details).toMatchObject({ ip: expect.any(String) });

  // Webhook: received once, signed with the client's secret over the raw body.
  await waitFor(() => receiver.received.some((w) => w.body.data?.orderId === order.id), 'the webhook');
  const hook = receiver.received.find((w) => w.body.data?.orderId === order.id)!;
  expect(hook.body).toMatchObject({
    type: 'order.delivered',
    data: { orderId: order.id, externalOrderId: body.externalOrderId, status: 'delivered' },
  });
  const signature = String(hook.headers['x-signature']);
  expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  expect(verifyWebhook(shop.webhookSecret, hook.raw, signature, Math.floor(Date.now() / 1000))).toBe(true);
  expect(verifyWebhook('whsec_wrong', hook.raw, signature, Math.floor(Date.now() / 1000))).toBe(false);

  // Secrecy: no imported plaintext in workflow history, logs, webhooks or listings.
  const history = JSON.stringify(await handle.fetchHistory());
  const listings = JSON.stringify([
    await api.get(`/v1/orders/${order.id}`),
    await admin.get('/v1/inventory'),
    await admin.get('/v1/products'),
    await api.get('/v1/balance'),
  ]);
  const webhooks = JSON.stringify(receiver.received);
  const logs = logLines.join('\n');
  expect(logs).toContain(order.id); // the capture is live, so absence below means something
  for (const code of codes) {
    expect(history).not.toContain(code);
    expect(listings).not.toContain(code);
    expect(webhooks).not.toContain(code);
    expect(logs).not.toContain(code);
  }
  // The claim token is a secret too: it is not logged.
  expect(logs).not.toContain(claimPath.split('/').pop());
});
