import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../../infra/logger';

const INCOMING_ID = /^[\w.:-]{1,128}$/;

/**
 * The path without its query, and with claim tokens (secrets that travel in the path)
 * masked whatever the case or repeated slashes (routing ignores both).
 */
export function loggablePath(url: string): string {
  const path = (url.split('?')[0] ?? '/').replace(/\/{2,}/g, '/');
  return path.replace(/^\/v1\/claims\/[^/]*/i, '/v1/claims/:token');
}

/** Gives every request an id (honouring a sane incoming X-Request-Id) and a child logger. */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && INCOMING_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    req.log = logger.child({ requestId });
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      req.log.info(
        {
          method: req.method,
          path: loggablePath(req.originalUrl),
          status: res.statusCode,
          clientId: req.client?.id,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    });
    next();
  };
}
