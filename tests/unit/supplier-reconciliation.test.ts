// Supplier reconciliation's rules on given facts: what a sale in a supplier's record means
// beside the unit its reference names, and what may be done about an orphan by itself.
import { findingsOf, orphanRemedy, type SaleFacts, type UnitFacts } from '../../domain/supplier-reconciliation';

const SUPPLIER = 'sup-1';
const sale = (extra: Partial<SaleFacts> = {}): SaleFacts => ({
  reference: 'u-1',
  transactionId: 'SUP-1',
  state: 'succeeded',
  status: 'succeeded',
  costMinor: 1000,
  currency: 'CNY',
  ...extra,
});
const unit = (extra: Partial<UnitFacts> = {}): UnitFacts => ({
  unitId: 'u-1',
  orderId: 'o-1',
  status: 'delivered',
  supplierId: SUPPLIER,
  supplierRef: 'SUP-1',
  costMinor: 1000,
  kind: 'card_key',
  currency: 'CNY',
  ...extra,
});
const kinds = (found: ReturnType<typeof findingsOf>) => found?.map((f) => f.kind) ?? null;

test('a sale its delivered unit holds at the recorded cost is no finding; a failed or cancelled sale never is', () => {
  expect(findingsOf(sale(), unit(), SUPPLIER)).toEqual([]);
  expect(findingsOf(sale({ state: 'void', status: 'failed' }), undefined, SUPPLIER)).toEqual([]);
  expect(findingsOf(sale({ state: 'void' }), unit({ supplierId: 'other' }), SUPPLIER)).toEqual([]);
  expect(findingsOf(sale(), unit({ status: 'replaced' }), SUPPLIER)).toEqual([]);
});

test('a unit still being fulfilled leaves the sale for a later round, whatever it holds', () => {
  expect(findingsOf(sale(), unit({ status: 'pending', supplierRef: null, supplierId: null }), SUPPLIER)).toBeNull();
  expect(findingsOf(sale(), unit({ status: 'reserved', supplierId: 'other' }), SUPPLIER)).toBeNull();
  expect(findingsOf(sale({ state: 'pending' }), unit({ status: 'pending' }), SUPPLIER)).toBeNull();
});

test('a sale no unit holds is an orphan: no such unit, another source, another sale of the same supplier', () => {
  expect(findingsOf(sale(), undefined, SUPPLIER)).toEqual([
    { kind: 'orphan', detail: 'no unit of the platform has this reference' },
  ]);
  expect(findingsOf(sale(), unit({ supplierId: 'other', supplierRef: 'X-9' }), SUPPLIER)).toEqual([
    { kind: 'orphan', detail: 'the unit is delivered and holds another supplier’s sale' },
  ]);
  // The same reference sold twice by one supplier (an identifier check that is not atomic).
  expect(kinds(findingsOf(sale({ transactionId: 'SUP-2' }), unit(), SUPPLIER))).toEqual(['orphan']);
  expect(
    kinds(findingsOf(sale(), unit({ status: 'refunded', supplierId: null, supplierRef: null }), SUPPLIER)),
  ).toEqual(['orphan']);
  expect(kinds(findingsOf(sale({ state: 'pending' }), undefined, SUPPLIER))).toEqual(['orphan']);
});

test('a sale for a refunded unit is found; a released card key is paid-for stock, a released top-up is not', () => {
  expect(kinds(findingsOf(sale(), unit({ status: 'refunded' }), SUPPLIER))).toEqual(['unit_refunded']);
  expect(findingsOf(sale(), unit({ status: 'released' }), SUPPLIER)).toEqual([]);
  expect(kinds(findingsOf(sale(), unit({ status: 'released', kind: 'direct_topup' }), SUPPLIER))).toEqual([
    'unit_refunded',
  ]);
});

test('a cost other than the recorded one is found, unless the currencies differ or a cost is unknown', () => {
  expect(findingsOf(sale({ costMinor: 1234 }), unit(), SUPPLIER)).toEqual([
    { kind: 'cost_differs', detail: 'the supplier bills 1234, the platform recorded 1000' },
  ]);
  expect(kinds(findingsOf(sale({ costMinor: 900 }), unit({ status: 'refunded' }), SUPPLIER))).toEqual([
    'unit_refunded',
    'cost_differs',
  ]);
  expect(findingsOf(sale({ costMinor: 1234, currency: 'USD' }), unit(), SUPPLIER)).toEqual([]);
  expect(findingsOf(sale({ costMinor: undefined }), unit(), SUPPLIER)).toEqual([]);
  expect(findingsOf(sale({ costMinor: 1234 }), unit({ costMinor: null }), SUPPLIER)).toEqual([]);
});

test('an orphan is cancelled while pending, disputed once sold, and a credited top-up is left to a person', () => {
  expect(orphanRemedy(sale({ state: 'pending' }), undefined)).toBe('cancel');
  expect(orphanRemedy(sale(), undefined)).toBe('dispute');
  expect(orphanRemedy(sale(), unit({ supplierId: 'other' }))).toBe('dispute');
  expect(orphanRemedy(sale(), unit({ kind: 'direct_topup' }))).toBe('none');
  expect(orphanRemedy(sale({ state: 'pending' }), unit({ kind: 'direct_topup' }))).toBe('cancel');
});
