// Upstream suppliers for tests: the simulator over real HTTP, configured through its admin
// endpoint, and registered with the platform through the public API, as an operator would.
import { randomUUID } from 'node:crypto';
import {
  type CallbackAnswer,
  type FaultPlan,
  type SalesReport,
  type SupplierConfig,
  type SupplierSim,
  startSupplierSim,
} from '../../scripts/lib/supplier-sim';
import { adminKey } from './clients';
import { clientFor, request } from './http';
import { startStack, type StackOptions, type TestStack } from './stack';

type Api = ReturnType<typeof clientFor>;

/**
 * A stack (API and worker) and a supplier simulator for one test file, started before its
 * tests and closed after them; the fields are set once `beforeAll` has run.
 */
export function stackWithSuppliers(options: StackOptions = {}) {
  const env = {} as { stack: TestStack; sim: SupplierSim; admin: Api };
  beforeAll(async () => {
    [env.stack, env.sim] = await Promise.all([startStack(options), startSupplierSim()]);
    env.admin = clientFor(env.stack.url, await adminKey(env.stack));
  });
  afterAll(async () => {
    await env.stack?.close();
    await env.sim?.close();
  });
  return env;
}

async function simCall<T = unknown>(simUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await request<T>(simUrl, method, path, body);
  if (res.status >= 300) throw new Error(`simulator ${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

export interface SimSupplier {
  /** Name at the simulator and on the platform. */
  name: string;
  id: string;
  setFaults(plan: FaultPlan): Promise<unknown>;
  setProduct(code: string, patch: { costMinor?: number; stock?: number }): Promise<unknown>;
  report(): Promise<SalesReport>;
  /** References the supplier sold (succeeded sales only). */
  sold(): Promise<string[]>;
  /** Completes a pending sale with this key and cost; the platform's answer to its signed callback. */
  complete(reference: string, sale?: { code?: string; pin?: string; costMinor?: number }): Promise<CallbackAnswer>;
  /** Sends `body` as-is to `url`, signed with the supplier's secret; the platform's answer. */
  sendSigned(url: string, body: string): Promise<CallbackAnswer>;
}

export interface SupplierSetup {
  protocol?: 'reference' | 'reloadly';
  /** Products by the supplier's code. */
  products: SupplierConfig['products'];
  currency?: string;
  /** Platform-side settings (POST /v1/suppliers). */
  settings?: Record<string, unknown>;
}

/** A fake supplier at the simulator, registered with the platform. */
export async function addSupplier(simUrl: string, admin: Api, setup: SupplierSetup): Promise<SimSupplier> {
  const protocol = setup.protocol ?? 'reference';
  const name = `sup-${randomUUID().slice(0, 8)}`;
  const secret = `secret-${randomUUID()}`;
  const reloadly = protocol === 'reloadly';
  await simCall(simUrl, 'PUT', `/admin/suppliers/${name}`, {
    protocol,
    currency: setup.currency ?? 'CNY',
    products: setup.products,
    ...(reloadly ? { clientId: `client-${name}`, clientSecret: secret } : { accountId: `acct-${name}`, secret }),
  });
  const base = `${simUrl}/${reloadly ? 'reloadly' : 'ref'}/${name}`;
  const registered = await admin.post('/v1/suppliers', {
    name,
    protocol,
    baseUrl: base,
    credentials: reloadly
      ? { clientId: `client-${name}`, clientSecret: secret, authUrl: `${base}/oauth/token`, topupsBaseUrl: base }
      : { accountId: `acct-${name}`, secret },
    timeoutMs: 1000,
    ...setup.settings,
  });
  if (registered.status !== 201) throw new Error(`supplier: ${registered.status} ${registered.text}`);
  return {
    name,
    id: registered.body.id,
    setFaults: (plan) => simCall(simUrl, 'PUT', `/admin/suppliers/${name}/faults`, plan),
    setProduct: (code, patch) => simCall(simUrl, 'PATCH', `/admin/suppliers/${name}/products/${code}`, patch),
    report: () => simCall<SalesReport>(simUrl, 'GET', `/admin/suppliers/${name}/sales`),
    async sold() {
      const { sales } = await simCall<SalesReport>(simUrl, 'GET', `/admin/suppliers/${name}/sales`);
      return sales.filter((s) => s.status === 'succeeded').map((s) => s.reference);
    },
    complete: (reference, sale = {}) =>
      simCall<CallbackAnswer>(simUrl, 'POST', `/admin/suppliers/${name}/sales/${reference}/complete`, sale),
    sendSigned: (url, body) =>
      simCall<CallbackAnswer>(simUrl, 'POST', `/admin/suppliers/${name}/callbacks`, { url, body }),
  };
}

export async function addRoute(
  admin: Api,
  sku: string,
  supplier: SimSupplier,
  route: { productCode: string; costMinor: number; priority?: number },
): Promise<void> {
  const res = await admin.put(`/v1/products/${sku}/routes/${supplier.name}`, {
    productCode: route.productCode,
    cost: { minor: route.costMinor },
    ...(route.priority === undefined ? {} : { priority: route.priority }),
  });
  if (res.status !== 200) throw new Error(`route: ${res.status} ${res.text}`);
}
