// Geometry and address classes for the risk rules: pure, no lookups. Addresses are parsed and
// spelled by domain/ip-address.ts (one canonical form); this file only classifies them.
import { formatNetwork, type IpNetwork, networkContains, networkAt, parseIp, parseIpNetwork } from '../ip-address';
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

/** Whether a list entry (a network or a bare address) covers the address; false if either is malformed. */
export function cidrContains(cidr: string, ip: string): boolean {
  const range = parseIpNetwork(cidr.trim());
  const address = parseIp(ip);
  return 'network' in range && address !== null && networkContains(range.network, address);
}

function ranges(kind: Exclude<IpKind, 'public' | 'invalid'>, cidrs: string[]): { kind: IpKind; range: IpNetwork }[] {
  return cidrs.map((cidr) => {
    const range = parseIpNetwork(cidr);
    if (!('network' in range)) throw new Error(`bad special-purpose range ${cidr}`);
    return { kind, range: range.network };
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
  const address = parseIp(ip);
  if (!address) return 'invalid';
  return SPECIAL_PURPOSE.find(({ range }) => networkContains(range, address))?.kind ?? 'public';
}

/**
 * The network an address belongs to, as CIDR text: the /24 of an IPv4 address, the /48 of an
 * IPv6 one (a typical site allocation: one customer can rotate through its whole /64s).
 * Null for an invalid address. The database derives the same network (orders.buyer_network).
 */
export function networkOf(ip: string): string | null {
  const address = parseIp(ip);
  if (!address) return null;
  return formatNetwork(networkAt(address, address.version === 4 ? 24 : 48));
}

/**
 * An address's facts, with its location as found by a lookup elsewhere (infra/geoip.ts, at
 * intake for an order's address): only a public address keeps one. The address is given in
 * its canonical form (domain/ip-address.ts) and kept as given.
 */
export function ipFactsOf(ip: string, geo: Geo | null): IpFacts {
  const kind = ipKind(ip);
  return { ip, kind, network: networkOf(ip) ?? ip, geo: kind === 'public' ? geo : null };
}
