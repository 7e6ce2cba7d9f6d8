// One client address, one spelling. Every IP address that enters the platform — an order's
// buyer.ip, a claim's socket address or X-Forwarded-For, an allow/deny list entry — is parsed
// here at the edge and kept in the canonical text this module writes; everything inward (the
// facts SQL's `inet` casts and list matching, velocity counts by address and network, geo
// lookups, the claim rate limiter's keys) compares that text and relies on it. The database
// refuses an order address that is not in this form (orders_buyer_ip_canonical).
//
// Why: PostgreSQL's inet takes ::ffff:8.8.4.4 for an IPv6 address, so a deny-listed
// 8.8.4.4/32 did not contain it, and an API bound to `::` sees every IPv4 client that way.
//
// The canonical form:
// - IPv4: dotted decimal without leading zeros. An octet written 010 is refused, not read:
//   some parsers take it as octal (8), others as decimal (10).
// - IPv4-mapped IPv6 (::ffff:a.b.c.d in any spelling: ::ffff:808:404, 0:0:0:0:0:FFFF:…) and
//   IPv4-compatible IPv6 (::a.b.c.d, deprecated by RFC 4291): the IPv4 address they carry.
//   :: and ::1 are not IPv4-compatible: they keep their IPv6 meaning (unspecified, loopback).
// - Any other IPv6: RFC 5952 — lower case, no leading zeros, the longest run of two or more
//   zero groups as `::` (the first on a tie), no dotted tail. PostgreSQL's host() writes the
//   same text for these (tests/unit/ip-address.test.ts and the migration test check it).
// - A zone id (fe80::1%eth0) is dropped, not refused. Decision: a zone names an interface of
//   the host that saw the address (RFC 4007), not the client, so one client would have as
//   many spellings as observers — the opposite of a canonical form; it only qualifies
//   link-local addresses, which risk treats as reserved (not located, not counted) with or
//   without it; and refusing it would fail a buyer's claim through a proxy on the link, an
//   error the buyer cannot fix. A zone on an IPv4 address, or an empty or odd one, is not an
//   address at all.
// Anything else is not an address: order intake answers 422, the claim path 400
// (api/middleware/client-address.ts), a list entry 422.
//
// Pure (no node:net), so workflows could import it too.
import { z } from 'zod';

export type IpVersion = 4 | 6;

/** An address as a number: IPv4 in 32 bits, IPv6 in 128 (BigInt for both, one code path). */
export interface IpAddress {
  readonly version: IpVersion;
  readonly value: bigint;
}

/** A network: an address and a prefix length whose host bits are zero. */
export interface IpNetwork extends IpAddress {
  readonly prefix: number;
}

declare const canonical: unique symbol;
/** Text written by this module (formatIp): the only spelling of an address inside the platform. */
export type CanonicalIp = string & { readonly [canonical]: true };

export const WIDTH = { 4: 32, 6: 128 } as const;

// Longer than any address with a sane zone: refused before parsing.
const MAX_TEXT = 100;
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
// RFC 6874's zone characters (unreserved), as an interface name or index is written.
const ZONE = /^[\w.~-]{1,64}$/;
const IPV4_MAPPED = 0xffffn; // ::ffff:0:0/96, the top 96 bits

function parseV4(text: string): bigint | null {
  if (!IPV4.test(text)) return null;
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(octet), 0n);
}

/** The 16-bit groups of one side of `::`; a dotted IPv4 tail (two groups) only where the address ends. */
function groupsOf(part: string, endsAddress: boolean): bigint[] | null {
  if (part === '') return [];
  const items = part.split(':');
  const groups: bigint[] = [];
  for (const [i, item] of items.entries()) {
    if (endsAddress && i === items.length - 1 && item.includes('.')) {
      const v4 = parseV4(item);
      if (v4 === null) return null;
      groups.push(v4 >> 16n, v4 & 0xffffn);
    } else if (HEX_GROUP.test(item)) {
      groups.push(BigInt(`0x${item}`));
    } else {
      return null;
    }
  }
  return groups;
}

