// The operator console in a real browser (Chromium, headless, playwright-core) against a real
// stack — API serving the console, worker, Temporal, PostgreSQL: an analyst works the queue
// from the keyboard while a second analyst sees the claim; support finds an order by buyer and
// by a code read out over the phone, reads its timeline and reissues a unit; a support key
// cannot open the queue or operations; an admin imports keys from a file and sees the stock
// change; an admin reads a product's sales and margin and a subscription's renewal due in the
// reports, support sees which subscription period an order paid for, and a review shows both
// addresses on a map. Every page at both sizes is photographed (tests/console/screenshots,
// git-ignored), checked with axe-core (no serious or critical violation) and must log no
// browser errors.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { createClientViaApi } from '../support/clients';
import { clientFor } from '../support/http';
import {
  type ConsoleTab,
  DESKTOP,
  PHONE,
  launchChromium,
  openConsole,
  screenshot,
  seriousViolations,
} from '../support/browser';
import { orderBody, PRICE, shopWithStock, uniqueCodes, waitForTerminal } from '../support/orders';
import { subscriptionBody, waitForSubscription } from '../support/subscriptions';
import { addRoute, addSupplier, stackWithSuppliers } from '../support/suppliers';
import { waitFor } from '../support/wait';
import { CONSOLE_CSP } from '../../api/console-static';
import { wallClockAt } from '../../domain/subscriptions/periods';

jest.setTimeout(240_000);

const env = stackWithSuppliers({
  config: {
    RATE_LIMIT_CLAIM_IP_REQUESTS: '0',
    // Months of a day: a subscription's next renewal falls inside the reports' 30 days (a
    // calendar month from now may not), and none renews while the tests run.
    SUBSCRIPTION_SECONDS_PER_MONTH: '86400',
    SUBSCRIPTION_NOTICE_SECONDS: '3600',
  },
});
let browser: Browser;
const tabs: ConsoleTab[] = [];
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await Promise.all(tabs.map((t) => t.close().catch(() => undefined)));
  await browser?.close();
});

async function staff(role: 'support' | 'risk-analyst' | 'admin', name = `${role} ${randomUUID().slice(0, 6)}`) {
  const client = await createClientViaApi(env.stack, role, { name });
  return { ...client, name, api: clientFor(env.stack.url, client.apiKey) };
}

async function open(options: Parameters<typeof openConsole>[2]): Promise<ConsoleTab> {
  const tab = await openConsole(browser, env.stack.url, options);
  tabs.push(tab);
  return tab;
}

/** Orders of a new SKU that risk control sends to review (the tests' address scores 20). */
async function reviewedOrders(count: number) {
  const shop = await shopWithStock(env.stack, { stock: count, topUp: 10 * count * PRICE });
  const policy = await shop.admin.patch(`/v1/risk/policies/${shop.sku}`, { thresholds: { review: 20, block: 200 } });
  expect(policy.status).toBe(200);
  const ids: string[] = [];
  const externals: string[] = [];
  for (let i = 0; i < count; i++) {
    const body = orderBody(shop.sku);
    externals.push(body.externalOrderId);
    ids.push((await shop.api.post('/v1/orders', body)).body.id);
  }
  const reviews = new Map<string, string>();
  const admin = clientFor(env.stack.url, env.stack.config.BOOTSTRAP_ADMIN_KEY!);
  await waitFor(async () => {
    const page = await admin.get('/v1/risk/reviews?order=deadline&limit=100');
    for (const r of page.body.reviews) if (ids.includes(r.orderId)) reviews.set(r.orderId, r.id);
    return reviews.size === count;
  }, 'the reviews');
  return { shop, orders: ids, externals, reviews: ids.map((id) => reviews.get(id)!) };
}

