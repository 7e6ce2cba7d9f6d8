import { randomUUID } from 'node:crypto';
import type { Role } from '../../domain/roles';
import { ensureClientWithKey } from '../../store/clients';
import type { TestStack } from './stack';
import { clientFor } from './http';

/** The bootstrap admin the API process would ensure at startup. */
export async function adminKey(stack: TestStack): Promise<string> {
  const key = stack.config.BOOTSTRAP_ADMIN_KEY;
  if (!key) throw new Error('tests run with the development BOOTSTRAP_ADMIN_KEY');
  await ensureClientWithKey(stack.db, stack.deps.keyring, { name: 'bootstrap admin', role: 'admin' }, key, 'test');
  return key;
}

/** Creates a client through the API, as an operator would. */
export async function createClientViaApi(
  stack: TestStack,
  role: Role,
  extra: { name?: string; webhookUrl?: string } = {},
): Promise<{ id: string; apiKey: string; webhookSecret: string }> {
  const admin = clientFor(stack.url, await adminKey(stack));
  const res = await admin.post('/v1/clients', { name: extra.name ?? `${role} ${Date.now()}`, role, ...extra });
  if (res.status !== 201) throw new Error(`client creation failed: ${res.status} ${res.text}`);
  return res.body;
}

/** An API client for a new staff member of `role` (support, risk-analyst…), named uniquely. */
export async function staffApi(stack: TestStack, role: Role) {
  const staff = await createClientViaApi(stack, role, { name: `${role} ${randomUUID().slice(0, 8)}` });
  return clientFor(stack.url, staff.apiKey);
}
