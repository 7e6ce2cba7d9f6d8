// Every action on one delivered unit — a refund, a reissue, a refund by compensation, a buyer's
// report and its confirmation, a redemption — in any order, one after another or all at once,
// leaves the unit exactly one outcome: still delivered, redeemed, refunded once, or replaced by
// exactly one delivered key. Never a refunded unit holding a delivered replacement (a key given
// away), never two refunds, and reconciliation stays empty.
import fc from 'fast-check';
import { staffApi } from '../support/clients';
import type { clientFor } from '../support/http';
import { orderBody, PRICE, shopWithStock, uniqueCodes, waitForTerminal } from '../support/orders';
import { stackWithSuppliers } from '../support/suppliers';
import { waitFor } from '../support/wait';

jest.setTimeout(600_000);

// Every run reads its claim link and reports through it from one address: no claim rate limit here.
const env = stackWithSuppliers({ config: { RATE_LIMIT_CLAIM_IP_REQUESTS: '0' } });
let support: ReturnType<typeof clientFor>;
let admin: ReturnType<typeof clientFor>;
beforeAll(async () => {
  support = await staffApi(env.stack, 'support');
  admin = await staffApi(env.stack, 'admin');
});

type Action = 'refund' | 'reissue' | 'refundComp' | 'report' | 'redeem';
const ACTIONS: readonly Action[] = ['refund', 'reissue', 'refundComp', 'report', 'redeem'];

interface Delivered {
  sku: string;
  api: ReturnType<typeof clientFor>;
  orderId: string;
  unitId: string;
  code: string;
  claimUrl: string;
}

/** A delivered one-unit order whose code the buyer has read, with spare stock in another batch for a reissue. */
async function deliveredUnit(): Promise<Delivered> {
  const shop = await shopWithStock(env.stack, { stock: 1, topUp: 5 * PRICE });
  const order = await waitForTerminal(shop.api, (await shop.api.post('/v1/orders', orderBody(shop.sku))).body.id);
  expect(order.status).toBe('delivered');
  const spare = await shop.admin.post('/v1/inventory/batches', {
    sku: shop.sku,
    keys: uniqueCodes(3),
    supplier: 'spare',
  });
  expect(spare.status).toBe(201);
  const claimed = (await fetch(order.claimUrl).then((r) => r.json())) as { items: { codes: string[] }[] };
  return {
    sku: shop.sku,
    api: shop.api,
    orderId: order.id,
    unitId: order.items[0].units[0].id,
    code: claimed.items[0]!.codes[0]!,
    claimUrl: order.claimUrl,
  };
}

/** Runs one action as its actor would, over HTTP; returns the status (any 2xx/4xx is a fine answer, a 5xx is not). */
async function act(d: Delivered, action: Action): Promise<number> {
  switch (action) {
    case 'refund':
      return (await support.post(`/v1/orders/${d.orderId}/refunds`, { unitIds: [d.unitId], reason: 'goodwill' }))
        .status;
    case 'reissue':
    case 'refundComp':
      return (
        await support.post(`/v1/orders/${d.orderId}/units/${d.unitId}/compensations`, {
          action: action === 'reissue' ? 'reissue' : 'refund',
          reason: 'the code does not work',
        })
      ).status;
    case 'report': {
      const res = await fetch(`${d.claimUrl}/report`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code: d.code, reason: 'the app says already used' }),
      });
      return res.status;
    }
    case 'redeem':
      return (await d.api.post('/v1/redemptions', { sku: d.sku, code: d.code })).status;
  }
}

/** Waits until no compensation or refund of the order is running. */
async function settle(d: Delivered) {
  const temporal = env.stack.deps.temporal;
  await waitFor(
    async () => {
      const open = await env.stack.db.compensation.count({ where: { orderId: d.orderId, status: 'open' } });
      if (open > 0) return false;
      const running = temporal.workflow.list({
        query: `ExecutionStatus = 'Running' AND TaskQueue = '${env.stack.taskQueue}' AND WorkflowId STARTS_WITH 'refund:${d.orderId}'`,
      });
      for await (const _ of running) return false;
      return true;
    },
    `the actions on order ${d.orderId} to settle`,
    120_000,
  );
}

async function unitWithKey(unitId: string) {
  const unit = await env.stack.db.orderUnit.findUniqueOrThrow({ where: { id: unitId } });
  const cardKey = await env.stack.db.cardKey.findUniqueOrThrow({ where: { id: unit.cardKeyId! } });
  return { ...unit, cardKey };
}

