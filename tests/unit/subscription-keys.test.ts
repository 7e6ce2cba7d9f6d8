// A period order's external id is read back by the timeline (store/subscriptions/order-period.ts):
// every id subscriptionKeys.periodOrder writes names its subscription and period, and ids of
// other shapes name none.
import fc from 'fast-check';
import { periodNamedBy, subscriptionKeys } from '../../domain/subscriptions/status';

test('every period order id names its subscription and period, whatever the attempt', () => {
  fc.assert(
    fc.property(
      fc.uuid(),
      fc.integer({ min: 1, max: 999_999_999 }),
      fc.integer({ min: 1, max: 50 }),
      (id, period, attempt) => {
        expect(periodNamedBy(subscriptionKeys.periodOrder(id, period, attempt))).toEqual({
          subscriptionId: id,
          period,
        });
      },
    ),
  );
});

test.each([
  'order-1',
  'subscription:not-a-uuid:1',
  'subscription:927e4f79-16fd-4c64-a45c-b58052595c34',
  'subscription:927E4F79-16FD-4C64-A45C-B58052595C34:1',
  'subscription:927e4f79-16fd-4c64-a45c-b58052595c34:1:',
  'subscription:927e4f79-16fd-4c64-a45c-b58052595c34:1234567890',
  'x-subscription:927e4f79-16fd-4c64-a45c-b58052595c34:1',
])('%s names no period', (externalOrderId) => {
  expect(periodNamedBy(externalOrderId)).toBeNull();
});
