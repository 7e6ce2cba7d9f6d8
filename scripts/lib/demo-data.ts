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
