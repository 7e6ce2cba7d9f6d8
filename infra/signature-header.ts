// The signature header webhooks and supplier requests share: `t=<unix seconds>,v1=<hex
// HMAC-SHA256 of a message that starts with "<t>.">`. The timestamp inside the MAC bounds
// replays to the tolerance window; what follows it is the caller's (see the two users).
import { hmacHex, safeEqualHex } from './crypto';

export function signatureHeader(secret: string, unixSeconds: number, message: (t: number) => string): string {
  return `t=${unixSeconds},v1=${hmacHex(secret, message(unixSeconds))}`;
}

/** Checks the MAC and that t is within the tolerance of now. */
export function verifySignatureHeader(
  secret: string,
  header: string,
  nowSeconds: number,
  toleranceSeconds: number,
  message: (t: number) => string,
): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1 || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  return safeEqualHex(parts.v1, hmacHex(secret, message(t)));
}