/** Moves the queue's selection with j/k until it is on this review (other suites' reviews share the queue). */
async function selectWithKeys(page: Page, reviewId: string) {
  const option = page.locator(`#review-${reviewId}`);
  await option.waitFor();
  const ids = await page.locator('[role=option]').evaluateAll((els) => els.map((e) => e.id));
  const target = ids.indexOf(`review-${reviewId}`);
  for (let guard = 0; guard < ids.length + 2; guard++) {
    const selectedId = await page.locator('[role=option][aria-selected=true]').getAttribute('id');
    const at = ids.indexOf(selectedId ?? '');
    if (at === target) return;
    await page.keyboard.press(at < target ? 'j' : 'k');
  }
  throw new Error(`could not select ${reviewId} with j/k`);
}

const noErrors = (tab: ConsoleTab) => expect(tab.errors).toEqual([]);

/** A buyer who orders from London, then a minute later from Beijing: impossible travel, reviewed. */
async function travellingReview() {
  const shop = await shopWithStock(env.stack, { stock: 2, topUp: 10 * PRICE });
  const policy = await shop.admin.patch(`/v1/risk/policies/${shop.sku}`, { thresholds: { review: 50, block: 500 } });
  expect(policy.status).toBe(200);
  const buyer = `traveller-${randomUUID().slice(0, 8)}`;
  const london = await shop.api.post('/v1/orders', { ...orderBody(shop.sku), buyer: { id: buyer, ip: '81.2.69.142' } });
  expect((await waitForTerminal(shop.api, london.body.id)).status).toBe('delivered');
  const beijing = await shop.api.post('/v1/orders', {
    ...orderBody(shop.sku),
    buyer: { id: buyer, ip: '61.135.169.7' },
  });
  const admin = clientFor(env.stack.url, env.stack.config.BOOTSTRAP_ADMIN_KEY!);
  let reviewId: string | undefined;
  await waitFor(async () => {
    const page = await admin.get('/v1/risk/reviews?order=deadline&limit=100');
    reviewId = page.body.reviews.find((r: any) => r.orderId === beijing.body.id)?.id;
    return reviewId !== undefined;
  }, "the travelling buyer's review");
  return { reviewId: reviewId!, orderId: beijing.body.id as string };
}

/** A product whose 2 keys cost 9.00 each, both sold at 15.00: revenue 30.00, cost 18.00, margin 12.00. */
async function soldWithCost() {
  const shop = await shopWithStock(env.stack, { stock: 0, topUp: 10 * PRICE });
  const batch = await shop.admin.post('/v1/inventory/batches', {
    sku: shop.sku,
    keys: uniqueCodes(2),
    supplier: 'costed',
    costMinor: 900,
  });
  expect(batch.status).toBe(201);
  for (let i = 0; i < 2; i++) {
    const placed = await shop.api.post('/v1/orders', orderBody(shop.sku));
    expect((await waitForTerminal(shop.api, placed.body.id)).status).toBe('delivered');
  }
  return shop;
}

/** A monthly subscription (months of a day here) whose first period is paid; its next renewal is due tomorrow. */
async function paidSubscription() {
  const shop = await shopWithStock(env.stack, { stock: 3, topUp: 10 * PRICE });
  const body = subscriptionBody(shop.sku);
  const created = await shop.api.post('/v1/subscriptions', body);
  expect(created.status).toBe(202);
  const subscription = await waitForSubscription(
    shop.api,
    created.body.id,
    (s) => s.currentPeriod >= 1 && s.nextRenewal !== undefined && s.periods[0]?.orderStatus === 'delivered',
    'period 1 paid',
  );
  return { shop, body, subscription, periodOrderId: subscription.periods[0].orderId as string };
}

/** YYYY-MM-DD of `iso` in the time zone the page counts days in. */
async function dateInPageZone(page: Page, iso: string) {
  const zone = (await page.evaluate('Intl.DateTimeFormat().resolvedOptions().timeZone')) as string;
  const day = wallClockAt(zone, Date.parse(iso));
  return `${day.year}-${String(day.month).padStart(2, '0')}-${String(day.day).padStart(2, '0')}`;
}

