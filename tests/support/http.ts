// A tiny JSON client over real HTTP (fetch), so tests exercise the same stack callers do.
export interface HttpResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  key?: string;
  headers?: Record<string, string>;
  /** Sent as-is instead of JSON-encoding `body`. */
  raw?: string | Buffer;
}

export async function request<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<HttpResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let payload: string | Buffer | undefined = options.raw;
  if (payload === undefined && body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body: payload });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // leave as text
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** Binds a base URL and an API key. */
export function clientFor(baseUrl: string, key?: string) {
  return {
    get: <T = any>(path: string, options: RequestOptions = {}) =>
      request<T>(baseUrl, 'GET', path, undefined, { key, ...options }),
    post: <T = any>(path: string, body?: unknown, options: RequestOptions = {}) =>
      request<T>(baseUrl, 'POST', path, body, { key, ...options }),
    put: <T = any>(path: string, body?: unknown, options: RequestOptions = {}) =>
      request<T>(baseUrl, 'PUT', path, body, { key, ...options }),
    patch: <T = any>(path: string, body?: unknown, options: RequestOptions = {}) =>
      request<T>(baseUrl, 'PATCH', path, body, { key, ...options }),
  };
}

export function expectProblem(res: HttpResponse, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
}
