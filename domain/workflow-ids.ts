// Workflow ids derive from business ids, so a retried request finds the workflow it started.
export const workflowIds = {
  probe: (probeId: string) => `probe:${probeId}`,
  /** One refund per order and set of units (`all` for every delivered unit). */
  refund: (orderId: string, units: string) => `refund:${orderId}:${units}`,
  order: (clientId: string, externalOrderId: string) => `order:${clientId}:${externalOrderId}`,
  /** One renewal workflow per subscription, for its whole life (continue-as-new keeps the id). */
  subscription: (clientId: string, externalSubscriptionId: string) =>
    `subscription:${clientId}:${externalSubscriptionId}`,
  /** One per announced price change: tells the product's subscriptions, then applies the price. */
  priceChange: (changeId: string) => `price-change:${changeId}`,
  /** One compensation per unit and incident (the key that failed). */
  compensation: (unitId: string, incident: string) => `compensation:${unitId}:${incident}`,
  /** One dispute per refused sale: a unit's sale at one supplier (the reference is the unit). */
  supplierDispute: (unitId: string, supplierId: string) => `supplier-dispute:${unitId}:${supplierId}`,
};