test('an analyst approves one review and rejects another from the keyboard; a second analyst sees the claim', async () => {
  const { shop, orders, externals, reviews } = await reviewedOrders(2);
  const alice = await staff('risk-analyst', `alice ${randomUUID().slice(0, 6)}`);
  const bob = await staff('risk-analyst', `bob ${randomUUID().slice(0, 6)}`);

  // Alice signs in with the form.
  const a = await open({});
  expect((await a.page.goto(`${env.stack.url}/console/`))?.headers()['content-security-policy']).toBe(CONSOLE_CSP);
  await a.page.getByLabel('API key').fill(alice.apiKey);
  await a.page.getByRole('button', { name: 'Sign in' }).click();
  await a.page.getByRole('heading', { level: 1, name: 'Review queue' }).waitFor();
  await a.page.locator('.badge', { hasText: 'live' }).waitFor();

  // The first review: selected with j/k, opened (and claimed) with Enter.
  await a.page.getByRole('listbox').focus();
  await selectWithKeys(a.page, reviews[0]!);
  await a.page.keyboard.press('Enter');
  await a.page.getByRole('heading', { level: 2, name: new RegExp(`order ${externals[0]}`) }).waitFor();
  await a.page.getByRole('cell', { name: 'Unknown address' }).waitFor();

  // Bob's queue shows Alice holding it, without a reload; opening it, Bob can read but not decide.
  const b = await open({ apiKey: bob.apiKey, path: '/reviews' });
  await b.page.locator(`#review-${reviews[0]}`, { hasText: `held by ${alice.name}` }).waitFor();
  await b.page.locator(`#review-${reviews[0]}`).click();
  await b.page.getByText(`${alice.name} is working this review`).waitFor();
  expect(await b.page.getByRole('button', { name: /^Approve/ }).count()).toBe(0);

  // a, a note, Enter: approved.
  await a.page.keyboard.press('a');
  await a.page.getByRole('dialog', { name: 'Approve this review' }).waitFor();
  expect(await seriousViolations(a.page)).toEqual([]);
  await a.page.keyboard.type('known buyer, corporate account');
  await a.page.keyboard.press('Enter');
  await a.page.getByRole('status').filter({ hasText: 'Approved. The order moves on.' }).waitFor();
  await b.page.locator(`#review-${reviews[0]}`).waitFor({ state: 'detached' });

  // The second: j/k, Enter, r, a note, Enter: rejected.
  await selectWithKeys(a.page, reviews[1]!);
  await a.page.keyboard.press('Enter');
  await a.page.getByRole('heading', { level: 2, name: new RegExp(`order ${externals[1]}`) }).waitFor();
  await a.page.keyboard.press('r');
  await a.page.getByRole('dialog', { name: 'Reject this review' }).waitFor();
  await a.page.keyboard.type('reseller pattern');
  await a.page.keyboard.press('Enter');
  await a.page.getByRole('status').filter({ hasText: 'Rejected. The order is stopped.' }).waitFor();

  // Both orders moved on.
  expect((await waitForTerminal(shop.api, orders[0]!)).status).toBe('delivered');
  const rejected = await waitForTerminal(shop.api, orders[1]!);
  expect(rejected.status).toBe('rejected');
  expect(rejected.history.at(-1).reason).toMatch(/reseller pattern/);
  noErrors(a);
  noErrors(b);
});

