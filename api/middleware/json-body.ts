import express, { type RequestHandler } from 'express';
import { problems } from '../problem';

export const BODY_LIMIT = '1mb';

function hasBody(req: Parameters<RequestHandler>[0]): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** JSON bodies only: any other content type is 415, bad JSON 400, more than 1 MB 413. */
export const jsonBody: RequestHandler[] = [
  (req, _res, next) => {
    if (hasBody(req) && !req.is('application/json')) throw problems.unsupportedMediaType();
    next();
  },
  express.json({ limit: BODY_LIMIT, strict: true, type: 'application/json' }),
];
