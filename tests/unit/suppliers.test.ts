// Supplier routing rules on given facts.
import { keyText, saleStateOf } from '../../domain/supplier-sales';
import { circuitAdmits, parseProductCode, planRoutes, shouldOpen } from '../../domain/suppliers';

const route = (id: string, priority: number, costMinor: number, extra: object = {}) => ({
  routeId: id,
  supplierId: `s-${id}`,
  supplierName: id,
  priority,
  costMinor,
  enabled: true,
  supplierEnabled: true,
  ...extra,
});

test('routes are tried by priority, then the cheaper; above-price and disabled ones are left out', () => {
  const plan = planRoutes(
    [
      route('b', 20, 900),
      route('a', 10, 1000),
      route('c', 10, 800),
      route('dear', 1, 1600),
      route('off', 0, 100, { enabled: false }),
      route('down', 0, 100, { supplierEnabled: false }),
    ],
    1500,
  );
  expect(plan.tryInOrder.map((r) => r.routeId)).toEqual(['c', 'a', 'b']);
  expect(plan.skipped).toEqual([
    {
      route: expect.objectContaining({ routeId: 'dear' }),
      outcome: 'price_above_limit',
      detail: 'cost 1600 exceeds the price 1500',
    },
  ]);
  // Selling at cost is allowed; one minor unit above is not.
  expect(planRoutes([route('even', 1, 1500)], 1500).tryInOrder).toHaveLength(1);
});

test('the circuit: closed calls, open skips until the cool-down, then probes; a stuck probe is retried', () => {
  const at = new Date('2026-11-29T00:00:00Z');
  const after = (s: number) => new Date(at.getTime() + s * 1000);
  expect(circuitAdmits({ state: 'closed', changedAt: at, cooldownSeconds: 30 }, after(0))).toBe('call');
  expect(circuitAdmits({ state: 'open', changedAt: at, cooldownSeconds: 30 }, after(29))).toBe('skip');
  expect(circuitAdmits({ state: 'open', changedAt: at, cooldownSeconds: 30 }, after(30))).toBe('probe');
  expect(circuitAdmits({ state: 'half_open', changedAt: at, cooldownSeconds: 30 }, after(5))).toBe('skip');
  expect(circuitAdmits({ state: 'half_open', changedAt: at, cooldownSeconds: 30 }, after(31))).toBe('probe');
});

test('a circuit opens on enough failures that are also at least half of the calls', () => {
  expect(shouldOpen({ calls: 5, failures: 5 }, 5)).toBe(true);
  expect(shouldOpen({ calls: 4, failures: 4 }, 5)).toBe(false);
  expect(shouldOpen({ calls: 10, failures: 5 }, 5)).toBe(true);
  expect(shouldOpen({ calls: 11, failures: 5 }, 5)).toBe(false);
});

test('product codes and keys as suppliers send them', () => {
  expect(parseProductCode('341@10@CN')).toEqual({ id: '341', faceValue: '10', country: 'CN' });
  expect(parseProductCode('IQY-VIP-1M')).toEqual({ id: 'IQY-VIP-1M' });
  expect(keyText({ code: 'ABCD', pin: '1234' })).toBe('ABCD PIN 1234');
  // A blank code is no key, whatever PIN comes with it.
  expect(keyText({ code: ' ', pin: '1234' })).toBe('');
  expect(saleStateOf({ reference: 'r', status: 'failed', failureReason: 'no stock' })).toEqual({
    kind: 'refused',
    detail: 'failed: no stock',
  });
});
