// Every workflow the worker bundle registers.
export { catalogSyncWorkflow } from './catalog-sync';
export { supplierReconciliationWorkflow } from './supplier-reconciliation';
export { orderWorkflow } from './order';
export { subscriptionWorkflow } from './subscription';
export { priceChangeWorkflow } from './price-change';
export { probeWorkflow } from './probe';
export { refundWorkflow } from './refund';
export { compensationWorkflow } from './compensation';
export { supplierDisputeWorkflow } from './supplier-dispute';
