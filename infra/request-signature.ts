// Signatures on requests between the platform and its suppliers (docs/supplier-protocol.md):
// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<METHOD>.<path with query>.<raw body>">`.
// Method and path are inside the MAC so a signed lookup cannot be replayed as an order; the
// timestamp bounds replays to the tolerance window. Same header shape as our webhooks.
import { hmacHex, safeEqualHex } from './crypto';

export interface SignedRequest {
  method: string;
  /** The request target as sent: path and query. */
  path: string;
  body: string;
}

const macOf = (secret: string, r: SignedRequest, t: number) =>
  hmacHex(secret, `${t}.${r.method.toUpperCase()}.${r.path}.${r.body}`);

export function signRequest(secret: string, request: SignedRequest, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${macOf(secret, request, unixSeconds)}`;
}

export function verifyRequest(
  secret: string,
  request: SignedRequest,
  header: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1 || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  return safeEqualHex(parts.v1, macOf(secret, request, t));
}
