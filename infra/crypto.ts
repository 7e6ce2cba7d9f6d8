// Every secret the platform handles passes through here: card keys and webhook secrets are
// sealed with AES-256-GCM (the key id travels with the ciphertext for rotation); API keys and
// claim tokens are only ever stored as hashes; duplicates are found by HMAC fingerprint.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Keyring {
  /** The key id new ciphertexts are written under. */
  currentKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

export function keyringFrom(keyId: string, base64Key: string): Keyring {
  const key = Buffer.from(base64Key, 'base64');
  if (key.length !== 32) throw new Error('encryption key must be 32 bytes');
  return { currentKeyId: keyId, keys: new Map([[keyId, key]]) };
}

const VERSION = 'v1';

/** Returns `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). */
export function seal(keyring: Keyring, plaintext: string, associatedData = ''): string {
  const key = keyring.keys.get(keyring.currentKeyId);
  if (!key) throw new Error(`unknown key id ${keyring.currentKeyId}`);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(associatedData));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, keyring.currentKeyId, iv, cipher.getAuthTag(), body]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

export function open(keyring: Keyring, envelope: string, associatedData = ''): string {
  const [version, keyId, iv, tag, body] = envelope.split('.');
  if (version !== VERSION || !keyId || !iv || !tag || body === undefined) throw new Error('malformed ciphertext');
  const key = keyring.keys.get(keyId);
  if (!key) throw new Error(`unknown key id ${keyId}`);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(associatedData));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

export function hmacHex(secret: string, message: string): string {
  return createHmac('sha256', secret).update(message).digest('hex');
}

/** API keys are 32 random bytes, so a plain SHA-256 is enough to make the stored value useless. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function randomToken(prefix: string, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

export function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
