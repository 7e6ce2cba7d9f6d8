import type { ErrorRequestHandler, RequestHandler } from 'express';
import { Problem, problems } from '../problem';
import { loggablePath } from './request-context';

export function sendProblem(res: Parameters<RequestHandler>[1], problem: Problem, instance: string): void {
  res
    .status(problem.status)
    .type('application/problem+json')
    .send(JSON.stringify(problem.toJSON(instance, String(res.locals.requestId ?? ''))));
}

export const notFoundRoute: RequestHandler = (_req, _res, next) => next(problems.routeNotFound());

// Errors that already carry a 4xx status (from body-parser, Express' path decoding, an
// aborted upload) are the client's: 4xx problem+json with a stable code, logged as a warning.
const CLIENT_ERROR_CODES: Record<string, string> = {
  'request.aborted': 'request_aborted',
  'request.size.invalid': 'invalid_body_length',
  'stream.encoding.set': 'invalid_body',
  'stream.not.readable': 'invalid_body',
};

function clientProblem(err: { status?: unknown; statusCode?: unknown; type?: unknown } | null): Problem | undefined {
  const status = Number(err?.status ?? err?.statusCode);
  if (!(status >= 400 && status < 500)) return undefined;
  if (err instanceof URIError) return new Problem(400, 'invalid_path', 'The path is not valid percent-encoding');
  const code = CLIENT_ERROR_CODES[String(err?.type)] ?? (status === 400 ? 'bad_request' : `http_${status}`);
  return new Problem(status, code, status === 400 ? 'The request could not be read' : 'The request was refused');
}

/** Maps body-parser failures and Problems to 4xx; anything else is a bug: 500, logged with its stack. */
export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  let problem: Problem;
  if (err instanceof Problem) problem = err;
  else if (err?.type === 'entity.parse.failed') problem = problems.invalidJson();
  else if (err?.type === 'entity.too.large') problem = problems.payloadTooLarge();
  else if (err?.type === 'encoding.unsupported' || err?.type === 'charset.unsupported')
    problem = problems.unsupportedMediaType();
  else {
    const client = clientProblem(err);
    if (client) {
      problem = client;
      req.log.warn({ code: client.code, error: err instanceof Error ? err.message : String(err) }, 'client error');
    } else {
      problem = problems.internal();
      req.log.error({ err }, 'unhandled error');
    }
  }
  if (res.headersSent) return;
  sendProblem(res, problem, loggablePath(req.originalUrl));
};
