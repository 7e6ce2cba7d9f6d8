// Webhook signatures: `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
// The timestamp inside the MAC lets receivers refuse replays of old deliveries.
import { signatureHeader, verifySignatureHeader } from './signature-header';

export function signWebhook(secret: string, rawBody: string, unixSeconds: number): string {
  return signatureHeader(secret, unixSeconds, (t) => `${t}.${rawBody}`);
}

/** For receivers (and our tests): checks the MAC and that t is within the tolerance. */
export function verifyWebhook(
  secret: string,
  rawBody: string,
  header: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  return verifySignatureHeader(secret, header, nowSeconds, toleranceSeconds, (t) => `${t}.${rawBody}`);
}
