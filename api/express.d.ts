import type { Client } from '@prisma/client';
import type { Logger } from '../infra/logger';

declare global {
  namespace Express {
    interface Request {
      log: Logger;
      client?: Client;
      /** The JSON body as received: signatures are computed over these bytes. */
      rawBody?: string;
    }
  }
}

export {};
