// Where the platform may send requests of its own (webhooks, callbacks): http(s) URLs on
// public addresses only, unless an operator lists a host or network. Checked twice: at
// intake on the URL as written (every IPv4 spelling — decimal, hex, octal, short — is
// normalised by the WHATWG URL parser first), and at send time on every address the name
// resolves to, inside the connection's own lookup, so the checked address is the one
// connected to (a name can resolve to a private address later).
import { type LookupAddress, lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** Networks no outbound request may reach unless listed: loopback, private, link-local (cloud metadata), and every reserved range. */
const NEVER_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NEVER_PUBLIC.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NEVER_PUBLIC.addSubnet(network, prefix, 'ipv6');

/** The IPv4 address an IPv6 address carries (IPv4-mapped, IPv4-compatible, NAT64), if any. */
function embeddedIpv4(ipv6: string): string | undefined {
  const mapped = /^(?:::ffff:|::|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(ipv6);
  if (!mapped) return undefined;
  if (mapped[1]) return mapped[1];
  const high = parseInt(mapped[2]!, 16);
  const low = parseInt(mapped[3]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

export interface OutboundAllowList {
  hosts: Set<string>;
  networks: BlockList;
}

/** `OUTBOUND_URL_ALLOWLIST`: comma-separated host names, addresses and CIDR networks. */
export function parseAllowList(spec: string): OutboundAllowList {
  const hosts = new Set<string>();
  const networks = new BlockList();
  for (const entry of spec
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean)) {
    const [address, prefix] = entry.split('/');
    const family = isIP(address!);
    if (family === 0) hosts.add(entry);
    else if (prefix === undefined) networks.addAddress(address!, family === 4 ? 'ipv4' : 'ipv6');
    else networks.addSubnet(address!, Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
  }
  return { hosts, networks };
}

/** Whether a request may go to this address (an IP literal or a resolved address). */
export function isAllowedAddress(address: string, allow: OutboundAllowList): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (allow.networks.check(address, type)) return true;
  const ipv4 = family === 6 ? embeddedIpv4(address) : undefined;
  if (ipv4) return isAllowedAddress(ipv4, allow);
  return !NEVER_PUBLIC.check(address, type);
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** The check on a URL as written: scheme, credentials, and the host if it is an address or a local name. */
export function checkOutboundUrl(raw: string, allow: OutboundAllowList): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'only http and https URLs' };
  if (url.username || url.password) return { ok: false, reason: 'URLs may not carry credentials' };
  const host = url.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (allow.hosts.has(host)) return { ok: true, url };
  if (isIP(host)) {
    return isAllowedAddress(host, allow) ? { ok: true, url } : { ok: false, reason: `address ${host} is not public` };
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return { ok: false, reason: `${host} is not public` };
  return { ok: true, url };
}

export class OutboundAddressRefused extends Error {
  readonly code = 'EOUTBOUNDREFUSED';
}

type Resolver = (hostname: string, callback: (err: Error | null, addresses: LookupAddress[]) => void) => void;
const systemResolver: Resolver = (hostname, callback) => dnsLookup(hostname, { all: true }, callback);

/**
 * A `lookup` for http(s).request that resolves the name and refuses it when any address it
 * resolves to is not allowed, so the connection can only go to a checked address.
 */
export function guardedLookup(allow: OutboundAllowList, resolve: Resolver = systemResolver) {
  return (
    hostname: string,
    options: { all?: boolean } | number,
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    resolve(hostname, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.find(
        (a) => !allow.hosts.has(hostname.toLowerCase()) && !isAllowedAddress(a.address, allow),
      );
      if (refused || addresses.length === 0) {
        return callback(
          new OutboundAddressRefused(`${hostname} resolves to ${refused?.address ?? 'nothing'}, which is not public`),
          '',
          0,
        );
      }
      if (typeof options === 'object' && options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export interface OutboundResponse {
  status: number;
  body: string;
}

/**
 * Sends a request to an outbound URL under both checks; no redirects followed. Resolves with
 * the status and body text, rejects on a refused URL or address (OutboundAddressRefused), a
 * network error or the timeout (for the whole exchange).
 */
export async function sendOutbound(
  raw: string,
  request: { method: string; body?: string; headers: Record<string, string> },
  options: { allow: OutboundAllowList; timeoutMs: number },
): Promise<OutboundResponse> {
  const checked = checkOutboundUrl(raw, options.allow);
  if (!checked.ok) throw new OutboundAddressRefused(`${raw}: ${checked.reason}`);
  const { url } = checked;
  const transport = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const body = request.body ?? '';
  return new Promise<OutboundResponse>((resolve, reject) => {
    const req = transport.request(
      url,
      {
        method: request.method,
        headers: { ...request.headers, 'content-length': Buffer.byteLength(body).toString() },
        lookup: guardedLookup(options.allow) as never,
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** POSTs a body to an outbound URL (see sendOutbound); resolves with the status. */
export async function postOutbound(
  raw: string,
  body: string,
  headers: Record<string, string>,
  options: { allow: OutboundAllowList; timeoutMs: number },
): Promise<number> {
  return (await sendOutbound(raw, { method: 'POST', body, headers }, options)).status;
}
