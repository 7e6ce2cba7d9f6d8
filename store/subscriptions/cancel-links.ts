// The buyer's one-click cancel link. Like the claim link (store/claims.ts), the token is an
// HMAC under CLAIM_TOKEN_SECRET of the subscription id and a random nonce, under a prefix of
// its own so a claim token can never be a cancel token; the database keeps the nonce (so the
// link can be handed out again) and the token's SHA-256 (so a token is looked up without
// being stored).
import { randomBytes } from 'node:crypto';
import { hmacHex, sha256Hex } from '../../infra/crypto';
import type { DbTx } from '../../infra/db';
import { subscriptionRefFields } from './queries';

export function cancelTokenFor(secret: string, subscriptionId: string, nonce: string): string {
  return hmacHex(secret, `subscription-cancel:${subscriptionId}:${nonce}`);
}

/** A fresh cancel link for a subscription: the nonce and the hash to store of its token. */
export function newCancelToken(secret: string, subscriptionId: string): { nonce: string; tokenHash: string } {
  const nonce = randomBytes(16).toString('hex');
  return { nonce, tokenHash: sha256Hex(cancelTokenFor(secret, subscriptionId, nonce)) };
}

/** The link the buyer is sent (in every renewal notice) and the owner can read back. */
export function cancelUrlFor(baseUrl: string, secret: string, subscription: { id: string; cancelNonce: string }) {
  return `${baseUrl}/v1/subscription-cancel/${cancelTokenFor(secret, subscription.id, subscription.cancelNonce)}`;
}

/** The subscription a cancel token opens, or null (a forged or mistyped token). */
export function subscriptionByCancelToken(db: DbTx, token: string) {
  if (!/^[0-9a-f]{64}$/.test(token)) return Promise.resolve(null);
  return db.subscription.findUnique({
    where: { cancelTokenHash: sha256Hex(token) },
    select: { ...subscriptionRefFields, nextChargeAt: true },
  });
}