test('support finds an order by buyer id and by a spoken code, reads its timeline, and a reissue completes', async () => {
  const shop = await shopWithStock(env.stack, { stock: 1, topUp: 5 * PRICE });
  const body = orderBody(shop.sku);
  const order = await waitForTerminal(shop.api, (await shop.api.post('/v1/orders', body)).body.id);
  expect(order.status).toBe('delivered');
  await shop.admin.post('/v1/inventory/batches', { sku: shop.sku, keys: uniqueCodes(2), supplier: 'spare' });
  const support = await staff('support');
  const s = await open({ apiKey: support.apiKey, path: '/support' });
  const page = s.page;
  await page.getByRole('heading', { level: 1, name: 'Support desk' }).waitFor();

  // By buyer id: the results list, then the order.
  await page.getByLabel('Search by').selectOption('buyer');
  await page.getByRole('searchbox', { name: 'Buyer id' }).fill(body.buyer.id);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('cell', { name: body.externalOrderId }).waitFor();
  await page.getByRole('button', { name: 'Open' }).click();
  await page.getByRole('heading', { level: 2, name: `Order ${body.externalOrderId}` }).waitFor();

  // By the code the buyer reads out: the same order.
  await page.getByLabel('Search by').selectOption('code');
  await page.getByLabel('Code, exactly as printed', { exact: true }).fill(shop.codes[0]!);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('cell', { name: body.externalOrderId }).waitFor();
  await page.getByRole('button', { name: 'Open' }).click();
  await page.getByRole('heading', { level: 2, name: `Order ${body.externalOrderId}` }).waitFor();

  // The timeline tells the order's story, without the code.
  const timeline = page.getByRole('region', { name: 'Timeline' });
  for (const line of ['Order received', 'Risk assessed', 'Balance held', 'Key delivered', 'Payment captured']) {
    await timeline.getByText(line).first().waitFor();
  }
  expect(await page.content()).not.toContain(shop.codes[0]);

  // Reissue the unit: a reason, Enter; the replacement is delivered and the timeline says so.
  await page.getByRole('button', { name: 'Reissue' }).first().click();
  await page.getByRole('dialog', { name: 'Reissue a unit' }).waitFor();
  await page.getByLabel('Reason').fill('buyer says the code is rejected');
  await page.keyboard.press('Enter');
  await page.getByRole('status').filter({ hasText: 'Done: reissued.' }).waitFor();
  await timeline.getByText('Compensation completed').waitFor();
  await page.getByRole('cell', { name: 'replaced' }).waitFor();
  const after = (await support.api.get(`/v1/orders/${order.id}`)).body;
  const units = after.items[0].units;
  expect(units.map((u: any) => u.status).sort()).toEqual(['delivered', 'replaced']);
  expect(units.find((u: any) => u.status === 'replaced').compensations[0]).toMatchObject({ outcome: 'reissued' });
  noErrors(s);
});

test("support reveals a code behind a confirmation, confirms a buyer's report, and refunds a unit", async () => {
  const shop = await shopWithStock(env.stack, { stock: 2, topUp: 5 * PRICE });
  const order = await waitForTerminal(shop.api, (await shop.api.post('/v1/orders', orderBody(shop.sku, 2))).body.id);
  expect(order.status).toBe('delivered');
  await shop.admin.post('/v1/inventory/batches', { sku: shop.sku, keys: uniqueCodes(2), supplier: 'spare' });
  const claimed = (await fetch(order.claimUrl).then((r) => r.json())) as { items: { codes: string[] }[] };
  const support = await staff('support');
  // Which unit holds the first code the buyer saw.
  const firstCode = claimed.items[0]!.codes[0]!;
  const held = await support.api.post('/v1/orders/search-by-code', { code: firstCode });
  const first: string = held.body.matches[0].unitId;
  const second: string = order.items[0].units.map((u: any) => u.id).find((id: string) => id !== first);
  // The buyer reports the first unit's code through the claim link.
  const report = await fetch(`${order.claimUrl}/report`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: firstCode, reason: 'the app says it was used' }),
  });
  expect(report.status).toBeLessThan(300);

  const tab = await open({ apiKey: support.apiKey, path: `/support?order=${order.id}` });
  const page = tab.page;
  const row = (unitId: string) => page.locator('tr', { hasText: unitId.slice(0, 8) });
  await row(first).getByText('buyer reported').waitFor();

  // Reveal: a confirmation with a reason; the code is shown once, and gone when closed.
  await row(second).getByRole('button', { name: 'Reveal code' }).click();
  const reveal = page.getByRole('dialog', { name: 'Reveal a code' });
  await reveal.getByText('The reveal is audited').waitFor();
  await reveal.getByLabel('Reason').fill('buyer on the phone cannot open the link');
  expect(await seriousViolations(page)).toEqual([]);
  await reveal.getByRole('button', { name: 'Reveal' }).click();
  const shown = (await reveal.getByLabel('Code').textContent())!;
  expect(await seriousViolations(page)).toEqual([]);
  expect(claimed.items[0]!.codes).toContain(shown);
  await reveal.getByRole('button', { name: 'Close' }).last().click();
  expect(await page.content()).not.toContain(shown);
  const audit = await env.stack.db.auditLog.findFirstOrThrow({
    where: { action: 'order.unit_revealed', subjectId: order.id },
  });
  expect(audit).toMatchObject({ reason: 'buyer on the phone cannot open the link', actor: `client:${support.name}` });

  // Confirm the buyer's report: the unit is reissued.
  await row(first).getByRole('button', { name: "Confirm buyer's report" }).click();
  await page
    .getByRole('dialog', { name: "Confirm the buyer's report" })
    .getByLabel('Reason')
    .fill('verified with the owner');
  await page.keyboard.press('Enter');
  await page.getByRole('status').filter({ hasText: 'Done: reissued.' }).waitFor();

  // Refund the other unit: select it, a reason, done.
  await row(second).getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Refund selected units (1)' }).click();
  await page.getByRole('dialog', { name: 'Refund units' }).getByLabel('Reason').fill('goodwill');
  await page.keyboard.press('Enter');
  await page.getByRole('status').filter({ hasText: 'Refund: done.' }).waitFor();
  const after = (await support.api.get(`/v1/orders/${order.id}`)).body.items[0].units;
  const statusOf = (id: string) => after.find((u: any) => u.id === id).status;
  expect([statusOf(first), statusOf(second)]).toEqual(['replaced', 'refunded']);
  noErrors(tab);
});

