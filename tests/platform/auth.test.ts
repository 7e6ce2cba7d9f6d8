// Acceptance: no key 401, unknown key 401, wrong role 403; an admin creates a client whose
// key works once returned and is stored only hashed.
import { sha256Hex } from '../../infra/crypto';
import { adminKey, createClientViaApi } from '../support/clients';
import { clientFor, expectProblem } from '../support/http';
import { startStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ worker: false });
});
afterAll(() => stack.close());

const newClient = { name: 'acme shop', role: 'order-system', webhookUrl: 'https://shop.example/hooks' };

test('no key, a malformed header and an unknown key are 401', async () => {
  expectProblem(await clientFor(stack.url).post('/v1/clients', newClient), 401, 'unauthenticated');
  expectProblem(
    await clientFor(stack.url).post('/v1/clients', newClient, { headers: { authorization: 'Basic abc' } }),
    401,
    'unauthenticated',
  );
  expectProblem(await clientFor(stack.url, 'rp_not_a_real_key').post('/v1/clients', newClient), 401, 'unauthenticated');
});

test.each(['order-system', 'support', 'risk-analyst'] as const)(
  'role %s may not create clients (403)',
  async (role) => {
    const { apiKey } = await createClientViaApi(stack, role);
    const before = await stack.db.client.count();
    expectProblem(await clientFor(stack.url, apiKey).post('/v1/clients', newClient), 403, 'forbidden');
    expect(await stack.db.client.count()).toBe(before);
  },
);

test('an admin creates a client; its key works and only its hash is stored', async () => {
  const admin = clientFor(stack.url, await adminKey(stack));
  const res = await admin.post('/v1/clients', newClient);
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ name: 'acme shop', role: 'order-system', webhookUrl: newClient.webhookUrl });
  expect(res.body.apiKey).toMatch(/^rp_[\w-]{40,}$/);
  expect(res.body.webhookSecret).toMatch(/^whsec_/);

  const rows = await stack.db.$queryRaw<
    Record<string, unknown>[]
  >`SELECT * FROM clients WHERE id = ${res.body.id}::uuid`;
  expect(rows).toHaveLength(1);
  const stored = JSON.stringify(rows[0]);
  expect(stored).not.toContain(res.body.apiKey);
  expect(stored).not.toContain(res.body.webhookSecret);
  expect(rows[0]?.api_key_hash).toBe(sha256Hex(res.body.apiKey));

  // The new key authenticates (and, being order-system, is refused the admin route with 403, not 401).
  expectProblem(await clientFor(stack.url, res.body.apiKey).post('/v1/clients', newClient), 403, 'forbidden');

  const audit = await stack.db.auditLog.findFirst({ where: { subjectType: 'client', subjectId: res.body.id } });
  expect(audit).toMatchObject({ action: 'client.created' });
  expect(JSON.stringify(audit?.details)).not.toContain(res.body.apiKey);
});

test('the audit log refuses updates and deletes', async () => {
  await expect(stack.db.$executeRaw`DELETE FROM audit_log`).rejects.toThrow(/append-only/);
  await expect(stack.db.$executeRaw`UPDATE audit_log SET reason = 'x'`).rejects.toThrow(/append-only/);
});

test.each([
  [{ role: 'order-system' }, 'name'],
  [{ name: 'x', role: 'owner' }, 'role'],
  [{ name: 'x', role: 'support', webhookUrl: 'ftp://x' }, 'webhookUrl'],
  [{ name: 'x', role: 'support', extra: 1 }, '(body)'],
  [{ name: '', role: 'support' }, 'name'],
])('invalid client %j is 422 naming %s, and nothing is written', async (body, path) => {
  const admin = clientFor(stack.url, await adminKey(stack));
  const before = await stack.db.client.count();
  const res = await admin.post('/v1/clients', body);
  expectProblem(res, 422, 'validation_failed');
  expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  expect(await stack.db.client.count()).toBe(before);
});
