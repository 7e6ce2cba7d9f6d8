// Demo data for `npm start` on an empty database. Development only: the demo key is fixed
// so every start can print it.
import type { Db } from '../../infra/db';
import type { Keyring } from '../../infra/crypto';
import { ensureClientWithKey } from '../../store/clients';

export const DEMO_CLIENT_KEY = 'rp_demo_shop_key_for_local_development_only';

export async function seedDemoData(db: Db, keyring: Keyring): Promise<{ seeded: boolean }> {
  const { created } = await ensureClientWithKey(
    db,
    keyring,
    { name: 'demo shop', role: 'order-system' },
    DEMO_CLIENT_KEY,
    'demo-seed',
  );
  return { seeded: created };
}
