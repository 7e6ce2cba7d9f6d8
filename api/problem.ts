// The one error shape of the API: RFC 9457 problem+json with a stable machine `code`.
import type { z } from 'zod';
import { checkOutboundUrl, type OutboundAllowList } from '../infra/outbound-url';

export interface FieldError {
  path: string;
  message: string;
}

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
  }

  toJSON(instance: string, requestId: string) {
    return {
      // A URN rather than a URL: nothing is published at an address yet, and `code` is the contract.
      type: `urn:rights-platform:problem:${this.code}`,
      title: this.message,
      status: this.status,
      code: this.code,
      instance,
      requestId,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export const problems = {
  invalidJson: () => new Problem(400, 'invalid_json', 'The request body is not valid JSON'),
  unsupportedMediaType: () => new Problem(415, 'unsupported_media_type', 'Send the request body as application/json'),
  payloadTooLarge: () => new Problem(413, 'payload_too_large', 'The request body exceeds 1 MB'),
  routeNotFound: () => new Problem(404, 'route_not_found', 'No such route'),
  notFound: (what: string) => new Problem(404, 'not_found', `${what} not found`),
  unauthenticated: () => new Problem(401, 'unauthenticated', 'Send a valid API key as "Authorization: Bearer <key>"'),
  forbidden: () => new Problem(403, 'forbidden', 'Your role may not use this route'),
  validation: (errors: FieldError[]) => new Problem(422, 'validation_failed', 'The request is invalid', errors),
  internal: () => new Problem(500, 'internal_error', 'Internal server error'),
};

/** Parses with a zod schema or throws a 422 naming every bad field. */
export function parseOr422<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw problems.validation(
    result.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.') || '(body)',
      message: issue.message,
    })),
  );
}

/** Refuses, with 422 `url_not_allowed`, a URL the platform may not send requests to. */
export function outboundUrlOr422(url: string, allow: OutboundAllowList, field: string): void {
  const checked = checkOutboundUrl(url, allow);
  if (!checked.ok) {
    throw new Problem(422, 'url_not_allowed', `${field} is not allowed: ${checked.reason}`, [
      { path: field, message: checked.reason },
    ]);
  }
}
