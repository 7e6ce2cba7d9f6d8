// API process: `npm run api`. Holds one Prisma and one Temporal client for its lifetime;
// on SIGINT/SIGTERM it stops accepting, finishes in-flight requests and workflow starts,
// then closes both.
import { once } from 'node:events';
import type { Server } from 'node:http';
import { loadConfigOrExit } from '../infra/config';
import { keyringFrom } from '../infra/crypto';
import { closeDb, createDb } from '../infra/db';
import { createLogger } from '../infra/logger';
import { connectTemporal } from '../infra/temporal';
import { ensureClientWithKey } from '../store/clients';
import { createApp } from './app';
import { createOrderStarts } from './order-starts';
import { createSubscriptionStarts } from './subscription-starts';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'api' });
  const db = createDb(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const keyring = keyringFrom(config.KEY_ENCRYPTION_KEY_ID, config.KEY_ENCRYPTION_KEY);
  const temporal = await connectTemporal(config);
  if (config.BOOTSTRAP_ADMIN_KEY) {
    await ensureClientWithKey(
      db,
      keyring,
      { name: 'bootstrap admin', role: 'admin' },
      config.BOOTSTRAP_ADMIN_KEY,
      'BOOTSTRAP_ADMIN_KEY',
    );
  }

  const orderStarts = createOrderStarts({ db, temporal, config, logger });
  const stopSweepingOrders = orderStarts.sweepPeriodically();
  const stopSweepingSubscriptions = createSubscriptionStarts({ db, temporal, config, logger }).sweepPeriodically();
  const app = createApp({ config, db, temporal, keyring, logger, orderStarts });
  const server: Server = app.listen(config.API_PORT, config.API_HOST);
  await once(server, 'listening');
  logger.info({ url: `http://${config.API_HOST}:${config.API_PORT}` }, 'api listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'api stopping');
    server.close();
    server.closeIdleConnections();
    await once(server, 'close');
    stopSweepingOrders();
    stopSweepingSubscriptions();
    await orderStarts.drain();
    await temporal.connection.close();
    await closeDb(db);
    logger.info('api stopped');
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stop(signal).then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, 'api failed to stop cleanly');
          process.exit(1);
        },
      );
    });
  }
}

main().catch((err) => {
  process.stderr.write(`api failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
