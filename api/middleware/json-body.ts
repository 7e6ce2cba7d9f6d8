import type { IncomingMessage } from 'node:http';
import express, { type RequestHandler } from 'express';
import { Problem, problems } from '../problem';

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
  express.json({ limit: BODY_LIMIT, strict: true, type: 'application/json', verify: refuseInexactNumbers }),
];

/**
 * Every number this API takes is an integer (minor units, quantities). JSON.parse would
 * silently turn 1.0000000000000001 into the integer 1 and 2^53 + 1 into 2^53, and the
 * schema would take them. So the raw body is read first: a literal written with a fraction
 * or an exponent that parses to an integer, or an integer beyond 2^53 - 1, is refused.
 * (1.5 parses exactly and is left to the schema, which refuses it as not an integer.)
 */
function refuseInexactNumbers(req: IncomingMessage & { rawBody?: string }, _res: unknown, raw: Buffer): void {
  const text = raw.toString('utf8');
  req.rawBody = text;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      const token = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))?.[0] ?? c;
      const value = Number(token);
      const written = /[.eE]/.test(token);
      if ((written && Number.isInteger(value)) || (!written && !Number.isSafeInteger(value))) {
        throw new Problem(422, 'inexact_number', `${token.slice(0, 40)} is not an integer this API can take exactly`);
      }
      i += token.length - 1;
    }
  }
}
