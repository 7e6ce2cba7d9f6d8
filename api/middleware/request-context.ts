import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../../infra/logger';

const INCOMING_ID = /^[\w.:-]{1,128}$/;

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
      // The route pattern, not the URL: claim tokens travel in the path and must not be logged.
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : '(unmatched)';
      req.log.info(
        {
          method: req.method,
          route,
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