test('a support key cannot open the review queue or operations', async () => {
  const support = await staff('support');
  const s = await open({ apiKey: support.apiKey, path: '/reviews' });
  await s.page.getByRole('heading', { level: 1, name: 'Not available' }).waitFor();
  await s.page.getByText('Your role (support) cannot open this view.').waitFor();
  const nav = s.page.getByRole('navigation', { name: 'Views' });
  expect(await nav.getByRole('link').allTextContents()).toEqual(['Support desk']);
  await s.page.goto(`${env.stack.url}/console/operations`);
  await s.page.getByRole('heading', { level: 1, name: 'Not available' }).waitFor();
  expect(await s.page.getByRole('heading', { name: 'Stock per SKU' }).count()).toBe(0);
  // Nor does the API behind those views answer this key.
  expect((await support.api.get('/v1/risk/reviews')).status).toBe(403);
  expect((await support.api.get('/v1/inventory')).status).toBe(403);
  noErrors(s);
});

test('an admin imports keys from a file, with progress, and sees the stock change; a policy change is simulated before it is saved', async () => {
  const shop = await shopWithStock(env.stack, { stock: 3, topUp: 0 });
  const admin = await staff('admin');
  const tab = await open({ apiKey: admin.apiKey, path: '/operations' });
  const page = tab.page;
  const available = page.locator(`tr[data-sku="${shop.sku}"] td[data-status="available"]`);
  await available.waitFor();
  expect(await available.textContent()).toBe('3');

  const keys = uniqueCodes(2500, 'IMP');
  const file = ['key', ...keys, keys[0]].join('\n');
  await page.getByLabel('SKU', { exact: true }).selectOption(shop.sku);
  await page.getByLabel('Supplier (optional)').fill('acme-import');
  await page.getByLabel(/^File/).setInputFiles({ name: 'keys.csv', mimeType: 'text/csv', buffer: Buffer.from(file) });
  await page.getByRole('button', { name: 'Import' }).click();
  await page.getByRole('status').filter({ hasText: 'Imported 2500 keys; 1 duplicates skipped.' }).waitFor();
  expect(await page.locator('progress').evaluate((p: any) => [p.value, p.max])).toEqual([2501, 2501]);
  await waitFor(async () => (await available.textContent()) === '2503', 'the stock to show the import');
  const stock = (await admin.api.get('/v1/inventory')).body.inventory.find((s: any) => s.sku === shop.sku);
  expect(stock.counts.available).toBe(2503);
  // Three chunks of at most 1,000 keys, each a batch of its own.
  expect(await env.stack.db.keyBatch.count({ where: { product: { sku: shop.sku }, supplier: 'acme-import' } })).toBe(3);

  // A policy change is simulated before it can be saved.
  await page.getByLabel('Policy of').selectOption(shop.sku);
  const save = page.getByRole('button', { name: 'Save' });
  await page.getByLabel(/^Change/).fill('{"thresholds": {"review": 35, "block": 90}}');
  expect(await save.isDisabled()).toBe(true);
  await page.getByRole('button', { name: 'Simulate' }).click();
  await page
    .getByRole('status')
    .filter({ hasText: /^Replayed \d+ decided reviews/ })
    .waitFor();
  await save.click();
  await page.getByRole('status').filter({ hasText: 'Policy saved.' }).waitFor();
  const policy = (await admin.api.get(`/v1/risk/policies/${shop.sku}`)).body;
  expect(policy.policy.thresholds).toEqual({ review: 35, block: 90 });
  noErrors(tab);
});

