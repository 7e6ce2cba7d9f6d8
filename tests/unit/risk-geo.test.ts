// Risk geometry and address arithmetic (pure), and geoip-lite's in-memory lookup.
import type { Geo } from '../../domain/risk/facts';
import { cidrContains, distanceKm, impliedSpeedKmh, ipKind, networkOf } from '../../domain/risk/geo';
import { ipFacts, locateIp } from '../../infra/geoip';

const BEIJING = { lat: 39.9042, lon: 116.4074 };
const NEW_YORK = { lat: 40.7128, lon: -74.006 };
const geo = (lat: number, lon: number, accuracyKm = 0): Geo => ({ country: 'ZZ', lat, lon, accuracyKm });
const at = (minutes: number) => new Date(Date.UTC(2025, 0, 1) + minutes * 60_000).toISOString();

describe('distanceKm', () => {
  test('Beijing to New York is about 10,990 km (within 1 %)', () => {
    expect(Math.abs(distanceKm(BEIJING, NEW_YORK) - 10_990) / 10_990).toBeLessThan(0.01);
  });

  test('is symmetric and zero for one point', () => {
    expect(distanceKm(NEW_YORK, BEIJING)).toBeCloseTo(distanceKm(BEIJING, NEW_YORK), 6);
    expect(distanceKm(BEIJING, BEIJING)).toBe(0);
  });

  test('one degree of latitude is about 111.2 km', () => {
    expect(distanceKm({ lat: 0, lon: 0 }, { lat: 1, lon: 0 })).toBeCloseTo(111.19, 1);
  });
});

describe('impliedSpeedKmh', () => {
  const a = geo(0, 0);
  const b = geo(0, 10);
  const d = distanceKm(a, b);

  test('distance over elapsed hours', () => {
    expect(impliedSpeedKmh({ geo: a, at: at(0) }, { geo: b, at: at(120) })).toBeCloseTo(d / 2, 6);
  });

  test('both accuracy radii come off the distance', () => {
    const from = { geo: geo(0, 0, 100), at: at(0) };
    const to = { geo: geo(0, 10, 200), at: at(120) };
    expect(impliedSpeedKmh(from, to)).toBeCloseTo((d - 300) / 2, 6);
  });

  test('radii that cover the whole distance imply no travel, however little time passed', () => {
    expect(impliedSpeedKmh({ geo: geo(0, 0, d / 2), at: at(0) }, { geo: geo(0, 10, d / 2), at: at(0) })).toBe(0);
  });

  test('zero or negative elapsed time with a real distance is Infinity', () => {
    expect(impliedSpeedKmh({ geo: a, at: at(0) }, { geo: b, at: at(0) })).toBe(Infinity);
    expect(impliedSpeedKmh({ geo: a, at: at(10) }, { geo: b, at: at(0) })).toBe(Infinity);
  });

  test('the same place at the same time is 0', () => {
    expect(impliedSpeedKmh({ geo: a, at: at(0) }, { geo: a, at: at(0) })).toBe(0);
  });

  test('timestamps with offsets are instants', () => {
    const from = { geo: a, at: '2025-01-01T08:00:00+08:00' }; // 00:00Z
    expect(impliedSpeedKmh(from, { geo: b, at: '2025-01-01T01:00:00Z' })).toBeCloseTo(d, 6);
  });
});

