// Issue 29: a supplier callback that does not prove who sent it gets one answer, whatever
// the name in the path: a supplier that exists, one that does not, one that cannot sign
// (Reloadly), a name no supplier can have. The same 401 problem, so the endpoint cannot be
// used to list supplier names. (Before: 404 for an unknown name, 401 for a known one.)
import { randomUUID } from 'node:crypto';
import { signRequest } from '../../infra/request-signature';
import { adminKey } from '../support/clients';
import { clientFor, type HttpResponse, request } from '../support/http';
import { startStack, type TestStack } from '../support/stack';

let stack: TestStack;
const known = `sup-${randomUUID().slice(0, 8)}`;
const reloadly = `rl-${randomUUID().slice(0, 8)}`;
beforeAll(async () => {
  stack = await startStack({ worker: false });
  const admin = clientFor(stack.url, await adminKey(stack));
  for (const body of [
    {
      name: known,
      protocol: 'reference',
      baseUrl: 'http://127.0.0.1:9/ref',
      credentials: { accountId: 'acct', secret: 'the-known-suppliers-secret' },
    },
    {
      name: reloadly,
      protocol: 'reloadly',
      baseUrl: 'http://127.0.0.1:9/reloadly',
      credentials: { clientId: 'c', clientSecret: 's', authUrl: 'http://127.0.0.1:9/oauth/token' },
    },
  ]) {
    const res = await admin.post('/v1/suppliers', body);
    expect(res.status).toBe(201);
  }
});
afterAll(() => stack.close());

const BODY = JSON.stringify({ reference: randomUUID(), status: 'succeeded', transactionId: 'T-1', key: { code: 'K' } });

/** What a caller can compare between two answers: everything but the echo of its own path and the request id. */
const comparable = (res: HttpResponse) => ({
  status: res.status,
  contentType: res.headers.get('content-type'),
  body: { ...res.body, instance: undefined, requestId: undefined },
});

test('unsigned, forged and misdirected callbacks get the same 401 for every supplier name', async () => {
  const send = (path: string, signature?: string) =>
    request(stack.url, 'POST', path, undefined, {
      raw: BODY,
      headers: { 'content-type': 'application/json', ...(signature ? { 'x-rights-signature': signature } : {}) },
    });
  const now = Math.floor(Date.now() / 1000);
  const signedBy = (secret: string, path: string) => signRequest(secret, { method: 'POST', path, body: BODY }, now);
  const names = [known, reloadly, `nobody-${randomUUID().slice(0, 8)}`, 'UPPER_CASE', '%00', 'x'.repeat(300)];
  const answers: ReturnType<typeof comparable>[] = [];
  for (const name of names) {
    for (const path of [`/v1/supplier-callbacks/${name}`, `/v1/supplier-callbacks/${name}/redemptions`]) {
      answers.push(comparable(await send(path)));
      answers.push(comparable(await send(path, signedBy('a-secret-nobody-issued', path))));
      // Signed under the known supplier's secret, but sent to another name.
      if (!path.includes(`/${known}`))
        answers.push(comparable(await send(path, signedBy('the-known-suppliers-secret', path))));
    }
  }
  expect(answers).toHaveLength(names.length * 2 * 2 + (names.length - 1) * 2);
  for (const answer of answers) expect(answer).toEqual(answers[0]);
  expect(answers[0]).toMatchObject({
    status: 401,
    contentType: expect.stringMatching(/^application\/problem\+json/),
    body: { code: 'bad_signature', status: 401 },
  });
});
