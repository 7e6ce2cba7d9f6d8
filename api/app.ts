import express, { type Express } from 'express';
import { clientBucketOf } from '../domain/ip-address';
import { consoleRouter } from './console-static';
import type { ApiDeps } from './deps';
import { authenticate, callerOf } from './middleware/auth';
import { clientAddress, clientAddressOf } from './middleware/client-address';
import { errorHandler, notFoundRoute } from './middleware/errors';
import { jsonBody } from './middleware/json-body';
import { rateLimit } from './middleware/rate-limit';
import { requestContext } from './middleware/request-context';
import { balanceRouter, topupsRouter } from './routes/balance';
import { batchesRouter } from './routes/batches';
import { claimsRouter } from './routes/claims';
import { clientsRouter } from './routes/clients';
import { compensationsRouter } from './routes/compensations';
import { healthRouter } from './routes/health';
import { inventoryRouter } from './routes/inventory';
import { meRouter } from './routes/me';
import { metricsRouter } from './routes/metrics';
import { orderLookupRouter } from './routes/order-lookup';
import { ordersRouter } from './routes/orders';
import { probesRouter } from './routes/probes';
import { productsRouter } from './routes/products';
import { redemptionsRouter } from './routes/redemptions';
import { refundsRouter } from './routes/refunds';
import { unitCompensationsRouter } from './routes/unit-compensations';
import { reportsRouter } from './routes/reports';
import { riskListsRouter } from './routes/risk-lists';
import { riskPoliciesRouter } from './routes/risk-policies';
import { reviewClaimRouter, reviewStreamRouter } from './routes/review-claims';
import { riskReviewsRouter } from './routes/risk-reviews';
import { subscriptionCancelLinkRouter, subscriptionsRouter } from './routes/subscriptions';
import { priceChangesRouter } from './routes/price-changes';
import { paymentWebhooksRouter } from './routes/payment-webhooks';
import { supplierCallbacksRouter } from './routes/supplier-callbacks';
import { productRoutesRouter, suppliersRouter } from './routes/suppliers';
import { unitRevealRouter } from './routes/unit-reveal';

export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestContext(deps.logger));
  app.use(healthRouter(deps));
  app.use(metricsRouter(deps));
  // The operator console: static files; it talks to /v1 with the operator's own key.
  app.use('/console', consoleRouter(deps.config));
  app.use(jsonBody);

  // The claim link is the buyer's: the token in its path is the only credential, so each
  // client gets few tries (bad tokens count too). A client is its canonical address, or its
  // /64 for IPv6 (one host can use any address of its subnet).
  const claimsPerIp = rateLimit({
    db: deps.db,
    name: 'claim-ip',
    limit: deps.config.RATE_LIMIT_CLAIM_IP_REQUESTS,
    windowMs: deps.config.RATE_LIMIT_CLAIM_IP_WINDOW_MS,
    keyOf: (req) => clientBucketOf(clientAddressOf(req)),
  });
  app.use('/v1/claims', clientAddress(), claimsPerIp, claimsRouter(deps));
  // The buyer's cancel link: the same kind of credential as the claim link, rate-limited alike.
  app.use('/v1/subscription-cancel', clientAddress(), claimsPerIp, subscriptionCancelLinkRouter(deps));
  // A supplier's callback: its request signature is the credential.
  app.use('/v1/supplier-callbacks', supplierCallbacksRouter(deps));
  // A payment provider's webhook: its signature, under the endpoint's signing secret, is the credential.
  app.use('/v1/payment-webhooks', paymentWebhooksRouter(deps));

  // Everything below needs an API key; each router states the roles it admits.
  const v1 = express.Router();
  v1.use(authenticate(deps.db));
  v1.use(
    rateLimit({
      db: deps.db,
      name: 'client',
      limit: deps.config.RATE_LIMIT_CLIENT_REQUESTS,
      windowMs: deps.config.RATE_LIMIT_CLIENT_WINDOW_MS,
      keyOf: (req) => callerOf(req).id,
    }),
  );
  v1.use('/clients/:id/topups', topupsRouter(deps));
  v1.use('/clients', clientsRouter(deps));
  v1.use('/me', meRouter(deps));
  v1.use('/suppliers', suppliersRouter(deps));
  v1.use('/products/:sku/routes', productRoutesRouter(deps));
  v1.use('/products/:sku/price-changes', priceChangesRouter(deps));
  v1.use('/products', productsRouter(deps));
  // Before the inventory router: it serves the import, POST /v1/inventory/batches.
  v1.use('/inventory/batches', batchesRouter(deps));
  v1.use('/inventory', inventoryRouter(deps));
  v1.use('/balance', balanceRouter(deps));
  v1.use('/orders/:id/refunds', refundsRouter(deps));
  v1.use('/orders/:id/units/:unitId/compensations', unitCompensationsRouter(deps));
  v1.use('/orders/:id/units/:unitId/reveal', unitRevealRouter(deps));
  // Before the orders router: searches by buyer or account, by code, and the timeline.
  v1.use('/orders', orderLookupRouter(deps));
  v1.use('/orders', ordersRouter(deps));
  v1.use('/subscriptions', subscriptionsRouter(deps));
  v1.use('/compensations', compensationsRouter(deps));
  v1.use('/probes', probesRouter(deps));
  v1.use('/reports', reportsRouter(deps));
  v1.use('/redemptions', redemptionsRouter(deps));
  v1.use('/risk/policies', riskPoliciesRouter(deps));
  v1.use('/risk/lists', riskListsRouter(deps));
  v1.use('/risk/reviews/stream', reviewStreamRouter(deps));
  v1.use('/risk/reviews/:id/claim', reviewClaimRouter(deps));
  v1.use('/risk/reviews', riskReviewsRouter(deps));
  app.use('/v1', v1);

  app.use(notFoundRoute);
  app.use(errorHandler);
  return app;
}
