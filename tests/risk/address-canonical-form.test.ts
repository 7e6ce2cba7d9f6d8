// Issue 29: one client address has one canonical form from the edge inward. An IPv4 client
// spelled as IPv6 (::ffff:8.8.4.4, ::ffff:808:404, ::8.8.4.4 …) is the IPv4 client on order
// intake, on the claim link (X-Forwarded-For and a dual-stack socket), in the allow/deny
// lists and in the claim rate limit; a zone id is dropped; an address that is not one is a
// 4xx, never a 500; an IPv6 client counts as its /64 against the claim rate limit.
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { createApp } from '../../api/app';
import { adminKey } from '../support/clients';
import { clientFor, expectProblem, request } from '../support/http';
import { PRICE, shopWithStock, waitForTerminal } from '../support/orders';
import { startStack, type TestStack } from '../support/stack';

jest.setTimeout(120_000);

const CLAIM_LIMIT = 5;

let stack: TestStack;
let admin: ReturnType<typeof clientFor>;
let startedAt: Date;
beforeAll(async () => {
  stack = await startStack({
    // A long window: the few claims a test makes from one address never straddle two windows.
    config: { RATE_LIMIT_CLAIM_IP_REQUESTS: String(CLAIM_LIMIT), RATE_LIMIT_CLAIM_IP_WINDOW_MS: '600000' },
  });
  admin = clientFor(stack.url, await adminKey(stack));
  const [clock] = await stack.db.$queryRaw<{ now: Date }[]>`SELECT now() AS now`;
  startedAt = clock!.now;
});
// List entries would hit other files' buyers (the database is shared by the run).
afterAll(async () => {
  await stack?.db.riskListEntry.deleteMany({ where: { createdAt: { gte: startedAt } } });
  await stack?.close();
});

// geoip-lite puts all of 8.8.0.0/21 at one US point: orders and claims from there are one place.
const DENIED = '8.8.4.4';
const IPV6_SPELLINGS_OF_DENIED = ['::ffff:8.8.4.4', '::FFFF:808:404', '0:0:0:0:0:ffff:808:404', '::8.8.4.4'];

async function denyList(value: string) {
  const res = await admin.post('/v1/risk/lists', { list: 'deny', kind: 'ip', value, note: 'issue 29' });
  expect([200, 201]).toContain(res.status);
  return res.body as { id: string; value: string };
}
const unlist = async (id: string) =>
  expect(
    (await request(stack.url, 'DELETE', `/v1/risk/lists/${id}`, undefined, { key: await adminKey(stack) })).status,
  ).toBe(204);

function orderFrom(sku: string, ip: string) {
  const buyer = randomUUID().slice(0, 8);
  return { externalOrderId: `ext-${randomUUID()}`, buyer: { id: `buyer-${buyer}`, ip }, items: [{ sku, quantity: 1 }] };
}

/** A delivered order placed from `ip`, with its claim link. */
async function deliveredFrom(ip: string): Promise<{ id: string; claimUrl: string }> {
  const { sku, api } = await shopWithStock(stack, { stock: 1, topUp: PRICE });
  const placed = await api.post('/v1/orders', orderFrom(sku, ip));
  expect(placed.status).toBe(202);
  const delivered = await waitForTerminal(api, placed.body.id);
  expect(delivered.status).toBe('delivered');
  return delivered;
}

/** A random 2001:db8:x::/48, written canonically (no leading zeros). */
const ownSite = () => `2001:db8:${(0x1000 + (randomBytes(2).readUInt16BE() % 0xf000)).toString(16)}`;

const claim = (url: string, forwardedFor?: string) =>
  request(
    url,
    'GET',
    '',
    undefined,
    forwardedFor === undefined ? {} : { headers: { 'x-forwarded-for': forwardedFor } },
  );

async function claimAssessment(orderId: string) {
  return stack.db.riskAssessment.findFirst({ where: { orderId, subject: 'claim' }, orderBy: { createdAt: 'desc' } });
}

