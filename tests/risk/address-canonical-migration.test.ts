// Issue 29: addresses written before the API kept them canonical are rewritten by the
// canonical_addresses migration (orders' buyer_ip and so buyer_network, IP list entries), and
// the database refuses any other form from then on. The canonical text of domain/ip-address.ts
// is what PostgreSQL itself writes for every address, which the refusal relies on.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Pool } from 'pg';
import { canonicalIp, parseIp } from '../../domain/ip-address';
import { dropDatabase, ensureDatabase } from '../../infra/db';
import { ROOT } from '../support/stack';

jest.setTimeout(180_000);

const MIGRATIONS = process.env.PRISMA_MIGRATIONS_DIR ?? path.join(ROOT, 'prisma/migrations');
const CANONICAL_MIGRATION = readdirSync(MIGRATIONS).find((d) => d.endsWith('_canonical_addresses'))!;

function deployUpTo(databaseUrl: string, keep: (dir: string) => boolean) {
  const dir = mkdtempSync(path.join(tmpdir(), 'rp-migrations-'));
  for (const migration of readdirSync(MIGRATIONS).filter(keep)) {
    cpSync(path.join(MIGRATIONS, migration), path.join(dir, migration), { recursive: true });
  }
  const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts/prisma.js'), 'migrate', 'deploy'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_MIGRATIONS_DIR: dir },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`migrate deploy failed:\n${run.stdout}${run.stderr}`);
}

let pool: Pool;
let databaseUrl: string;
beforeAll(async () => {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `${url.pathname}_canonical_addresses`;
  databaseUrl = url.toString();
  await dropDatabase(databaseUrl);
  await ensureDatabase(databaseUrl);
  pool = new Pool({ connectionString: databaseUrl, max: 2 });
});
afterAll(async () => {
  await pool?.end();
  await dropDatabase(databaseUrl);
});

const q = async <T = any>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows as T[];

