// A recording proxy in front of stripe-mock, for the payment tests: it keeps every call the
// platform makes (path, Idempotency-Key, form fields) — stripe-mock keeps no state, so these
// records and the platform's own are what prove a call was made once — and it can break the
// next matching call: answer with an error, lose the answer after stripe-mock made it, or
// hold the call until the test lets it through. And since stripe-mock answers every
// PaymentIntent with its one fixture, a test can say what a PaymentIntent is now: the
// platform's read-back (GET /v1/payment_intents/:id) then answers that state, as it stood when
// the call arrived (a held call answers what was true before it was held, like a slow reply).
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StripeCall {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  form: URLSearchParams;
}

type Fault =
  | { kind: 'answer'; status: number; body: unknown }
  | { kind: 'lose-answer' }
  | { kind: 'hold'; arrived: () => void; released: Promise<void> };

/** Fields of a PaymentIntent as the provider holds it; `latest_charge` fields go into the expanded charge. */
export type IntentState = Record<string, unknown> & { latest_charge?: Record<string, unknown> | null };

export interface StripeProxy {
  url: string;
  calls: StripeCall[];
  /** From now on GET /v1/payment_intents/:id answers stripe-mock's intent with `state` over it. */
  answerIntent(intentId: string, state: IntentState): void;
  callsTo(pathPattern: RegExp): StripeCall[];
  /** The next call whose path matches gets `fault` instead of (or after) stripe-mock's answer. */
  breakNext(
    pathPattern: RegExp,
    fault: { kind: 'answer'; status: number; body: unknown } | { kind: 'lose-answer' },
  ): void;
  /** Holds the next matching call until `release()`; `arrived` resolves when it comes. */
  holdNext(pathPattern: RegExp): { arrived: Promise<void>; release(): void };
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const INTENT_READ = /^\/v1\/payment_intents\/([^/]+)$/;

/** stripe-mock's answer with the test's state over it (the id is the one asked for). */
function withState(text: string, intentId: string, state: IntentState): string {
  const intent = JSON.parse(text) as Record<string, unknown>;
  const { latest_charge: charge, ...fields } = state;
  const merged: Record<string, unknown> = { ...intent, ...fields, id: intentId };
  if (charge === null) merged.latest_charge = null;
  else if (charge) {
    const own = intent.latest_charge;
    merged.latest_charge = own && typeof own === 'object' ? { ...own, ...charge, payment_intent: intentId } : own;
  }
  return JSON.stringify(merged);
}

export async function startStripeProxy(target: string): Promise<StripeProxy> {
  const calls: StripeCall[] = [];
  const faults: { pattern: RegExp; fault: Fault }[] = [];
  const intents = new Map<string, IntentState>();

  async function forward(req: IncomingMessage, body: string) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && !['host', 'content-length', 'connection'].includes(name)) headers[name] = value;
    }
    const init: RequestInit = { method: req.method ?? 'GET', headers };
    if (req.method !== 'GET' && req.method !== 'DELETE') init.body = body;
    return fetch(`${target}${req.url}`, init);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const body = await bodyOf(req);
    const path = (req.url ?? '/').split('?')[0]!;
    const idempotencyKey = req.headers['idempotency-key'];
    calls.push({
      method: req.method ?? 'GET',
      path,
      idempotencyKey: typeof idempotencyKey === 'string' ? idempotencyKey : undefined,
      form: new URLSearchParams(body),
    });
    // The state as it is when the call arrives, whatever the test sets while it is held.
    const read = req.method === 'GET' ? INTENT_READ.exec(path)?.[1] : undefined;
    const state = read ? intents.get(read) : undefined;
    const index = faults.findIndex((f) => f.pattern.test(path));
    const fault = index >= 0 ? faults.splice(index, 1)[0]!.fault : undefined;
    if (fault?.kind === 'answer') {
      res.writeHead(fault.status, { 'content-type': 'application/json' }).end(JSON.stringify(fault.body));
      return;
    }
    if (fault?.kind === 'hold') {
      fault.arrived();
      await fault.released;
    }
    const answer = await forward(req, body);
    const own = await answer.text();
    const text = state && answer.ok ? withState(own, read!, state) : own;
    if (fault?.kind === 'lose-answer') {
      req.socket.destroy();
      return;
    }
    res
      .writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' })
      .end(text);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(502).end(String(err));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    answerIntent(intentId, state) {
      intents.set(intentId, structuredClone(state));
    },
    callsTo: (pattern) => calls.filter((c) => pattern.test(c.path)),
    breakNext(pattern, fault) {
      faults.push({ pattern, fault });
    },
    holdNext(pattern) {
      let arrived!: () => void;
      let release!: () => void;
      const arrivedPromise = new Promise<void>((r) => (arrived = r));
      const released = new Promise<void>((r) => (release = r));
      faults.push({ pattern, fault: { kind: 'hold', arrived, released } });
      return { arrived: arrivedPromise, release };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
