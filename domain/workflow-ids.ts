// Workflow ids derive from business ids, so a retried request finds the workflow it started.
export const workflowIds = {
  probe: (probeId: string) => `probe:${probeId}`,
  order: (clientId: string, externalOrderId: string) => `order:${clientId}:${externalOrderId}`,
};