test("an admin reads a product's sales and margin, per product and per channel, and downloads them as CSV", async () => {
  const shop = await soldWithCost();
  const admin = await staff('admin');
  const tab = await open({ apiKey: admin.apiKey, path: '/reports' });
  const page = tab.page;
  // /reports opens the first report, sales and margin, per product over the last 30 days.
  await page.getByRole('heading', { level: 2, name: 'Sales and margin' }).waitFor();
  expect(await page.getByLabel('Range').inputValue()).toBe('30');
  expect(await page.getByRole('radio', { name: 'Per product' }).isChecked()).toBe(true);
  const row = page.locator(`tr[data-key="${shop.sku}"]`);
  await row.waitFor();
  const figure = (name: string) => row.locator(`[data-figure="${name}"]`).textContent();
  expect(await figure('orders')).toBe('2');
  expect(await figure('delivered')).toBe('2');
  expect(await figure('refunded')).toBe('0');
  expect(await figure('revenue')).toMatch(/\b30\.00$/);
  expect(await figure('cost')).toMatch(/\b18\.00$/);
  expect(await figure('margin')).toMatch(/\b12\.00$/);
  expect(await figure('margin-rate')).toBe('40%');
  await page.locator('[data-chart^="sales-"] canvas').first().waitFor();

  // The CSV is the same report, the product's line with its figures in minor units.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^sales-by-product-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync((await download.path())!, 'utf8').split('\n');
  expect(csv).toContain(`${shop.sku},Video VIP 1 month,CNY,2,2,0,3000,1800,1200,0.4,0`);

  // Per channel: the shop that placed the orders, with the same figures (it placed no others).
  await page.getByRole('radio', { name: 'Per channel' }).check();
  const channel = page.locator(`tr[data-key="${shop.shop.id}"]`);
  await channel.waitFor();
  expect(await channel.locator('th').textContent()).toContain(`shop ${shop.sku}`);
  expect(await channel.locator('[data-figure="orders"]').textContent()).toBe('2');
  expect(await channel.locator('[data-figure="margin"]').textContent()).toMatch(/\b12\.00$/);
  expect(new URL(page.url()).searchParams.get('by')).toBe('channel');
  noErrors(tab);
});

