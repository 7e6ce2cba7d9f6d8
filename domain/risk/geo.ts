// Geometry and address arithmetic for the risk rules: pure, no lookups. IPv6 needs 128-bit
// arithmetic, so addresses are BigInts throughout (IPv4 too, to share one code path).
import { isIP } from 'node:net';
import type { Geo, IpFacts, IpKind } from './facts';

const EARTH_RADIUS_KM = 6371;
const MS_PER_HOUR = 3_600_000;

/** Great-circle distance (haversine). */
export function distanceKm(a: Pick<Geo, 'lat' | 'lon'>, b: Pick<Geo, 'lat' | 'lon'>): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * The slowest speed that explains moving between two located events. Both positions are
 * only known within their accuracy radius, so the radii come off the distance first: two
 * country-level guesses 1,000 km apart imply no travel at all.
 */
export function impliedSpeedKmh(from: { geo: Geo; at: string }, to: { geo: Geo; at: string }): number {
  const km = Math.max(0, distanceKm(from.geo, to.geo) - from.geo.accuracyKm - to.geo.accuracyKm);
  if (km === 0) return 0;
  const hours = (Date.parse(to.at) - Date.parse(from.at)) / MS_PER_HOUR;
  return hours > 0 ? km / hours : Infinity;
}

type Address = { version: 4 | 6; value: bigint };

const WIDTH = { 4: 32, 6: 128 } as const;
const IPV4_MAPPED_PREFIX = 0xffffn; // ::ffff:0:0/96

function parseV4(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function parseV6(text: string): bigint {
  const [head = '', tail] = text.split('::');
  const groupsOf = (part: string): bigint[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [BigInt(`0x${group}`)];
          const v4 = parseV4(group); // an embedded IPv4 tail is two groups
          return [v4 >> 16n, v4 & 0xffffn];
        });
  const first = groupsOf(head);
  const last = tail === undefined ? [] : groupsOf(tail);
  const groups = [...first, ...Array<bigint>(8 - first.length - last.length).fill(0n), ...last];
  return groups.reduce((acc, group) => (acc << 16n) | group, 0n);
}

/**
 * Parses an address; IPv4-mapped IPv6 (how a dual-stack socket reports an IPv4 client)
 * becomes the IPv4 address it carries, so one client is one address whichever way it came.
 */
function parseAddress(text: string): (Address & { mapped: boolean }) | null {
  const version = isIP(text);
  if (version === 4) return { version: 4, value: parseV4(text), mapped: false };
  if (version !== 6) return null;
  const value = parseV6(text.replace(/%.*$/, '')); // a zone id (fe80::1%eth0) names a local interface, not an address
  if (value >> 32n === IPV4_MAPPED_PREFIX) return { version: 4, value: value & 0xffffffffn, mapped: true };
  return { version: 6, value, mapped: false };
}

function formatAddress({ version, value }: Address): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((shift) => (value >> shift) & 0xffn).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => (value >> BigInt(112 - 16 * i)) & 0xffffn);
  // RFC 5952: compress the longest run (of at least two) of zero groups, the first on a tie.
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0n) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

function mask(version: 4 | 6, prefix: number): bigint {
  const width = WIDTH[version];
  return ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix);
}

type Prefix = Address & { prefix: number };

/** "198.51.100.0/24", "2001:db8::/32" or a bare address (a /32 or /128); null if malformed. */
function parseCidr(text: string): Prefix | null {
  const [addressText = '', prefixText, ...rest] = text.trim().split('/');
  if (rest.length > 0) return null;
  const address = parseAddress(addressText);
  if (!address) return null;
  // A mapped prefix is written in IPv6 bits; its IPv4 part starts after the first 96.
  const width = address.mapped ? 128 : WIDTH[address.version];
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const written = prefixText === undefined ? width : Number(prefixText);
  if (written > width) return null;
  const prefix = address.mapped ? written - 96 : written;
  if (prefix < 0) return null;
  return { version: address.version, value: address.value, prefix };
}

function contains(range: Prefix, address: Address): boolean {
  if (range.version !== address.version) return false;
  const m = mask(range.version, range.prefix);
  return (range.value & m) === (address.value & m);
}

/** Whether a list entry (a CIDR prefix or a bare address) covers the address; false if either is malformed. */
export function cidrContains(cidr: string, ip: string): boolean {
  const range = parseCidr(cidr);
  const address = parseAddress(ip);
  return range !== null && address !== null && contains(range, address);
}

function ranges(kind: Exclude<IpKind, 'public' | 'invalid'>, cidrs: string[]): { kind: IpKind; range: Prefix }[] {
  return cidrs.map((cidr) => {
    const range = parseCidr(cidr);
    if (!range) throw new Error(`bad special-purpose range ${cidr}`);
    return { kind, range };
  });
}

// IANA special-purpose registries: addresses that identify nobody on the public internet
// (RFC 1918 and unique-local are "private": a real network, just not a locatable one).
const SPECIAL_PURPOSE = [
  ...ranges('private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']),
  ...ranges('reserved', [
    '0.0.0.0/8',
    '100.64.0.0/10', // carrier-grade NAT: thousands of subscribers behind each address
    '127.0.0.0/8',
    '169.254.0.0/16',
    '192.0.0.0/24',
    '192.0.2.0/24',
    '198.18.0.0/15',
    '198.51.100.0/24',
    '203.0.113.0/24',
    '224.0.0.0/4',
    '240.0.0.0/4', // includes 255.255.255.255
    '::/128',
    '::1/128',
    'fe80::/10',
    '2001:db8::/32',
    'ff00::/8',
  ]),
];

export function ipKind(ip: string): IpKind {
  const address = parseAddress(ip);
  if (!address) return 'invalid';
  return SPECIAL_PURPOSE.find(({ range }) => contains(range, address))?.kind ?? 'public';
}

/**
 * The network an address belongs to, as CIDR text: the /24 of an IPv4 address, the /48 of an
 * IPv6 one (a typical site allocation: one customer can rotate through its whole /64s).
 * Null for an invalid address.
 */
export function networkOf(ip: string): string | null {
  const address = parseAddress(ip);
  if (!address) return null;
  const prefix = address.version === 4 ? 24 : 48;
  return `${formatAddress({ version: address.version, value: address.value & mask(address.version, prefix) })}/${prefix}`;
}

/** The canonical text of an address (IPv4-mapped as plain IPv4, IPv6 per RFC 5952); null if invalid. */
export function normalizeIp(ip: string): string | null {
  const address = parseAddress(ip);
  return address && formatAddress(address);
}

/**
 * An address's facts, with its location as found by a lookup elsewhere (infra/geoip.ts, at
 * intake for an order's address): only a public address keeps one.
 */
export function ipFactsOf(ip: string, geo: Geo | null): IpFacts {
  const kind = ipKind(ip);
  return { ip, kind, network: networkOf(ip) ?? ip, geo: kind === 'public' ? geo : null };
}
