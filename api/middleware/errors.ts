import type { ErrorRequestHandler, RequestHandler } from 'express';
import { Problem, problems } from '../problem';

export function sendProblem(res: Parameters<RequestHandler>[1], problem: Problem, instance: string): void {
  res
    .status(problem.status)
    .type('application/problem+json')
    .send(JSON.stringify(problem.toJSON(instance, String(res.locals.requestId ?? ''))));
}

export const notFoundRoute: RequestHandler = (_req, _res, next) => next(problems.routeNotFound());

/** Maps body-parser failures and Problems to 4xx; anything else is a bug: 500, logged with its stack. */
export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  let problem: Problem;
  if (err instanceof Problem) problem = err;
  else if (err?.type === 'entity.parse.failed') problem = problems.invalidJson();
  else if (err?.type === 'entity.too.large') problem = problems.payloadTooLarge();
  else if (err?.type === 'encoding.unsupported' || err?.type === 'charset.unsupported')
    problem = problems.unsupportedMediaType();
  else {
    problem = problems.internal();
    req.log.error({ err }, 'unhandled error');
  }
  if (res.headersSent) return;
  sendProblem(res, problem, req.originalUrl.split('?')[0] ?? '/');
};