test("an admin sees a subscription's renewal due in the reports; support sees which subscription period an order paid for", async () => {
  const { shop, body, subscription, periodOrderId } = await paidSubscription();
  const admin = await staff('admin');
  const tab = await open({ apiKey: admin.apiKey, path: '/reports' });
  const page = tab.page;
  await page.getByRole('navigation', { name: 'Which report' }).getByRole('link', { name: 'Subscriptions' }).click();
  await page.getByRole('heading', { level: 2, name: 'Subscriptions' }).waitFor();
  await page.getByLabel('Product', { exact: true }).selectOption(shop.sku);
  // The one renewal due, on the day of its next charge in the operator's time zone, at the plan's price.
  const date = await dateInPageZone(page, subscription.nextRenewal.at);
  const day = page.locator(`tr[data-date="${date}"]`);
  await day.waitFor({ state: 'attached' });
  expect(await day.locator('[data-figure="renewals"]').textContent()).toBe('1');
  expect(await day.locator('[data-figure="expected"]').textContent()).toMatch(/\b15\.00$/);
  expect(await page.locator('dd[data-figure="due"]').textContent()).toBe('1');
  // The day of the month is the subscription's own (its buyer's calendar, Shanghai's here).
  const ownDay = wallClockAt(subscription.timeZone, Date.parse(subscription.nextRenewal.at)).day;
  expect(await page.locator('dd[data-figure="peak"]').textContent()).toBe(`day ${ownDay} · next charges: 1`);
  await page.locator('[data-chart="renewals-due"] canvas').waitFor();
  expect(new URL(page.url()).searchParams.get('sku')).toBe(shop.sku);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download CSV' }).click(),
  ]);
  const csv = readFileSync((await download.path())!, 'utf8').split('\n');
  expect(csv).toContain(`renewals_due,${date},,,,CNY,1,${PRICE},,,,,,,`);
  noErrors(tab);

  // Support finds the period's order by the buyer and reads, above its timeline, whose period it is.
  const support = await staff('support');
  const s = await open({ apiKey: support.apiKey, path: '/support' });
  await s.page.getByLabel('Search by').selectOption('buyer');
  await s.page.getByRole('searchbox', { name: 'Buyer id' }).fill(body.buyer.id);
  await s.page.getByRole('button', { name: 'Search' }).click();
  await s.page.getByRole('button', { name: 'Open' }).click();
  await waitFor(async () => new URL(s.page.url()).searchParams.get('order') === periodOrderId, 'the period order');
  const timeline = s.page.getByRole('region', { name: 'Timeline' });
  await timeline
    .getByText(`This order is period 1 of subscription ${body.externalSubscriptionId} (active, ${shop.sku}, monthly).`)
    .waitFor();
  await timeline.locator('.source-subscription .badge', { hasText: 'subscription' }).first().waitFor();
  noErrors(s);
});

test('a review shows both addresses on a map, with the great circle between them, the distance and the speed', async () => {
  const { reviewId } = await travellingReview();
  const analyst = await staff('risk-analyst');
  const tab = await open({ apiKey: analyst.apiKey, path: '/reviews' });
  const page = tab.page;
  await page.locator(`#review-${reviewId}`).click();
  const travel = page.getByRole('region', { name: 'Where the addresses are' });
  const map = travel.getByRole('img', { name: /^Map: A previous order: .*GB; B order: .*CN\./ });
  await map.waitFor();
  expect(await map.getAttribute('data-places')).toBe('2');
  expect(await map.locator('path.land').getAttribute('d')).toMatch(/^M/);
  expect(await map.locator('path.route').getAttribute('d')).toMatch(/^M/);
  expect(await map.locator('.mark text').allTextContents()).toEqual(['A', 'B']);
  // London to Beijing is some 8,000 km (less or more as the addresses are located to a city or
  // only a country), seconds apart: far faster than a plane.
  const distance = (await travel.locator('.distance').textContent())!;
  const km = Number(/^([\d,]+) km apart/.exec(distance)![1]!.replace(/,/g, ''));
  expect(km).toBeGreaterThan(5_000);
  expect(km).toBeLessThan(10_000);
  expect(distance).toMatch(/implied speed [\d,]+ km\/h$/);
  expect(await seriousViolations(page)).toEqual([]);
  noErrors(tab);
});

