// The console's one way to the platform: the public API under /v1 with the operator's key.
// Errors arrive as problem+json; they become ApiError with the stable `code` the UI switches on.
import { session } from './session';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = session.key();
  return { ...(key ? { authorization: `Bearer ${key}` } : {}), ...extra };
}

async function send(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<Response> {
  const res = await fetch(path, {
    method,
    headers: headers({ accept, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.ok) return res;
  let problem: { code?: string; title?: string; errors?: { path: string; message: string }[] } = {};
  try {
    problem = (await res.json()) as typeof problem;
  } catch {
    // not problem+json (a proxy's page): the status says enough
  }
  throw new ApiError(res.status, problem.code ?? `http_${res.status}`, problem.title ?? res.statusText, problem.errors);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, body);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});

/** A report as CSV, saved under `filename` through a temporary object URL (no key in any URL). */
export async function downloadCsv(path: string, filename: string): Promise<void> {
  const res = await send('GET', path, undefined, 'text/csv');
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * A server-sent event stream read with fetch (EventSource cannot send a bearer key). Calls
 * `onEvent` for each event; resolves when the stream ends; `signal` stops it.
 */
export async function readEvents(
  path: string,
  signal: AbortSignal,
  onEvent: (event: string, data: string) => void,
): Promise<void> {
  const res = await send('GET', path, undefined, 'text/event-stream');
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  signal.addEventListener('abort', () => void reader.cancel().catch(() => undefined));
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) onEvent(event, data.join('\n'));
    }
  }
}
