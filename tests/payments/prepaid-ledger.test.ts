// The prepaid balance as a double-entry ledger: authorize before fulfilling, capture what was
// delivered, release the rest; balances are running balances that never go negative, and
// every transaction's postings sum to zero.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { adminKey } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { orderBody, PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { addRoute, addSupplier, stackWithSuppliers } from '../support/suppliers';

const env = stackWithSuppliers();

async function unbalancedTransactions(): Promise<number> {
  const [row] = await env.stack.db.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM (SELECT transaction_id FROM ledger_postings GROUP BY 1 HAVING sum(amount_minor) <> 0) x`;
  return Number(row!.n);
}

test('five concurrent orders against a balance that covers three: three delivered, two refused before any reservation', async () => {
  const { sku, api, shop } = await shopWithStock(env.stack, { stock: 10, topUp: 3 * PRICE });
  const placed = await Promise.all(Array.from({ length: 5 }, () => api.post('/v1/orders', orderBody(sku))));
  const orders = await Promise.all(placed.map((p) => waitForTerminal(api, p.body.id)));
  const statuses = orders.map((o) => o.status).sort();
  expect(statuses).toEqual(['delivered', 'delivered', 'delivered', 'failed', 'failed']);
  for (const o of orders.filter((x) => x.status === 'failed')) {
    expect(o.history.at(-1).reason).toBe('insufficient balance');
    expect(await env.stack.db.orderUnit.count({ where: { orderId: o.id, cardKeyId: { not: null } } })).toBe(0);
  }
  const balance = (await api.get('/v1/balance')).body;
  expect(balance.available).toEqual({ minor: 0, currency: 'CNY' });
  expect(balance.held).toEqual({ minor: 0, currency: 'CNY' });
  // The running balance is what the postings add up to, and every transaction balances.
  const [sum] = await env.stack.db.$queryRaw<{ minor: bigint }[]>`
    SELECT coalesce(sum(p.amount_minor), 0)::bigint AS minor FROM ledger_postings p
      JOIN ledger_accounts a ON a.id = p.account_id WHERE a.client_id = ${shop.id}::uuid AND a.kind = 'client_available'`;
  expect(sum!.minor).toBe(0n);
  expect(await unbalancedTransactions()).toBe(0);
});

test('a partial delivery captures the delivered units only and releases the rest', async () => {
  const admin = clientFor(env.stack.url, await adminKey(env.stack));
  const { sku, api } = await shopWithStock(env.stack, { stock: 1, topUp: 10 * PRICE });
  const supplier = await addSupplier(env.sim.url, admin, {
    products: { P: { kind: 'card_key', costMinor: 1000, stock: 1 } },
  });
  await addRoute(admin, sku, supplier, { productCode: 'P', costMinor: 1000 });
  const placed = await api.post('/v1/orders', { ...orderBody(sku, 4), allowPartial: true });
  const order = await waitForTerminal(api, placed.body.id, 30_000);
  expect(order.status).toBe('partially_delivered');

  const moves = await env.stack.db.ledgerTransaction.findMany({ where: { orderId: order.id }, orderBy: { id: 'asc' } });
  expect(moves.map((m) => [m.kind, Number(m.amountMinor)])).toEqual([
    ['hold', 4 * PRICE],
    ['capture', 2 * PRICE],
    ['release', 2 * PRICE],
  ]);
  const balance = (await api.get('/v1/balance')).body;
  expect(balance.available.minor).toBe(8 * PRICE);
  expect(balance.held.minor).toBe(0);
  expect(await unbalancedTransactions()).toBe(0);
});

test('the statement lists every posting with its running balance, by cursor pages, and as CSV', async () => {
  const { sku, api } = await shopWithStock(env.stack, { stock: 5, topUp: 10 * PRICE });
  for (let i = 0; i < 2; i++) await waitForTerminal(api, (await api.post('/v1/orders', orderBody(sku))).body.id);

  const first = await api.get('/v1/balance/statement?currency=CNY&limit=3');
  expect(first.status).toBe(200);
  expect(first.body.lines).toHaveLength(3);
  const rest = await api.get(`/v1/balance/statement?currency=CNY&limit=100&cursor=${first.body.nextCursor}`);
  const lines = [...first.body.lines, ...rest.body.lines];
  expect(rest.body.nextCursor).toBeUndefined();
  // topup, then per order: hold (available −, held +) and capture (held −).
  expect(lines.map((l: any) => `${l.kind}/${l.account}/${l.amount.minor}/${l.balanceAfter.minor}`)).toEqual([
    `topup/available/${10 * PRICE}/${10 * PRICE}`,
    `hold/available/${-PRICE}/${9 * PRICE}`,
    `hold/held/${PRICE}/${PRICE}`,
    `capture/held/${-PRICE}/0`,
    `hold/available/${-PRICE}/${8 * PRICE}`,
    `hold/held/${PRICE}/${PRICE}`,
    `capture/held/${-PRICE}/0`,
  ]);

  const csv = await api.get('/v1/balance/statement?currency=CNY', { headers: { accept: 'text/csv' } });
  expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
  const rows = csv.text.trim().split('\n');
  expect(rows[0]).toBe('id,at,account,kind,order_id,amount_minor,balance_after_minor,currency');
  expect(rows.slice(1).map((r) => r.split(',').slice(2, 4).join('/'))).toEqual(
    lines.map((l: any) => `${l.account}/${l.kind}`),
  );

  const future = new Date(Date.now() + 60_000).toISOString();
  expect((await api.get(`/v1/balance/statement?currency=CNY&from=${encodeURIComponent(future)}`)).body.lines).toEqual(
    [],
  );
  expectProblem(await api.get('/v1/balance/statement?currency=CNY&cursor=abc'), 422, 'validation_failed');
});

test('ledger rows are append-only and a transaction that does not balance cannot commit', async () => {
  const { shop } = await shopWithStock(env.stack, { stock: 0, topUp: PRICE });
  const [account] = await env.stack.db.ledgerAccount.findMany({
    where: { clientId: shop.id, kind: 'client_available' },
  });
  await expect(
    env.stack.db.$executeRaw`UPDATE ledger_postings SET amount_minor = 1 WHERE account_id = ${account!.id}::uuid`,
  ).rejects.toThrow();
  // A forged one-sided transaction, on a connection of its own: the commit refuses it.
  const forger = new Client({ connectionString: env.stack.config.DATABASE_URL });
  await forger.connect();
  try {
    await forger.query('BEGIN');
    const { rows } = await forger.query(
      `INSERT INTO ledger_transactions (kind, idempotency_key, client_id, currency, amount_minor)
       VALUES ('topup', $1, $2, 'CNY', 100) RETURNING id`,
      [`forged:${randomUUID()}`, shop.id],
    );
    await forger.query('INSERT INTO ledger_postings (transaction_id, account_id, amount_minor) VALUES ($1, $2, 100)', [
      rows[0].id,
      account!.id,
    ]);
    await expect(forger.query('COMMIT')).rejects.toThrow(/does not balance/);
  } finally {
    await forger.end();
  }
  await expect(
    env.stack.db.$executeRaw`UPDATE ledger_accounts SET balance_minor = -1 WHERE id = ${account!.id}::uuid`,
  ).rejects.toThrow();
});