describe('ipKind', () => {
  test.each([
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['172.15.255.255', 'public'],
    ['172.32.0.0', 'public'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['127.0.0.1', 'reserved'],
    ['127.255.0.9', 'reserved'],
    ['::1', 'reserved'],
    ['169.254.10.10', 'reserved'],
    ['fe80::1', 'reserved'],
    ['fe80::1%eth0', 'reserved'],
    ['febf::1', 'reserved'],
    ['fec0::1', 'public'],
    ['0.0.0.0', 'reserved'],
    ['0.1.2.3', 'reserved'],
    ['100.64.0.1', 'reserved'],
    ['100.127.255.255', 'reserved'],
    ['100.128.0.0', 'public'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['198.20.0.0', 'public'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.5', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['239.255.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['::', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2001:db9::1', 'public'],
    ['ff02::1', 'reserved'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:127.0.0.1', 'reserved'],
    ['::ffff:7f00:1', 'reserved'],
    ['', 'invalid'],
    ['garbage', 'invalid'],
    ['256.1.1.1', 'invalid'],
    ['1.2.3', 'invalid'],
    ['01.2.3.4', 'invalid'],
    [' 8.8.8.8', 'invalid'],
    ['8.8.8.8/32', 'invalid'],
    ['2001:db8::g', 'invalid'],
    ['1:2:3:4:5:6:7:8:9', 'invalid'],
  ] as const)('%j is %s', (ip, kind) => {
    expect(ipKind(ip)).toBe(kind);
  });
});

describe('networkOf', () => {
  test.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['8.8.8.8', '8.8.8.0/24'],
    ['::ffff:81.2.69.142', '81.2.69.0/24'],
    ['2001:4860:4860::8888', '2001:4860:4860::/48'],
    ['2001:db8:abcd:12:34::1', '2001:db8:abcd::/48'],
    ['2400:3200::1', '2400:3200::/48'],
    ['::1', '::/48'],
  ])('%s is in %s', (ip, network) => {
    expect(networkOf(ip)).toBe(network);
  });

  test('an invalid address has no network', () => {
    expect(networkOf('not-an-ip')).toBeNull();
  });
});

describe('cidrContains', () => {
  test.each([
    ['198.51.100.0/24', '198.51.100.7', true],
    ['198.51.100.0/24', '198.51.101.7', false],
    ['198.51.100.0/24', '::ffff:198.51.100.7', true],
    ['10.0.0.0/8', '10.200.3.4', true],
    ['0.0.0.0/0', '81.2.69.142', true],
    ['198.51.100.7', '198.51.100.7', true],
    ['198.51.100.7', '198.51.100.8', false],
    ['198.51.100.7/32', '198.51.100.7', true],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['2001:db8:1::/48', '2001:db8:1:ffff::1', true],
    ['2001:db8::1', '2001:db8::1', true],
    ['2001:db8::1', '2001:db8::2', false],
    ['::/0', '2001:db8::2', true],
    ['::ffff:198.51.100.0/120', '198.51.100.9', true],
  ] as const)('%s contains %s: %s', (cidr, ip, expected) => {
    expect(cidrContains(cidr, ip)).toBe(expected);
  });

  test('an IPv4 range never contains an IPv6 address, nor the reverse', () => {
    expect(cidrContains('0.0.0.0/0', '2001:db8::1')).toBe(false);
    expect(cidrContains('::/0', '8.8.8.8')).toBe(false);
  });

  test.each([
    ['198.51.100.0/33', '198.51.100.1'],
    ['198.51.100.0/', '198.51.100.1'],
    ['198.51.100.0/x', '198.51.100.1'],
    ['198.51.100.0/24/8', '198.51.100.1'],
    ['2001:db8::/129', '2001:db8::1'],
    ['not-a-range', '198.51.100.1'],
    ['198.51.100.0/24', 'not-an-ip'],
  ])('malformed %s or %s contains nothing', (cidr, ip) => {
    expect(cidrContains(cidr, ip)).toBe(false);
  });
});

describe('locateIp and ipFacts (geoip-lite)', () => {
  test.each([
    ['8.8.8.8', 'US'],
    ['81.2.69.142', 'GB'],
    ['114.114.114.114', 'CN'],
    ['::ffff:81.2.69.142', 'GB'],
    ['2001:4860:4860::8888', 'US'],
  ])('%s is located in %s', (ip, country) => {
    const geo = locateIp(ip);
    expect(geo).toMatchObject({ country });
    expect(geo?.accuracyKm).toBeGreaterThan(0);
    expect(Math.abs(geo?.lat ?? 99)).toBeLessThanOrEqual(90);
  });

  test('a city-level match carries its radius', () => {
    expect(locateIp('81.2.69.142')).toEqual({
      country: 'GB',
      lat: expect.any(Number),
      lon: expect.any(Number),
      accuracyKm: 100,
    });
  });

  test.each(['10.0.0.1', '127.0.0.1', '203.0.113.5', 'garbage', '1.1.1.1'])('%s has no location', (ip) => {
    // 1.1.1.1 is public, but the database knows no country for it.
    expect(locateIp(ip)).toBeNull();
  });

  test('ipFacts locates only public addresses', () => {
    expect(ipFacts('81.2.69.142')).toEqual({
      ip: '81.2.69.142',
      kind: 'public',
      network: '81.2.69.0/24',
      geo: expect.objectContaining({ country: 'GB' }),
    });
    expect(ipFacts('192.168.1.20')).toEqual({
      ip: '192.168.1.20',
      kind: 'private',
      network: '192.168.1.0/24',
      geo: null,
    });
    expect(ipFacts('1.1.1.1')).toMatchObject({ kind: 'public', geo: null });
    expect(ipFacts('nope')).toEqual({ ip: 'nope', kind: 'invalid', network: 'nope', geo: null });
  });
});
