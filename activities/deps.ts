import type { Config } from '../infra/config';
import type { Keyring } from '../infra/crypto';
import type { Db } from '../infra/db';
import type { Logger } from '../infra/logger';

/** What activities are built over; tests pass the same real parts the worker does. */
export interface ActivityDeps {
  db: Db;
  keyring: Keyring;
  config: Config;
  logger: Logger;
  /** Names the worker process in rows it writes (host:pid). */
  workerIdentity: string;
}
