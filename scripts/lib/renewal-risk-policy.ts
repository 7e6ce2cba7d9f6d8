// The risk policy patch for a product whose subscriptions renew seconds apart (the
// subscription tests and the bench's renewal sections): one buyer placing an order each
// period would trip the default velocity limits and the per-SKU norm, which tests/risk
// covers. Risk control still assesses every period's order.
export const RENEWALS_SECONDS_APART_POLICY = {
  limits: {
    velocity: {
      buyer: { '1m': null, '1h': null, '24h': null },
      device: { '1m': null, '1h': null, '24h': null },
      ip: { '1m': null, '1h': null, '24h': null },
      network: { '1m': null, '1h': null, '24h': null },
    },
    skuNormFactor: 1_000,
  },
  scores: { unknown_ip: 0, sku_above_norm: 0 },
} as const;
