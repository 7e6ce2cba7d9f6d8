// Worker process: `npm run worker`. Stops polling on SIGINT/SIGTERM, drains in-flight
// tasks, then closes its connections.
import { hostname } from 'node:os';
import { NativeConnection } from '@temporalio/worker';
import { loadConfigOrExit } from '../infra/config';
import { keyringFrom } from '../infra/crypto';
import { closeDb, createDb } from '../infra/db';
import { createLogger } from '../infra/logger';
import { installTemporalRuntime } from '../infra/temporal-logging';
import { connectTemporal } from '../infra/temporal';
import { createFulfillmentWorker } from './fulfillment-worker';
import { ensureCatalogSyncSchedule, ensureSupplierReconciliationSchedule } from './schedules';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'worker' });
  installTemporalRuntime(logger);
  const db = createDb(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const worker = await createFulfillmentWorker({
      deps: {
        db,
        config,
        logger,
        keyring: keyringFrom(config.KEY_ENCRYPTION_KEY_ID, config.KEY_ENCRYPTION_KEY),
        workerIdentity: `${hostname()}:${process.pid}`,
      },
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
    });
    const client = await connectTemporal(config);
    await ensureCatalogSyncSchedule(client, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      everyMs: config.CATALOG_SYNC_INTERVAL_MS,
    });
    await ensureSupplierReconciliationSchedule(client, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      everyMs: config.SUPPLIER_RECONCILIATION_INTERVAL_MS,
    });
    await client.connection.close();
    logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker started');
    // The SDK's runtime turns SIGINT/SIGTERM into a graceful shutdown; run() resolves after draining.
    await worker.run();
    logger.info('worker stopped');
  } finally {
    await connection.close();
    await closeDb(db);
  }
}

main().catch((err) => {
  process.stderr.write(`worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
