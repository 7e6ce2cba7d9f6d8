// The operator console in a real browser (Chromium, headless, playwright-core) against a real
// stack — API serving the console, worker, Temporal, PostgreSQL: an analyst works the queue
// from the keyboard while a second analyst sees the claim; support finds an order by buyer and
// by a code read out over the phone, reads its timeline and reissues a unit; a support key
// cannot open the queue or operations; an admin imports keys from a file and sees the stock
// change. Every page at both sizes is photographed (tests/console/screenshots, git-ignored),
// checked with axe-core (no serious or critical violation) and must log no browser errors.
import { randomUUID } from 'node:crypto';
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
import { addRoute, addSupplier, stackWithSuppliers } from '../support/suppliers';
import { waitFor } from '../support/wait';
import { CONSOLE_CSP } from '../../api/console-static';

jest.setTimeout(240_000);

const env = stackWithSuppliers({ config: { RATE_LIMIT_CLAIM_IP_REQUESTS: '0' } });
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

test('every page at 1280×800 and 390×844, in English and Chinese: photographed, no serious accessibility violation, no browser error', async () => {
  // Something on every page: an open review, an order with a timeline, a supplier, deliveries.
  const { reviews } = await reviewedOrders(1);
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
        await p.locator(`#review-${reviews[0]}`).click();
        await p.locator('.detail table').waitFor();
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
    { name: 'reports', key: admin.apiKey, path: '/reports', ready: (p) => p.locator('canvas').first().waitFor() },
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
});
