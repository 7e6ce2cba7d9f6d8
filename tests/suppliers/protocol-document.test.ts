// docs/supplier-protocol.md proves its own examples: every signature example's base string,
// MAC and header are recomputed from the secret, time, method, target and body it shows; the
// callback example is one the platform verifies and reads as an order; the credentials and
// order examples pass the schemas the platform parses them with; and the order request the
// document shows is byte for byte, signature included, what the platform's adapter sends for
// the same unit (captured by a real HTTP server).
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { referenceAdapter } from '../../activities/suppliers/adapters/reference';
import { CreateSupplierBody } from '../../api/routes/suppliers';
import { parseSupplierOrder } from '../../domain/supplier-sales';
import { ReferenceCredentials } from '../../domain/suppliers';
import { hmacHex } from '../../infra/crypto';
import { parseAllowList } from '../../infra/outbound-url';
import { signRequest, verifyRequest } from '../../infra/request-signature';

const DOC = readFileSync(join(__dirname, '../../docs/supplier-protocol.md'), 'utf8');

/** The bodies of the fenced blocks whose info string is `<lang> <name>`. */
function blocks(name: string): string[] {
  const found: string[] = [];
  const fence = /^```[a-z]+ ([a-z-]+)\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(DOC); m; m = fence.exec(DOC)) if (m[1] === name) found.push(m[2]!);
  return found;
}

/** A signature example: `key: value` lines (the value may be empty, a GET's body). */
function example(block: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of block.split('\n').filter(Boolean)) {
    const m = /^([a-z0-9 ]+?):\s*(.*)$/.exec(line);
    if (!m) throw new Error(`not a field line: ${line}`);
    fields[m[1]!] = m[2]!;
  }
  return fields;
}

const examples = blocks('signature-example').map(example);

test('the document has its examples', () => {
  expect(examples.map((e) => `${e.method} ${e.target}`)).toEqual([
    'POST /api/orders',
    'GET /api/orders/6f1c2a4e-8b3d-4c7a-9e21-5d0f7b6a3c18',
    'POST /v1/supplier-callbacks/acme',
  ]);
  expect(blocks('credentials-example')).toHaveLength(1);
  expect(blocks('order-example')).toHaveLength(1);
});

test.each(examples.map((e) => [`${e.method} ${e.target}`, e] as const))(
  'signature example %s: base string, MAC and header follow from the values shown',
  (_, e) => {
    const t = Number(e.t);
    const request = { method: e.method!, path: e.target!, body: e.body! };
    expect(e['base string']).toBe(`${e.t}.${e.method}.${e.target}.${e.body}`);
    expect(e.v1).toBe(hmacHex(e.secret!, e['base string']!));
    expect(e.header).toBe(`t=${e.t},v1=${e.v1}`);
    expect(signRequest(e.secret!, request, t)).toBe(e.header);
    expect(verifyRequest(e.secret!, request, e.header!, t)).toBe(true);
    expect(verifyRequest(e.secret!, request, e.header!, t + 301)).toBe(false);
  },
);

test("the callback example is an order the platform reads, about the order example's reference", () => {
  const callback = examples.find((e) => e.target!.startsWith('/v1/supplier-callbacks/'))!;
  const shown = JSON.parse(blocks('order-example')[0]!);
  expect(JSON.parse(callback.body!)).toEqual(shown);
  expect(parseSupplierOrder(shown)).toMatchObject({
    reference: JSON.parse(examples[0]!.body!).reference,
    status: 'succeeded',
    costMinor: 1650,
    key: { code: 'ABCD-EFGH-1234', pin: '9876' },
  });
});

test('the registration example passes the API schema and the reference credentials schema', () => {
  const registration = JSON.parse(blocks('credentials-example')[0]!);
  expect(CreateSupplierBody.safeParse(registration).success).toBe(true);
  expect(ReferenceCredentials.parse(registration.credentials)).toEqual(registration.credentials);
  const secret = examples[0]!.secret;
  expect(registration.credentials.secret).toBe(secret);
});

test("the order request the document shows is exactly what the platform's adapter sends", async () => {
  const registration = JSON.parse(blocks('credentials-example')[0]!);
  const shown = examples[0]!;
  const captured: { method?: string; target?: string; body: string; headers?: IncomingHttpHeaders } = { body: '' };
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (captured.body += chunk.toString('utf8')));
    req.on('end', () => {
      Object.assign(captured, { method: req.method, target: req.url, headers: req.headers });
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ reference: JSON.parse(shown.body!).reference, status: 'pending' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const now = jest.spyOn(Date, 'now').mockReturnValue(Number(shown.t) * 1000);
  try {
    // The registration's base URL has the path /api; only the host differs here.
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}${new URL(registration.baseUrl).pathname}`;
    const adapter = referenceAdapter(base, registration.credentials, {
      allow: parseAllowList('127.0.0.1'),
      timeoutMs: 2_000,
    });
    const body = JSON.parse(shown.body!);
    await expect(
      adapter.place({
        reference: body.reference,
        productCode: body.productCode,
        kind: 'card_key',
        maxCostMinor: body.maxCostMinor,
        currency: body.currency,
        callbackUrl: body.callbackUrl,
      }),
    ).resolves.toEqual({ kind: 'pending' });
  } finally {
    now.mockRestore();
    await new Promise((resolve) => server.close(resolve));
  }
  expect(captured).toMatchObject({ method: shown.method, target: shown.target, body: shown.body });
  expect(captured.headers).toMatchObject({
    'x-rights-account': registration.credentials.accountId,
    'x-rights-signature': shown.header,
    'content-type': 'application/json',
  });
});
