// Signatures on requests between the platform and its suppliers (docs/supplier-protocol.md):
// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<METHOD>.<path with query>.<raw body>">`.
// Method and path are inside the MAC so a signed lookup cannot be replayed as an order; the
// timestamp bounds replays to the tolerance window. Same header shape as our webhooks.
import { signatureHeader, verifySignatureHeader } from './signature-header';

export interface SignedRequest {
  method: string;
  /** The request target as sent: path and query. */
  path: string;
  body: string;
}

const messageOf = (r: SignedRequest) => (t: number) => `${t}.${r.method.toUpperCase()}.${r.path}.${r.body}`;

export function signRequest(secret: string, request: SignedRequest, unixSeconds: number): string {
  return signatureHeader(secret, unixSeconds, messageOf(request));
}

export function verifyRequest(
  secret: string,
  request: SignedRequest,
  header: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  return verifySignatureHeader(secret, header, nowSeconds, toleranceSeconds, messageOf(request));
}
