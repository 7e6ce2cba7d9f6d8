// Reconciliation compares the ledger with what was delivered: empty after correct orders of
// every outcome; a corrupted ledger shows up, naming the order or account.
import { randomUUID } from 'node:crypto';
import { reconcile } from '../../store/reconciliation';
import { adminKey } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.close());

test('reconciliation is empty after delivered, refunded and failed orders, and finds a corrupted ledger', async () => {
  const started = new Date(Date.now() - 1_000);
  const { sku, api, shop } = await shopWithStock(stack, { stock: 1, topUp: 2 * PRICE });
  const delivered = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku))).body.id);
  const refunded = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku))).body.id);
  const failed = await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku, 3))).body.id);
  expect([delivered.status, refunded.status, failed.status]).toEqual(['delivered', 'refunded', 'failed']);

  const admin = clientFor(stack.url, await adminKey(stack));
  const range = `from=${encodeURIComponent(started.toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`;
  const report = await admin.get(`/v1/reports/reconciliation?${range}`);
  expect(report.status).toBe(200);
  expect(report.body.orders).toBeGreaterThanOrEqual(3);
  expect(report.body.mismatches).toEqual([]);
  expectProblem(await api.get(`/v1/reports/reconciliation?${range}`), 403, 'forbidden');
  expectProblem(
    await admin.get('/v1/reports/reconciliation?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z'),
    422,
    'validation_failed',
  );

  // Corruptions, inside a transaction that is rolled back: a capture for the refunded order
  // (balanced, but for nothing delivered), and a running balance nudged off its postings.
  const corrupted = await stack.db
    .$transaction(async (tx) => {
      await tx.$queryRaw`SELECT * FROM ledger_transfer('capture', ${`rogue:${randomUUID()}`}, ${shop.id}::uuid,
        ${refunded.id}::uuid, 'CNY', 100, 'client_available', 'platform_revenue', NULL)`;
      await tx.$executeRaw`UPDATE ledger_accounts SET balance_minor = balance_minor + 1
                            WHERE client_id = ${shop.id}::uuid AND kind = 'client_available'`;
      const found = await reconcile(tx, { from: started, to: new Date(Date.now() + 60_000) });
      throw Object.assign(new Error('roll back'), { found });
    })
    .catch((err: { found?: Awaited<ReturnType<typeof reconcile>> }) => err.found);
  expect(corrupted?.mismatches).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        kind: 'capture_not_delivered_value',
        orderId: refunded.id,
        expectedMinor: '0',
        actualMinor: '100',
      }),
      expect.objectContaining({
        kind: 'running_balance_off',
      }),
    ]),
  );
  // The rogue capture also leaves the hold's release too large for what was captured.
  expect(corrupted?.mismatches).toContainEqual(
    expect.objectContaining({ kind: 'rest_not_returned', orderId: refunded.id, expectedMinor: String(PRICE - 100) }),
  );
  const drift = corrupted!.mismatches.find((m) => m.kind === 'running_balance_off')!;
  expect(BigInt(drift.actualMinor) - BigInt(drift.expectedMinor)).toBe(1n);
  // Rolled back: the real ledger still reconciles.
  expect((await admin.get(`/v1/reports/reconciliation?${range}`)).body.mismatches).toEqual([]);
});
