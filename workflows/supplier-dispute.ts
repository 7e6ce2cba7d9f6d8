// One refused sale disputed at its supplier (activities/suppliers/disputes.ts): started by the
// supplier-callback endpoint when a callback delivered a sale the platform did not take, so
// the call to the supplier happens in an activity, retried, and not in the API's request.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { DisputeActivities, RefusedSale } from '../activities/suppliers/disputes';
import { messageOf } from './failures';

// The call takes up to the supplier's timeout (60 s at most). A supplier that cannot be
// reached is asked again for about ten minutes; after that the undelivered dispute
// is on record, for supplier reconciliation to find.
const calls = proxyActivities<DisputeActivities>({
  startToCloseTimeout: '70s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 12 },
});
// Recording is one database statement: retried until it passes.
const steps = proxyLocalActivities<DisputeActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumInterval: '30s' },
});

export async function supplierDisputeWorkflow(sale: RefusedSale): Promise<boolean> {
  try {
    return await calls.disputeRefusedSale(sale);
  } catch (err) {
    await steps.recordDisputeUndelivered({ ...sale, error: messageOf(err) });
    return false;
  }
}
