// The one way adapters talk to suppliers: JSON over the outbound guard (SSRF checks, timeout),
// with every failure that proves nothing turned into SupplierUnavailable.
import { type OutboundAllowList, type OutboundResponse, sendOutbound } from '../../../infra/outbound-url';
import { SupplierUnavailable } from './types';

export interface SupplierHttp {
  allow: OutboundAllowList;
  timeoutMs: number;
}

export interface JsonResponse {
  status: number;
  json: unknown;
}

/**
 * Sends one request. A network error, a timeout or a 5xx becomes SupplierUnavailable,
 * ambiguous when the request could have changed something (`mutates`): the supplier may have
 * acted before the connection or its answer was lost. Any other status is returned.
 */
export async function supplierRequest(
  http: SupplierHttp,
  url: string,
  request: { method: string; body?: string; headers: Record<string, string>; mutates: boolean },
): Promise<JsonResponse> {
  let response: OutboundResponse;
  try {
    response = await sendOutbound(url, request, { allow: http.allow, timeoutMs: http.timeoutMs });
  } catch (err) {
    const reason =
      err instanceof Error
        ? err.name === 'AbortError' || err.name === 'TimeoutError'
          ? 'timed out'
          : err.message
        : String(err);
    throw new SupplierUnavailable(`${request.method} ${new URL(url).pathname}: ${reason}`, request.mutates);
  }
  if (response.status >= 500) {
    throw new SupplierUnavailable(
      `${request.method} ${new URL(url).pathname}: answered ${response.status}`,
      request.mutates,
    );
  }
  let json: unknown = null;
  try {
    json = response.body ? JSON.parse(response.body) : null;
  } catch {
    throw new SupplierUnavailable(
      `${request.method} ${new URL(url).pathname}: answered ${response.status} with a body that is not JSON`,
      request.mutates,
    );
  }
  return { status: response.status, json };
}

/** Joins a base URL (which may have a path) and a path relative to it. */
export function urlOf(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}
