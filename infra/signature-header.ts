// The signature header webhooks and supplier requests share: `t=<unix seconds>,v1=<hex
// HMAC-SHA256 of a message that starts with "<t>.">`. The timestamp inside the MAC bounds
// replays to the tolerance window; what follows it is the caller's (see the two users).
import { hmacHex, safeEqualHex } from './crypto';

export function signatureHeader(secret: string, unixSeconds: number, message: (t: number) => string): string {
  return `t=${unixSeconds},v1=${hmacHex(secret, message(unixSeconds))}`;
}

/** A v1 MAC as sent: 32 bytes in hex, either case (Buffer's hex parser would stop at the first bad character). */
const V1 = /^[0-9a-fA-F]{64}$/;

/**
 * Checks the MAC and that t is within the tolerance of now. Elements are comma-separated
 * `key=value` pairs (spaces around them ignored); `t` is one run of digits, given once. A
 * header may carry several `v1` values — a signer rotating its secret signs with the old and
 * the new one — and passes when any of them is right; other keys (v0, a future v2) are ignored.
 */
export function verifySignatureHeader(
  secret: string,
  header: string,
  nowSeconds: number,
  toleranceSeconds: number,
  message: (t: number) => string,
): boolean {
  const times: string[] = [];
  const macs: string[] = [];
  for (const element of header.split(',')) {
    const at = element.indexOf('=');
    if (at < 0) continue;
    const key = element.slice(0, at).trim();
    const value = element.slice(at + 1).trim();
    if (key === 't') times.push(value);
    else if (key === 'v1') macs.push(value);
  }
  if (times.length !== 1 || !/^\d{1,12}$/.test(times[0]!)) return false;
  const t = Number(times[0]);
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = hmacHex(secret, message(t));
  // Every candidate is compared (in constant time each), so the answer's time does not say which matched.
  return macs.filter((mac) => V1.test(mac)).reduce((ok, mac) => safeEqualHex(mac, expected) || ok, false);
}
