// What the platform makes of a reference-protocol supplier's answers, where the protocol
// document had to decide (docs/supplier-protocol.md): an order answer about another
// reference proves nothing about this one; only the supplier's own 404 `not_found` lets the
// unit be bought elsewhere (a 404 page from a proxy or a wrong base URL does not); a dispute
// the supplier refuses (409) is an answer, not an outage to retry. Against a real HTTP server
// that answers what each case needs, once a request's account and signature check out.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { referenceAdapter } from '../../activities/suppliers/adapters/reference';
import { SupplierUnavailable } from '../../activities/suppliers/adapters/types';
import { parseAllowList } from '../../infra/outbound-url';
import { verifyRequest } from '../../infra/request-signature';

const CREDENTIALS = { accountId: 'acct-1', secret: 'a-supplier-secret-for-tests' };
let answer: { status: number; body: string } = { status: 200, body: '{}' };
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      // A supplier answers only what the platform signed (over the base URL's path too).
      const signed = verifyRequest(
        CREDENTIALS.secret,
        { method: req.method ?? '', path: req.url ?? '', body },
        String(req.headers['x-rights-signature']),
        Math.floor(Date.now() / 1000),
      );
      if (!signed || req.headers['x-rights-account'] !== CREDENTIALS.accountId) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"bad_signature"}');
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // A base URL with a path of its own: the signature covers it.
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gateway/v1`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const adapter = () => referenceAdapter(baseUrl, CREDENTIALS, { allow: parseAllowList('127.0.0.1'), timeoutMs: 2_000 });
const answering = (status: number, body: unknown) => {
  answer = { status, body: typeof body === 'string' ? body : JSON.stringify(body) };
};
const order = (reference: string) => ({
  reference,
  status: 'succeeded',
  transactionId: 'SUP-1',
  costMinor: 900,
  key: { code: 'CODE-1' },
});

test('an order answer about another reference is treated as no answer', async () => {
  const reference = randomUUID();
  answering(200, order(randomUUID()));
  const request = { reference, productCode: 'P', kind: 'card_key', maxCostMinor: 1500, currency: 'CNY' } as const;
  await expect(adapter().place(request)).rejects.toMatchObject({ name: 'SupplierUnavailable', ambiguous: true });
  await expect(adapter().lookup(reference, 'P', 'card_key')).rejects.toBeInstanceOf(SupplierUnavailable);
  answering(200, order(reference));
  await expect(adapter().lookup(reference, 'P', 'card_key')).resolves.toMatchObject({ kind: 'succeeded' });
});

test("only the supplier's own 404 not_found means never accepted", async () => {
  const reference = randomUUID();
  for (const notTheSupplier of ['<html>Not Found</html>', { code: 'unknown_supplier' }, '', { error: 'not found' }]) {
    answering(404, notTheSupplier);
    await expect(adapter().lookup(reference, 'P', 'card_key')).rejects.toBeInstanceOf(SupplierUnavailable);
    await expect(adapter().cancel!(reference)).rejects.toBeInstanceOf(SupplierUnavailable);
  }
  answering(404, { code: 'not_found' });
  await expect(adapter().lookup(reference, 'P', 'card_key')).resolves.toEqual({ kind: 'not_found' });
  await expect(adapter().cancel!(reference)).resolves.toEqual({ kind: 'not_found' });
});

test('a dispute is taken (200) or refused (409, 404 not_found); anything else is retried', async () => {
  const reference = randomUUID();
  answering(200, { ...order(reference), status: 'failed', failureReason: 'disputed' });
  await expect(adapter().dispute!(reference, 'bad key')).resolves.toBe(true);
  answering(409, { ...order(reference), status: 'pending' });
  await expect(adapter().dispute!(reference, 'bad key')).resolves.toBe(false);
  answering(404, { code: 'not_found' });
  await expect(adapter().dispute!(reference, 'bad key')).resolves.toBe(false);
  answering(503, { code: 'busy' });
  await expect(adapter().dispute!(reference, 'bad key')).rejects.toBeInstanceOf(SupplierUnavailable);
});