/** The one outcome of the unit, after checking it holds nothing that contradicts it. */
async function outcomeOf(d: Delivered): Promise<string> {
  const db = env.stack.db;
  const unit = await unitWithKey(d.unitId);
  const replacements = await db.orderUnit.findMany({ where: { replacesUnitId: d.unitId } });
  const delivered = replacements.filter((r) => r.status === 'delivered');
  const refunds = await db.$queryRaw<{ minor: bigint }[]>`
    SELECT COALESCE(sum(amount_minor), 0)::bigint AS minor FROM ledger_transactions
     WHERE order_id = ${d.orderId}::uuid AND kind = 'refund'`;
  const refunded = refunds[0]!.minor;
  const comps = await db.compensation.findMany({ where: { unitId: d.unitId } });
  expect(comps.filter((c) => c.status === 'open')).toEqual([]);
  expect(delivered.length).toBeLessThanOrEqual(1);

  let outcome: string;
  switch (unit.status) {
    case 'refunded':
      outcome = 'refunded';
      expect(delivered).toEqual([]);
      expect(refunded).toBe(BigInt(PRICE));
      expect(unit.cardKey.status).toBe('void');
      // A report nobody confirmed does not wait on for a unit whose money went back.
      expect(comps.filter((c) => c.status === 'awaiting_confirmation')).toEqual([]);
      break;
    case 'replaced':
      outcome = 'replaced';
      expect(delivered).toHaveLength(1);
      expect(refunded).toBe(0n);
      expect(unit.cardKey.status).toBe('void');
      break;
    case 'delivered':
      outcome = unit.cardKey.status === 'redeemed' ? 'redeemed' : 'delivered';
      expect(['delivered', 'redeemed']).toContain(unit.cardKey.status);
      expect(delivered).toEqual([]);
      expect(refunded).toBe(0n);
      break;
    default:
      throw new Error(`the unit ended ${unit.status}`);
  }
  const order = await db.order.findUniqueOrThrow({ where: { id: d.orderId } });
  expect(order.status).toBe(outcome === 'refunded' ? 'refunded' : 'delivered');
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const recon = await admin.get(
    `/v1/reports/reconciliation?from=${from}&to=${new Date(Date.now() + 60_000).toISOString()}`,
  );
  expect(recon.status).toBe(200);
  expect(recon.body.mismatches.filter((m: { orderId: string }) => m.orderId === d.orderId)).toEqual([]);
  return outcome;
}

describe('one outcome per unit', () => {
  test('a report refunded before its confirmation cannot be reissued: the key is not given away', async () => {
    const d = await deliveredUnit();
    expect(await act(d, 'report')).toBe(202);
    expect(await act(d, 'refund')).toBe(200);
    const confirm = await support.post(`/v1/orders/${d.orderId}/units/${d.unitId}/compensations`, {
      action: 'reissue',
      reason: 'confirmed: the code was used',
    });
    expect(confirm.status).toBe(409);
    expect(confirm.body.code).toBe('unit_not_delivered');
    await settle(d);
    expect(await outcomeOf(d)).toBe('refunded');
  });

  test('a refund while a reissue is under way: the unit is refunded once and no replacement is delivered', async () => {
    const d = await deliveredUnit();
    const [reissue, refund] = await Promise.all([act(d, 'reissue'), act(d, 'refund')]);
    expect(reissue).toBeLessThan(500);
    expect(refund).toBeLessThan(500);
    await settle(d);
    expect(['refunded', 'replaced']).toContain(await outcomeOf(d));
  });

  test('a redeemed key is not refunded by support without an admin override', async () => {
    const d = await deliveredUnit();
    expect(await act(d, 'redeem')).toBe(200);
    const refund = await support.post(`/v1/orders/${d.orderId}/refunds`, { unitIds: [d.unitId], reason: 'goodwill' });
    expect(refund.status).toBe(409);
    expect(refund.body.code).toBe('key_redeemed');
    await settle(d);
    expect(await outcomeOf(d)).toBe('redeemed');
    const overridden = await admin.post(`/v1/orders/${d.orderId}/refunds`, {
      unitIds: [d.unitId],
      reason: 'goodwill, approved',
      override: true,
    });
    expect(overridden.status).toBe(200);
    await settle(d);
    expect((await unitWithKey(d.unitId)).status).toBe('refunded');
  });

  test('any sequence of actions, one after another or all at once, leaves one outcome and clean books', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...ACTIONS), { minLength: 2, maxLength: 4 }),
        fc.boolean(),
        async (actions, concurrent) => {
          const d = await deliveredUnit();
          const statuses = concurrent
            ? await Promise.all(actions.map((a) => act(d, a)))
            : await actions.reduce<Promise<number[]>>(
                async (done, a) => [...(await done), await act(d, a)],
                Promise.resolve([]),
              );
          for (const status of statuses) expect(status).toBeLessThan(500);
          await settle(d);
          const outcome = await outcomeOf(d);
          // Whatever came first decided: without a refund or a compensation, nothing was undone.
          if (!actions.some((a) => a === 'refund' || a === 'reissue' || a === 'refundComp')) {
            expect(['delivered', 'redeemed']).toContain(outcome);
          }
        },
      ),
      { numRuns: Number(process.env.UNIT_ACTION_RUNS ?? 16) },
    );
  });
});