test('every page at 1280×800 and 390×844, in English and Chinese: photographed, no serious accessibility violation, no browser error', async () => {
  // Something on every page: an open review with both addresses located, an order with a
  // timeline, a subscription period's order, a supplier, deliveries with and without a cost.
  const { reviewId } = await travellingReview();
  await soldWithCost();
  const subscribed = await paidSubscription();
  const shop = await shopWithStock(env.stack, { stock: 4, topUp: 5 * PRICE });
  const delivered = await waitForTerminal(shop.api, (await shop.api.post('/v1/orders', orderBody(shop.sku))).body.id);
  // The buyer claims and redeems it: the redemption charts have something to show.
  const claimed = (await fetch(delivered.claimUrl).then((r) => r.json())) as { items: { codes: string[] }[] };
  expect((await shop.api.post('/v1/redemptions', { sku: shop.sku, code: claimed.items[0]!.codes[0] })).status).toBe(
    200,
  );
  const supplier = await addSupplier(env.sim.url, env.admin, {
    products: { 'VIP-1M': { kind: 'card_key', costMinor: 900, stock: 50 } },
  });
  await addRoute(env.admin, shop.sku, supplier, { productCode: 'VIP-1M', costMinor: 900 });
  const admin = await staff('admin', 'Operator Lin');
  const support = await staff('support', 'Support Wang');

  const pages: { name: string; key?: string; path: string; ready: (page: Page) => Promise<unknown> }[] = [
    { name: 'signin', path: '/', ready: (p) => p.locator('input[name=apiKey]').waitFor() },
    {
      name: 'reviews',
      key: admin.apiKey,
      path: '/reviews',
      ready: async (p) => {
        await p.locator(`#review-${reviewId}`).click();
        await p.locator('.detail table').first().waitFor();
        await p.locator('svg.travel-map').waitFor();
      },
    },
    {
      name: 'support',
      key: support.apiKey,
      path: `/support?order=${delivered.id}`,
      ready: (p) => p.locator('.timeline li').first().waitFor(),
    },
    {
      name: 'operations',
      key: admin.apiKey,
      path: '/operations',
      ready: async (p) => {
        await p.locator(`tr[data-sku="${shop.sku}"]`).waitFor();
        await p.getByRole('rowheader', { name: new RegExp(supplier.name) }).waitFor();
      },
    },
    {
      name: 'support-subscription',
      key: support.apiKey,
      path: `/support?order=${subscribed.periodOrderId}`,
      ready: (p) => p.locator('.belongs').waitFor(),
    },
    {
      name: 'reports-sales',
      key: admin.apiKey,
      path: '/reports/sales',
      ready: (p) => p.locator('[data-chart^="sales-"] canvas').first().waitFor(),
    },
    {
      name: 'reports-sales-channel',
      key: admin.apiKey,
      path: '/reports/sales?by=channel',
      ready: (p) => p.locator('[data-chart^="sales-"] canvas').first().waitFor(),
    },
    {
      name: 'reports-renewals',
      key: admin.apiKey,
      path: `/reports/renewals?sku=${subscribed.shop.sku}`,
      ready: (p) => p.locator('[data-chart="renewals-due"] canvas').waitFor(),
    },
    {
      name: 'reports-redemptions',
      key: admin.apiKey,
      path: '/reports/redemptions',
      ready: (p) => p.locator('canvas').first().waitFor(),
    },
    { name: 'refused', key: support.apiKey, path: '/operations', ready: (p) => p.locator('.refused').waitFor() },
  ];
  const problems: string[] = [];
  for (const lang of ['en', 'zh'] as const) {
    for (const viewport of [DESKTOP, PHONE]) {
      for (const p of pages) {
        const tab = await open({ ...(p.key ? { apiKey: p.key } : {}), path: p.path, viewport, lang });
        await p.ready(tab.page);
        expect(await tab.page.evaluate('document.documentElement.lang')).toBe(lang === 'zh' ? 'zh-CN' : 'en');
        await screenshot(tab.page, `${p.name}-${lang}`);
        for (const v of await seriousViolations(tab.page)) {
          problems.push(
            `${p.name} ${lang} ${viewport.width}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(', ')}`,
          );
        }
        // Nothing wider than the screen: the page scrolls down, never sideways.
        const overflow = (await tab.page.evaluate(
          'document.documentElement.scrollWidth - window.innerWidth',
        )) as number;
        if (overflow > 0) problems.push(`${p.name} ${lang} ${viewport.width}: ${overflow}px wider than the viewport`);
        for (const e of tab.errors) problems.push(`${p.name} ${lang} ${viewport.width}: ${e}`);
        await tab.close();
      }
    }
  }
  expect(problems).toEqual([]);
}, 600_000);
