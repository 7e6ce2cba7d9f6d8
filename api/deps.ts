import type { Client as TemporalClient } from '@temporalio/client';
import type { Config } from '../infra/config';
import type { Keyring } from '../infra/crypto';
import type { Db } from '../infra/db';
import type { Logger } from '../infra/logger';
import type { OrderStarts } from './order-starts';

/** The long-lived parts an API process holds: one of each for its lifetime. */
export interface ApiDeps {
  config: Config;
  db: Db;
  temporal: TemporalClient;
  keyring: Keyring;
  logger: Logger;
  orderStarts: OrderStarts;
}
