import type { Request } from 'express';
import { Problem } from '../problem';

/** The optional `Idempotency-Key` header: 1-128 printable ASCII characters. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,128}$/.test(key)) {
    throw new Problem(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1-128 printable ASCII characters');
  }
  return key;
}