describe('order intake', () => {
  test('a deny-listed IPv4 address blocks orders sent with each IPv6 spelling of it; the order keeps the IPv4 form', async () => {
    // The entry itself written as an IPv4-mapped /128: stored as the IPv4 /32.
    const entry = await denyList('::ffff:8.8.4.4/128');
    expect(entry.value).toBe('8.8.4.4/32');
    expect((await denyList('::ffff:808:404')).id).toBe(entry.id);
    try {
      const { sku, api } = await shopWithStock(stack, { stock: 6, topUp: 6 * PRICE });
      const placed = [];
      for (const ip of [DENIED, ...IPV6_SPELLINGS_OF_DENIED]) {
        const res = await api.post('/v1/orders', orderFrom(sku, ip));
        expect([ip, res.status]).toEqual([ip, 202]);
        placed.push({ ip, id: res.body.id as string });
      }
      const control = await api.post('/v1/orders', orderFrom(sku, '8.8.4.20'));
      for (const { ip, id } of placed) {
        expect([ip, (await waitForTerminal(api, id)).status]).toEqual([ip, 'rejected']);
        const order = await stack.db.order.findUniqueOrThrow({ where: { id } });
        expect([ip, order.buyerIp]).toEqual([ip, DENIED]);
        const assessment = await stack.db.riskAssessment.findFirstOrThrow({ where: { orderId: id, subject: 'order' } });
        expect(assessment.facts).toMatchObject({
          ip: { ip: DENIED, kind: 'public', network: '8.8.4.0/24' },
          lists: [{ list: 'deny', kind: 'ip', value: '8.8.4.4/32', note: 'issue 29' }],
        });
      }
      expect((await waitForTerminal(api, control.body.id)).status).toBe('delivered');
    } finally {
      await unlist(entry.id);
    }
  });

  test('one order sent once as ::ffff:… and again as IPv4 is the same request (200), not a conflict', async () => {
    const { sku, api } = await shopWithStock(stack, { stock: 0, topUp: 0 });
    const body = orderFrom(sku, '::ffff:8.8.4.21');
    const first = await api.post('/v1/orders', body);
    expect(first.status).toBe(202);
    const again = await api.post('/v1/orders', { ...body, buyer: { ...body.buyer, ip: '8.8.4.21' } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
  });

  test('the database refuses an order address in any other form', async () => {
    const { sku, api } = await shopWithStock(stack, { stock: 0, topUp: 0 });
    const { id } = (await api.post('/v1/orders', orderFrom(sku, '8.8.4.22'))).body as { id: string };
    for (const spelling of ['::ffff:8.8.4.4', '2001:DB8::1', '2001:db8:0:0:0:0:0:1', '8.8.4.4/32']) {
      await expect(
        stack.db.$executeRaw`UPDATE orders SET buyer_ip = ${spelling} WHERE id = ${id}::uuid`,
      ).rejects.toThrow(/orders_buyer_ip_canonical/);
    }
  });
});

describe('the claim link', () => {
  test('a claim whose X-Forwarded-For carries a deny-listed IPv4 address in IPv6 spelling is held as the plain one is', async () => {
    // Unlisted, the address reveals: the order and the claim are in one place.
    const control = await deliveredFrom('8.8.5.1');
    expect((await claim(control.claimUrl, DENIED)).status).toBe(200);

    const entry = await denyList(DENIED);
    try {
      for (const [i, spelling] of [DENIED, '::ffff:8.8.4.4', '::ffff:808:404'].entries()) {
        const order = await deliveredFrom(`8.8.5.${i + 2}`);
        const held = await claim(order.claimUrl, spelling);
        expect([spelling, held.status, held.body.status]).toEqual([spelling, 202, 'under_review']);
        expect((await stack.db.order.findUniqueOrThrow({ where: { id: order.id } })).claimedAt).toBeNull();
        expect((await claimAssessment(order.id))?.facts).toMatchObject({
          ip: { ip: DENIED, kind: 'public' },
          lists: [{ list: 'deny', kind: 'ip', value: '8.8.4.4/32' }],
        });
      }
    } finally {
      await unlist(entry.id);
    }
  });

  test('a zone id in X-Forwarded-For is dropped (no 500): the claim is judged as the link-local address', async () => {
    const order = await deliveredFrom('8.8.6.1');
    const res = await claim(order.claimUrl, 'fe80::1%eth0');
    expect(res.status).toBe(200);
    expect((await stack.db.order.findUniqueOrThrow({ where: { id: order.id } })).claimIp).toBe('fe80::1');
  });

  test('an X-Forwarded-For hop that is not an address is 400 invalid_client_address: nothing judged, nothing revealed', async () => {
    const order = await deliveredFrom('8.8.6.2');
    for (const forwarded of ['not-an-address', '198.51.100.9, not-an-address', '8.8.6.9%', '01.2.3.4']) {
      const res = await claim(order.claimUrl, forwarded);
      expectProblem(res, 400, 'invalid_client_address');
    }
    expect(await claimAssessment(order.id)).toBeNull();
    expect((await stack.db.order.findUniqueOrThrow({ where: { id: order.id } })).claimedAt).toBeNull();
    // Only the nearest hop (the one the trusted proxy wrote) is read: what the client wrote before it is not.
    const revealed = await claim(order.claimUrl, 'not-an-address, 8.8.6.9');
    expect(revealed.status).toBe(200);
    expect((await stack.db.order.findUniqueOrThrow({ where: { id: order.id } })).claimIp).toBe('8.8.6.9');
  });
});

describe('the claim rate limit', () => {
  const unknownToken = () => `${stack.url}/v1/claims/${randomBytes(32).toString('hex')}`;
  const bucketKeys = async (prefix: string) =>
    (
      await stack.db.$queryRaw<{ key: string }[]>`
        SELECT DISTINCT key FROM rate_limit_buckets WHERE starts_with(key, ${`claim-ip:${prefix}`})`
    ).map((r) => r.key);

  test('two IPv6 addresses in one /64 share one bucket, another /64 has its own; an IPv4 client is one bucket however spelled', async () => {
    const site = ownSite(); // a /48 of this run's own
    for (let host = 1; host <= CLAIM_LIMIT; host++) {
      expectProblem(await claim(unknownToken(), `${site}:1::${host.toString(16)}`), 404, 'not_found');
    }
    // Another address of the same /64 (privacy extensions rotate through it) is the same client.
    expectProblem(await claim(unknownToken(), `${site}:1:ffff:ffff:ffff:fffe`), 429, 'rate_limited');
    expectProblem(await claim(unknownToken(), `${site}:2::1`), 404, 'not_found');
    expect((await bucketKeys(site)).sort()).toEqual([`claim-ip:${site}:1::/64`, `claim-ip:${site}:2::/64`]);

    const spellings = [
      '198.51.100.201',
      '::ffff:198.51.100.201',
      '::FFFF:C633:64C9',
      '::198.51.100.201',
      '::ffff:c633:64c9',
    ];
    for (const ip of spellings) expectProblem(await claim(unknownToken(), ip), 404, 'not_found');
    expectProblem(await claim(unknownToken(), '198.51.100.201'), 429, 'rate_limited');
    expect(await bucketKeys('198.51.100.201')).toEqual(['claim-ip:198.51.100.201']);
  });
});

describe('an API listening on :: (dual-stack socket)', () => {
  let dualUrl: string;
  let server: Server;
  beforeAll(async () => {
    // Its own claim budget: this peer is 127.0.0.1, which other files' claims count against too.
    const config = { ...stack.config, RATE_LIMIT_CLAIM_IP_REQUESTS: 10_000 };
    server = createApp({ ...stack.deps, config }).listen(0, '::');
    await once(server, 'listening');
    dualUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('an IPv4 peer (::ffff:127.0.0.1 on the socket) is loopback: a trusted proxy, and recorded as 127.0.0.1', async () => {
    const site = ownSite();
    const token = randomBytes(32).toString('hex');
    expectProblem(await claim(`${dualUrl}/v1/claims/${token}`, `${site}:7::1`), 404, 'not_found');
    // X-Forwarded-For was believed: the request counted against the forwarded client.
    const [row] = await stack.db.$queryRaw<{ key: string }[]>`
      SELECT key FROM rate_limit_buckets WHERE key = ${`claim-ip:${site}:7::/64`}`;
    expect(row?.key).toBe(`claim-ip:${site}:7::/64`);

    const order = await deliveredFrom('8.8.7.1');
    const res = await claim(order.claimUrl.replace(stack.url, dualUrl));
    expect(res.status).toBe(200);
    expect((await stack.db.order.findUniqueOrThrow({ where: { id: order.id } })).claimIp).toBe('127.0.0.1');
  });
});
