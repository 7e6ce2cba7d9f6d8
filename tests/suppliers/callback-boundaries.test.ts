// Issue 29: what a correctly signed supplier callback may carry. A value the platform cannot
// store or show as text — a cost beyond any route's, NUL, control or bidi characters in the
// transaction id or the failure reason, a transaction id of any length — is refused at the
// boundary: 422 problem+json, nothing written, the unit still waiting; the supplier's correct
// callback afterwards completes it. (Before: 500s from PostgreSQL, or the text stored.)
import { MAX_COST_MINOR } from '../../domain/suppliers';
import { waitForTerminal } from '../support/orders';
import { stackWithSuppliers } from '../support/suppliers';
import { pendingAtAsyncSupplier } from './pending-sale';

jest.setTimeout(90_000);

const env = stackWithSuppliers();

const sold = (reference: string, fields: Record<string, unknown>) => ({
  reference,
  status: 'succeeded',
  transactionId: 'SUP-1',
  costMinor: 900,
  currency: 'CNY',
  key: { code: 'SIM-GOOD-KEY-0001' },
  ...fields,
});
const failed = (reference: string, failureReason: unknown) => ({ reference, status: 'failed', failureReason });

test('signed callbacks with values outside what the platform stores are refused with 422, and write nothing', async () => {
  const { unit, slow, orderId, api, callbackUrl } = await pendingAtAsyncSupplier(env);
  const ref = unit.id;
  const bodies: Record<string, object> = {
    'a cost of 2^31 minor units': sold(ref, { costMinor: 2 ** 31 }),
    'a cost beyond a safe integer': sold(ref, { costMinor: 2 ** 53 + 2 }),
    'a cost one above the largest a route may have': sold(ref, { costMinor: MAX_COST_MINOR + 1 }),
    'a NUL in the failure reason': failed(ref, 'out\u0000of stock'),
    'a control character in the failure reason': failed(ref, 'out\u001bof stock'),
    'a bidi override in the failure reason': failed(ref, 'refused \u202Etxt.exe'),
    'a NUL in the transaction id': sold(ref, { transactionId: 'SUP\u00001' }),
    'a zero-width space in the transaction id': sold(ref, { transactionId: 'SUP-\u200B1' }),
    'a transaction id of 10,000 characters': sold(ref, { transactionId: 'T'.repeat(10_000) }),
  };
  const written = async () => ({
    attempts: await env.stack.db.sourcingAttempt.count({ where: { unitId: ref } }),
    keys: await env.stack.db.cardKey.count({ where: { productId: unit.productId } }),
    unit: (await env.stack.db.orderUnit.findUniqueOrThrow({ where: { id: ref } })).status,
  });
  const before = await written();
  expect(before.unit).toBe('pending');
  const answers: Record<string, unknown> = {};
  for (const [what, body] of Object.entries(bodies)) {
    const answer = await slow.sendSigned(callbackUrl, JSON.stringify(body));
    answers[what] = {
      status: answer.status,
      problem: answer.contentType?.startsWith('application/problem+json') ?? false,
      code: answer.status === 422 ? JSON.parse(answer.body).code : answer.body.slice(0, 200),
    };
  }
  // A number JSON cannot carry exactly is refused by the body parser already, as on every route.
  const codeFor = (what: string) => (what === 'a cost beyond a safe integer' ? 'inexact_number' : 'invalid_callback');
  expect(answers).toEqual(
    Object.fromEntries(Object.keys(bodies).map((what) => [what, { status: 422, problem: true, code: codeFor(what) }])),
  );
  expect(await written()).toEqual(before);

  // The supplier's real answer still completes the unit.
  const completed = await slow.complete(ref, { costMinor: 900 });
  expect(completed.status).toBe(204);
  const order = await waitForTerminal(api, orderId, 30_000);
  expect(order.status).toBe('delivered');
  expect(await slow.sold()).toEqual([ref]);
});
