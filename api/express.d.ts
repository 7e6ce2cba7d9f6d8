import type { Client } from '@prisma/client';
import type { CanonicalIp } from '../domain/ip-address';
import type { Logger } from '../infra/logger';

declare global {
  namespace Express {
    interface Request {
      log: Logger;
      client?: Client;
      /** Set by middleware/client-address.ts where a route judges or limits by address. */
      clientAddress?: CanonicalIp;
      /** The JSON body as received: signatures are computed over these bytes. */
      rawBody?: string;
    }
  }
}

export {};