test('orders and list entries written before the migration end canonical; the database refuses other forms after it', async () => {
  deployUpTo(databaseUrl, (d) => d < CANONICAL_MIGRATION);
  const [shop] = await q(
    `INSERT INTO clients (id, name, role, api_key_hash, api_key_prefix)
     VALUES (gen_random_uuid(), 'old shop', 'order-system', 'h', 'p') RETURNING id`,
  );
  const written = [
    '8.8.4.4',
    '::ffff:8.8.4.4',
    '::FFFF:808:404',
    '0:0:0:0:0:ffff:808:404',
    '::8.8.4.4',
    '2001:DB8:0:0::1',
    '::1',
    '::',
  ];
  for (const [i, ip] of written.entries()) {
    await q(
      `INSERT INTO orders (id, client_id, external_order_id, request_hash, buyer_id, buyer_ip, amount_minor, currency, workflow_id, status, updated_at)
       VALUES (gen_random_uuid(), $1, $2, 'h', 'b', $3, 100, 'CNY', $2, 'delivered', now())`,
      [shop.id, `old-${i}`, ip],
    );
  }
  const entry = (list: string, value: string, at: string) =>
    q(
      `INSERT INTO risk_list_entries (id, list, kind, value, created_at) VALUES (gen_random_uuid(), $1, 'ip', $2, $3)`,
      [list, value, at],
    );
  await entry('deny', '::ffff:1.2.3.4/128', '2026-01-01'); // older than its IPv4 twin, but not canonical
  await entry('deny', '1.2.3.4/32', '2026-01-02');
  await entry('deny', '::1.2.3.5/128', '2026-01-03');
  await entry('deny', '::ffff:5.6.7.8/128', '2026-01-04');
  await entry('deny', '::5.6.7.8/128', '2026-01-05'); // the same address twice, neither canonical: the older stays
  await entry('allow', '::ffff:10.0.0.0/104', '2026-01-06');
  await entry('allow', '::ffff:0.0.0.0/96', '2026-01-07');
  await entry('deny', '2001:db8::/32', '2026-01-08');
  await entry('deny', '::/96', '2026-01-09');

  deployUpTo(databaseUrl, (d) => d <= CANONICAL_MIGRATION);

  const orders = await q<{ buyer_ip: string; buyer_network: string }>(
    `SELECT buyer_ip, buyer_network::text FROM orders ORDER BY external_order_id`,
  );
  expect(orders).toEqual([
    ...Array(5).fill({ buyer_ip: '8.8.4.4', buyer_network: '8.8.4.0/24' }),
    { buyer_ip: '2001:db8::1', buyer_network: '2001:db8::/48' },
    { buyer_ip: '::1', buyer_network: '::/48' },
    { buyer_ip: '::', buyer_network: '::/48' },
  ]);
  expect(orders.map((o) => o.buyer_ip)).toEqual(written.map((ip) => canonicalIp(ip)));

  const entries = await q<{ list: string; value: string; created_at: Date }>(
    `SELECT list::text, value, created_at FROM risk_list_entries ORDER BY created_at`,
  );
  expect(entries.map(({ list, value }) => `${list} ${value}`)).toEqual([
    'deny 1.2.3.4/32',
    'deny 1.2.3.5/32',
    'deny 5.6.7.8/32',
    'allow 10.0.0.0/8',
    'allow 0.0.0.0/0',
    'deny 2001:db8::/32',
    'deny ::/96',
  ]);
  // Of two spellings of 5.6.7.8, the older entry stayed.
  expect(entries[2]!.created_at.toISOString()).toBe('2026-01-04T00:00:00.000Z');

  for (const ip of ['::ffff:8.8.4.4', '::8.8.4.4', '2001:DB8::1', '2001:db8:0:0:0:0:0:1', '8.8.4.4/32']) {
    await expect(
      q(
        `INSERT INTO orders (id, client_id, external_order_id, request_hash, buyer_id, buyer_ip, amount_minor, currency, workflow_id, status, updated_at)
         VALUES (gen_random_uuid(), $1, $2, 'h', 'b', $3, 100, 'CNY', $2, 'delivered', now())`,
        [shop.id, `new-${ip}`, ip],
      ),
    ).rejects.toThrow(/orders_buyer_ip_canonical/);
  }
  for (const value of ['::ffff:1.2.3.9/128', '::1.2.3.9/128', '2001:DB8::/32']) {
    await expect(entry('deny', value, '2026-02-01')).rejects.toThrow(/risk_list_entries_ip_canonical/);
  }
});

// Address text of every shape: random 16-bit groups (zeros often, so runs of them occur),
// written in full; PostgreSQL and the canonicaliser each read it their own way.
const addressText = fc
  .array(fc.oneof(fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff })), {
    minLength: 8,
    maxLength: 8,
  })
  .map((groups) => groups.map((g) => g.toString(16).toUpperCase().padStart(4, '0')).join(':'));

test("the canonical text is PostgreSQL's own: host() of it is itself, and the database accepts it as an order address", async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(addressText, fc.ipV4(), fc.ipV6()), async (text) => {
      const canonical = canonicalIp(text);
      expect(canonical).not.toBeNull();
      const [row] = await q<{ host: string; same: boolean; refused: boolean }>(
        `SELECT host($1::text::inet) AS host,
                $1::text::inet = $2::text::inet AS same,
                ($2::text <> host($2::text::inet) OR $2::text::inet <<= '::ffff:0:0/96'
                 OR ($2::text::inet <<= '::/96' AND $2::text::inet > '::1'::inet)) AS refused`,
        [canonical, text],
      );
      // One address either way, unless the canonical form folded IPv6 into the IPv4 it carries.
      if (parseIp(text)!.version === 6) expect(row!.same).toBe(true);
      expect({ text, host: row!.host }).toEqual({ text, host: canonical });
      // The order's CHECK (orders_buyer_ip_canonical) would refuse the text as written exactly when it is not canonical.
      expect({ text, refused: row!.refused }).toEqual({ text, refused: text !== canonical });
    }),
    { numRuns: 1_000 },
  );
});
