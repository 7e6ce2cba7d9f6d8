// Acceptance: invalid JSON, wrong content type, oversized body and unknown route are
// problem+json with a stable code; a bug inside a handler is a 500 without a stack trace in
// the body, logged with the request id.
import { adminKey } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { startStack, type TestStack } from '../support/stack';

const logLines: string[] = [];
let stack: TestStack;
let admin: ReturnType<typeof clientFor>;
beforeAll(async () => {
  stack = await startStack({ worker: false, logDestination: { write: (line) => logLines.push(line) } });
  admin = clientFor(stack.url, await adminKey(stack));
});
afterAll(() => stack.close());

async function clientCount() {
  return stack.db.client.count();
}

test('invalid JSON is 400 invalid_json', async () => {
  const before = await clientCount();
  const res = await admin.post('/v1/clients', undefined, {
    raw: '{"name": "x",',
    headers: { 'content-type': 'application/json' },
  });
  expectProblem(res, 400, 'invalid_json');
  expect(await clientCount()).toBe(before);
});

test('a JSON scalar instead of an object is 400 invalid_json', async () => {
  const res = await admin.post('/v1/clients', undefined, {
    raw: '"x"',
    headers: { 'content-type': 'application/json' },
  });
  expectProblem(res, 400, 'invalid_json');
});

test('a body that is not application/json is 415', async () => {
  const before = await clientCount();
  const res = await admin.post('/v1/clients', undefined, {
    raw: 'name=x&role=admin',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  expectProblem(res, 415, 'unsupported_media_type');
  expect(await clientCount()).toBe(before);
});

test('a body over 1 MB is 413', async () => {
  const before = await clientCount();
  const res = await admin.post('/v1/clients', { name: 'x'.repeat(1_100_000), role: 'support' });
  expectProblem(res, 413, 'payload_too_large');
  expect(await clientCount()).toBe(before);
});

test('an unknown route is 404 route_not_found', async () => {
  expectProblem(await admin.get('/v1/nowhere'), 404, 'route_not_found');
  expectProblem(await clientFor(stack.url).get('/nowhere'), 404, 'route_not_found');
});

test('a bug inside a handler is a 500 problem without internals, logged with the request id', async () => {
  // Break a real dependency the way a misconfigured deploy would: the key ring loses its key.
  const keys = stack.deps.keyring.keys as Map<string, Buffer>;
  const saved = new Map(keys);
  keys.clear();
  try {
    const res = await admin.post('/v1/clients', { name: 'x', role: 'support' });
    expectProblem(res, 500, 'internal_error');
    expect(res.text).not.toMatch(/at .*\.ts|stack|unknown key id/);
    const requestId = res.headers.get('x-request-id');
    expect(res.body.requestId).toBe(requestId);
    const logged = logLines.map((l) => JSON.parse(l)).find((l) => l.requestId === requestId && l.level === 50);
    expect(logged?.err?.stack).toContain('unknown key id');
  } finally {
    for (const [id, key] of saved) keys.set(id, key);
  }
});