/** RFC 4291 text: eight groups, or fewer around one `::` standing for at least one zero group. */
function parseV6(text: string): bigint | null {
  const halves = text.split('::');
  let groups: bigint[];
  if (halves.length === 1) {
    const all = groupsOf(text, true);
    if (all === null || all.length !== 8) return null;
    groups = all;
  } else if (halves.length === 2) {
    const head = groupsOf(halves[0]!, false);
    const tail = groupsOf(halves[1]!, true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups = [...head, ...Array<bigint>(8 - head.length - tail.length).fill(0n), ...tail];
  } else {
    return null;
  }
  return groups.reduce((acc, group) => (acc << 16n) | group, 0n);
}

/** An IPv6 value that carries an IPv4 address (mapped or compatible), as that IPv4 value; else null. */
function embeddedV4(value: bigint): bigint | null {
  const top = value >> 32n;
  if (top === IPV4_MAPPED) return value & 0xffffffffn;
  if (top === 0n && value > 1n) return value; // IPv4-compatible; :: and ::1 stay IPv6
  return null;
}

/**
 * The address as written (`folded`: it was IPv6 carrying an IPv4 address, now that address),
 * or null when the text is not an address.
 */
function parse(text: string): { address: IpAddress; folded: boolean } | null {
  if (text.length === 0 || text.length > MAX_TEXT) return null;
  const [written = '', zone, ...more] = text.split('%');
  if (more.length > 0 || (zone !== undefined && !ZONE.test(zone))) return null;
  if (!written.includes(':')) {
    const v4 = zone === undefined ? parseV4(written) : null;
    return v4 === null ? null : { address: { version: 4, value: v4 }, folded: false };
  }
  const v6 = parseV6(written);
  if (v6 === null) return null;
  const v4 = embeddedV4(v6);
  return v4 === null
    ? { address: { version: 6, value: v6 }, folded: false }
    : { address: { version: 4, value: v4 }, folded: true };
}

/** The address a text spells, in canonical terms (see the header); null if it is not one. */
export function parseIp(text: string): IpAddress | null {
  return parse(text)?.address ?? null;
}

/** The canonical text of an address. */
export function formatIp({ version, value }: IpAddress): CanonicalIp {
  if (version === 4) return [24n, 16n, 8n, 0n].map((shift) => (value >> shift) & 0xffn).join('.') as CanonicalIp;
  const groups = Array.from({ length: 8 }, (_, i) => (value >> BigInt(112 - 16 * i)) & 0xffffn);
  let best = { start: -1, length: 1 }; // a run must be longer than one group
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0n) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.start < 0) return hex.join(':') as CanonicalIp;
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}` as CanonicalIp;
}

/** The canonical text of an address written any accepted way; null if the text is not an address. */
export function canonicalIp(text: string): CanonicalIp | null {
  const address = parseIp(text);
  return address && formatIp(address);
}

function mask(version: IpVersion, prefix: number): bigint {
  const width = WIDTH[version];
  return ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix);
}

/** The network of the first `prefix` bits of an address. */
export function networkAt(address: IpAddress, prefix: number): IpNetwork {
  return { version: address.version, value: address.value & mask(address.version, prefix), prefix };
}

export function networkContains(network: IpNetwork, address: IpAddress): boolean {
  return (
    network.version === address.version && (address.value & mask(network.version, network.prefix)) === network.value
  );
}

/** "198.51.100.0/24", "2001:db8::/32": the canonical address of the network and its prefix length. */
export function formatNetwork(network: IpNetwork): string {
  return `${formatIp(network)}/${network.prefix}`;
}

const NOT_A_NETWORK = 'must be an IPv4 or IPv6 address, or a network in CIDR notation (198.51.100.0/24, 2001:db8::/32)';

/**
 * A list entry's network: "198.51.100.0/24", "2001:db8::/32", or a bare address as a /32 or
 * /128. An IPv6-written IPv4 network (::ffff:198.51.100.0/120) is the IPv4 network
 * 198.51.100.0/24: its prefix counts IPv6 bits, so it must be at least /96. Refused with a
 * reason: legacy abbreviations PostgreSQL would take ("10/8", "192.168"), a prefix too long,
 * and bits set beyond the prefix ("198.51.100.7/24"): an operator who wrote one host and a
 * mask may have meant either, and widening an entry to the whole network (on the allow list,
 * too) is not a guess to make for them.
 */
export function parseIpNetwork(text: string): { network: IpNetwork } | { refused: string } {
  const [written = '', prefixText, ...rest] = text.split('/');
  const parsed = rest.length === 0 ? parse(written) : null;
  if (!parsed || (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))) return { refused: NOT_A_NETWORK };
  const { address, folded } = parsed;
  const writtenWidth = folded ? 128 : WIDTH[address.version];
  const prefixWritten = prefixText === undefined ? writtenWidth : Number(prefixText);
  if (prefixWritten > writtenWidth) return { refused: `the prefix length must be at most /${writtenWidth}` };
  if (folded && prefixWritten < 96) return { refused: 'an IPv4-mapped network must be at least /96' };
  const prefix = folded ? prefixWritten - 96 : prefixWritten;
  const network = networkAt(address, prefix);
  if (network.value !== address.value) {
    return {
      refused: `${text} has bits set beyond its /${prefixWritten} prefix: the network is ${formatNetwork(network)}`,
    };
  }
  return { network };
}

// A /64 is one IPv6 subnet: SLAAC and privacy extensions hand every host in it as many
// addresses as it likes, so one client counts as its /64. An IPv4 address is one client (or
// one NAT) already. Risk's network counts group wider still (/24, /48: domain/risk/geo.ts).
const IPV6_CLIENT_PREFIX = 64;

/** Whom a request counts against in a per-client limit: the IPv4 address, or the IPv6 address's /64. */
export function clientBucketOf(ip: CanonicalIp): string {
  const address = parseIp(ip);
  if (!address) throw new Error(`not a canonical address: ${ip}`); // cannot happen: CanonicalIp comes from formatIp
  return address.version === 4 ? ip : formatNetwork(networkAt(address, IPV6_CLIENT_PREFIX));
}

/** An IP address field: any accepted spelling in, the canonical text out (422 otherwise). */
export const IpAddressSchema = z.string().transform((text, ctx): CanonicalIp => {
  const address = canonicalIp(text);
  if (address === null) {
    ctx.addIssue({ code: 'custom', message: 'must be an IPv4 or IPv6 address' });
    return z.NEVER;
  }
  return address;
});
