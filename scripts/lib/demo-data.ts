// Demo data for `npm start` on an empty database: a shop (order-system client) with a fixed
// key so every start can print it, two products with keys in stock, and a prepaid balance.
// Development only.
import { randomBytes } from 'node:crypto';
import type { Config } from '../../infra/config';
import type { Keyring } from '../../infra/crypto';
import type { Db } from '../../infra/db';
import { ensureClientWithKey } from '../../store/clients';
import { importKeys } from '../../store/inventory';
import { ledgerKeys } from '../../domain/ledger-keys';
import { topUp } from '../../store/ledger';
import { createProduct } from '../../store/products';
import { createSupplier, putRoute } from '../../store/suppliers/registry';
import type { SupplierSim } from './supplier-sim';

export const DEMO_CLIENT_KEY = 'rp_demo_shop_key_for_local_development_only';
export const DEMO_SKU = 'demo-video-vip-1m';

const ACTOR = { clientId: null, name: 'demo-seed' };
const PRODUCTS = [
  { sku: DEMO_SKU, name: 'Video VIP, 1 month', price: 1500, keyPrefix: 'VVIP' },
  { sku: 'demo-music-bundle-1y', name: 'Music bundle, 1 year', price: 9900, keyPrefix: 'MUSC' },
];

function demoCode(prefix: string): string {
  const hex = randomBytes(8).toString('hex').toUpperCase();
  return `${prefix}-${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8, 12)}-${hex.slice(12)}`;
}

export async function seedDemoData(
  db: Db,
  keyring: Keyring,
  config: Pick<Config, 'KEY_FINGERPRINT_SECRET'>,
): Promise<{ seeded: boolean }> {
  const { client, created } = await ensureClientWithKey(
    db,
    keyring,
    { name: 'demo shop', role: 'order-system' },
    DEMO_CLIENT_KEY,
    'demo-seed',
  );
  if (!created) return { seeded: false };
  for (const p of PRODUCTS) {
    const product = await createProduct(
      db,
      { sku: p.sku, name: p.name, kind: 'card_key', price: { minor: p.price, currency: 'CNY' } },
      ACTOR,
    );
    const keys = Array.from({ length: 50 }, () => demoCode(p.keyPrefix));
    await importKeys(
      db,
      { keyring, fingerprintSecret: config.KEY_FINGERPRINT_SECRET },
      { product, keys, supplier: 'demo', actor: ACTOR },
    );
  }
  await topUp(
    db,
    {
      clientId: client.id,
      minor: 1_000_000,
      currency: 'CNY',
      idempotencyKey: ledgerKeys.topup(client.id, 'demo-seed'),
    },
    ACTOR,
  );
  return { seeded: true };
}

export const DEMO_SUPPLIER_SKU = 'demo-game-points-100';
export const DEMO_TOPUP_SKU = 'demo-mobile-credit-10';
const PHONE = '1[3-9]\\d{9}';
const DEMO_SUPPLIER_SECRET = 'demo-supplier-secret-for-local-development-only';

/**
 * Two demo suppliers at the simulator — `demo-acme` (reference protocol) and
 * `demo-reloadly` (Reloadly-shaped) — and two products only they supply: game points
 * (card keys, no own stock) and mobile credit (a direct top-up). The simulator keeps its
 * state in memory, so it is configured on every start; the platform side is created once.
 */
export async function seedDemoSuppliers(db: Db, keyring: Keyring, sim: SupplierSim): Promise<void> {
  const admin = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`simulator ${path}: ${res.status} ${await res.text()}`);
  };
  const points = { kind: 'card_key', costMinor: 800, stock: 500 } as const;
  const credit = { kind: 'direct_topup', costMinor: 950, stock: 500, accountPattern: PHONE } as const;
  await admin('PUT', '/admin/suppliers/demo-acme', {
    protocol: 'reference',
    accountId: 'demo-platform',
    secret: DEMO_SUPPLIER_SECRET,
    currency: 'CNY',
    products: { 'GP-100': points, 'CM-10': credit },
  });
  await admin('PUT', '/admin/suppliers/demo-reloadly', {
    protocol: 'reloadly',
    clientId: 'demo-platform',
    clientSecret: DEMO_SUPPLIER_SECRET,
    currency: 'CNY',
    products: { '120': { ...points, costMinor: 850 }, '341': credit },
  });

  if (await db.supplier.findUnique({ where: { name: 'demo-acme' } })) return;
  const acme = await createSupplier(
    db,
    keyring,
    {
      name: 'demo-acme',
      protocol: 'reference',
      baseUrl: `${sim.url}/ref/demo-acme`,
      credentials: { accountId: 'demo-platform', secret: DEMO_SUPPLIER_SECRET },
    },
    ACTOR,
  );
  const reloadlyBase = `${sim.url}/reloadly/demo-reloadly`;
  const reloadly = await createSupplier(
    db,
    keyring,
    {
      name: 'demo-reloadly',
      protocol: 'reloadly',
      baseUrl: reloadlyBase,
      credentials: {
        clientId: 'demo-platform',
        clientSecret: DEMO_SUPPLIER_SECRET,
        authUrl: `${reloadlyBase}/oauth/token`,
        topupsBaseUrl: reloadlyBase,
      },
    },
    ACTOR,
  );
  const gamePoints = await createProduct(
    db,
    { sku: DEMO_SUPPLIER_SKU, name: 'Game points, 100', kind: 'card_key', price: { minor: 1000, currency: 'CNY' } },
    ACTOR,
  );
  const mobile = await createProduct(
    db,
    {
      sku: DEMO_TOPUP_SKU,
      name: 'Mobile credit, 10 CNY',
      kind: 'direct_topup',
      price: { minor: 1000, currency: 'CNY' },
      accountPattern: PHONE,
    },
    ACTOR,
  );
  const route = (supplierId: string, productCode: string, costMinor: number, priority: number) => ({
    supplierId,
    productCode,
    costMinor,
    priority,
    enabled: true,
  });
  await putRoute(db, gamePoints.id, route(acme.id, 'GP-100', 800, 10), ACTOR);
  await putRoute(db, gamePoints.id, route(reloadly.id, '120@8.5', 850, 20), ACTOR);
  await putRoute(db, mobile.id, route(acme.id, 'CM-10', 950, 10), ACTOR);
  await putRoute(db, mobile.id, route(reloadly.id, '341@9.5@CN', 950, 20), ACTOR);
}
