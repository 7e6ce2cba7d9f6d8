// Issue 16 (SSRF): webhook and callback URLs may reach public addresses only, in every
// spelling of an address, unless an operator lists a host or network.
import { checkOutboundUrl, guardedLookup, parseAllowList } from '../../infra/outbound-url';

const nothing = parseAllowList('');
const devDefault = parseAllowList('127.0.0.0/8,::1,localhost');

const refused = [
  ['loopback', 'http://127.0.0.1/hook'],
  ['loopback, decimal', 'http://2130706433/'],
  ['loopback, hex', 'http://0x7f000001/'],
  ['loopback, octal', 'http://0177.0.0.1/'],
  ['loopback, short', 'http://127.1/'],
  ['loopback, IPv6', 'http://[::1]/'],
  ['loopback, IPv4-mapped IPv6', 'http://[::ffff:127.0.0.1]/'],
  ['loopback, IPv4-mapped IPv6 in hex', 'http://[::ffff:7f00:1]/'],
  ['localhost', 'http://localhost:3000/'],
  ['a .localhost name', 'http://shop.localhost/'],
  ['cloud metadata (link-local)', 'http://169.254.169.254/latest/meta-data/'],
  ['cloud metadata, decimal', 'http://2852039166/'],
  ['link-local IPv6', 'http://[fe80::1]/'],
  ['private 10/8', 'http://10.0.0.1/'],
  ['private 172.16/12', 'https://172.20.1.1/'],
  ['private 192.168/16', 'http://192.168.1.10:8080/'],
  ['private, IPv4-mapped', 'http://[::ffff:10.0.0.1]/'],
  ['unique-local IPv6', 'http://[fd00::1]/'],
  ['carrier-grade NAT', 'http://100.64.0.1/'],
  ['unspecified', 'http://0.0.0.0/'],
  ['unspecified, short', 'http://0/'],
  ['unspecified IPv6', 'http://[::]/'],
  ['multicast', 'http://224.0.0.1/'],
  ['NAT64 of a private address', 'http://[64:ff9b::a00:1]/'],
  ['not http', 'ftp://example.com/hook'],
  ['a file', 'file:///etc/passwd'],
  ['credentials', 'http://user:secret@example.com/hook'],
  ['a user name only', 'https://user@example.com/hook'],
] as const;

test.each(refused)('refuses %s (%s)', (_what, url) => {
  expect(checkOutboundUrl(url, nothing)).toMatchObject({ ok: false, reason: expect.any(String) });
});

test.each([
  ['a public name', 'https://shop.example.com/hooks/orders'],
  ['a public address', 'http://93.184.216.34:8080/hook'],
  ['a public IPv6 address', 'http://[2606:2800:220:1:248:1893:25c8:1946]/'],
])('accepts %s (%s)', (_what, url) => {
  expect(checkOutboundUrl(url, nothing)).toMatchObject({ ok: true });
});

test('the development default lets loopback through, and nothing else that is not public', () => {
  expect(checkOutboundUrl('http://127.0.0.1:3000/hooks', devDefault)).toMatchObject({ ok: true });
  expect(checkOutboundUrl('http://localhost:3000/hooks', devDefault)).toMatchObject({ ok: true });
  expect(checkOutboundUrl('http://[::1]:3000/hooks', devDefault)).toMatchObject({ ok: true });
  expect(checkOutboundUrl('http://169.254.169.254/', devDefault)).toMatchObject({ ok: false });
  expect(checkOutboundUrl('http://10.1.2.3/', devDefault)).toMatchObject({ ok: false });
  expect(checkOutboundUrl('http://user:pw@127.0.0.1/', devDefault)).toMatchObject({ ok: false });
});

test('a listed network is allowed', () => {
  const allow = parseAllowList('10.20.0.0/16, receiver.internal');
  expect(checkOutboundUrl('http://10.20.3.4/', allow)).toMatchObject({ ok: true });
  expect(checkOutboundUrl('http://10.21.3.4/', allow)).toMatchObject({ ok: false });
});

describe('at send time, after resolution', () => {
  const resolvingTo =
    (...addresses: string[]) =>
    (_host: string, callback: (err: Error | null, a: { address: string; family: number }[]) => void) =>
      callback(
        null,
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
  const lookup = (allow: ReturnType<typeof parseAllowList>, ...addresses: string[]) =>
    new Promise<{ err: Error | null; address: unknown }>((resolve) =>
      guardedLookup(allow, resolvingTo(...addresses))('hooks.example.com', { all: true }, (err, address) =>
        resolve({ err, address }),
      ),
    );

  test('a name that resolves to a private or metadata address is refused', async () => {
    expect((await lookup(nothing, '10.0.0.7')).err?.message).toMatch(/10\.0\.0\.7.*not public/);
    expect((await lookup(nothing, '169.254.169.254')).err).not.toBeNull();
    expect((await lookup(nothing, '::ffff:127.0.0.1')).err).not.toBeNull();
    // One bad address among good ones is enough to refuse: the connection could pick it.
    expect((await lookup(nothing, '93.184.216.34', '192.168.0.1')).err).not.toBeNull();
  });

  test('a name that resolves to public addresses is connected to', async () => {
    const { err, address } = await lookup(nothing, '93.184.216.34');
    expect(err).toBeNull();
    expect(address).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });
});
