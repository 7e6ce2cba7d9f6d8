// One-time claim links. The token is derived (HMAC under CLAIM_TOKEN_SECRET) from the order
// id and a random nonce, so the API can show the link again without storing the token; the
// database holds only the nonce and the token's SHA-256, useless without the secret.
import { randomBytes } from 'node:crypto';
import type { Keyring } from '../infra/crypto';
import { hmacHex, sha256Hex } from '../infra/crypto';
import type { Db } from '../infra/db';
import { recordAuditInTx } from './audit';
import { openKey } from './inventory';

export function claimTokenFor(secret: string, orderId: string, nonce: string): string {
  return hmacHex(secret, `claim:${orderId}:${nonce}`);
}

/** A fresh claim link for an order (or a compensation): the nonce and the hash to store of its token. */
export function newClaimToken(secret: string, ownerId: string): { nonce: string; tokenHash: string } {
  const nonce = randomBytes(16).toString('hex');
  return { nonce, tokenHash: sha256Hex(claimTokenFor(secret, ownerId, nonce)) };
}

export type ClaimOutcome =
  { kind: 'not_found' } | { kind: 'gone' } | { kind: 'revealed'; orderId: string; items: ClaimedItem[] };

/** Card keys reveal their codes; a direct top-up was credited to the account: nothing to claim. */
export type ClaimedItem =
  | { sku: string; kind: 'card_key'; codes: string[] }
  | { sku: string; kind: 'direct_topup'; account: string | null; credited: number; note: string };

/** The order a claim token opens, if it is delivered; whether it was claimed already. */
export async function claimableOrder(db: Db, token: string) {
  const order = await db.order.findUnique({
    where: { claimTokenHash: sha256Hex(token) },
    select: { id: true, status: true, claimedAt: true },
  });
  if (!order || (order.status !== 'delivered' && order.status !== 'partially_delivered')) return null;
  return order;
}

/**
 * Reveals an order's codes exactly once: the conditional update on claimed_at lets only one
 * of any number of concurrent claims through. The reveal is audited with time and ip.
 */
export async function redeemClaim(db: Db, keyring: Keyring, token: string, ip: string): Promise<ClaimOutcome> {
  const order = await db.order.findUnique({
    where: { claimTokenHash: sha256Hex(token) },
    select: { id: true, status: true },
  });
  if (!order || (order.status !== 'delivered' && order.status !== 'partially_delivered')) return { kind: 'not_found' };
  return db.$transaction(async (tx) => {
    const { count } = await tx.order.updateMany({
      where: { id: order.id, claimedAt: null, status: { in: ['delivered', 'partially_delivered'] } },
      data: { claimedAt: new Date(), claimIp: ip },
    });
    if (count === 0) return { kind: 'gone' } as const;
    const items = await tx.orderItem.findMany({
      where: { orderId: order.id },
      orderBy: { position: 'asc' },
      include: {
        product: { select: { kind: true } },
        units: { where: { status: 'delivered' }, orderBy: { createdAt: 'asc' }, select: { cardKeyId: true } },
      },
    });
    const keyIds = items.flatMap((i) => i.units.map((u) => u.cardKeyId)).filter((id): id is string => id !== null);
    const keys = new Map((await tx.cardKey.findMany({ where: { id: { in: keyIds } } })).map((k) => [k.id, k] as const));
    await recordAuditInTx(tx, {
      actor: 'buyer',
      action: 'claim.revealed',
      subjectType: 'order',
      subjectId: order.id,
      details: { ip, keys: keyIds.length },
    });
    return {
      kind: 'revealed',
      orderId: order.id,
      items: items.map((item): ClaimedItem => {
        if (item.product.kind === 'direct_topup') {
          return {
            sku: item.sku,
            kind: 'direct_topup',
            account: item.account,
            credited: item.units.length,
            note: 'direct top-up: credited to the account, nothing to claim',
          };
        }
        return {
          sku: item.sku,
          kind: 'card_key',
          codes: item.units.flatMap((u) => {
            const key = u.cardKeyId ? keys.get(u.cardKeyId) : undefined;
            return key ? [openKey(keyring, key)] : [];
          }),
        };
      }),
    } as const;
  });
}

/**
 * A compensation's replacement key, revealed once through the claim link of its own (the
 * same token scheme, keyed by the compensation). Not found unless the compensation reissued.
 */
/** The replacement a compensation's claim token opens, if the compensation reissued one; whether it was claimed already. */
export async function claimableReplacement(db: Db, token: string) {
  const compensation = await db.compensation.findUnique({
    where: { claimTokenHash: sha256Hex(token) },
    select: { id: true, orderId: true, newUnitId: true, outcome: true, claimedAt: true },
  });
  if (!compensation?.newUnitId || compensation.outcome !== 'reissued') return null;
  return { id: compensation.id, orderId: compensation.orderId, claimedAt: compensation.claimedAt };
}

/**
 * Reveals a compensation's replacement once. The replacement must still be delivered under
 * a share lock (store/orders/unit-locks.ts): a replacement refunded since is not revealed.
 */
export async function redeemCompensationClaim(
  db: Db,
  keyring: Keyring,
  compensationId: string,
  ip: string,
): Promise<ClaimOutcome> {
  return db.$transaction(async (tx) => {
    const { count } = await tx.compensation.updateMany({
      where: { id: compensationId, claimedAt: null },
      data: { claimedAt: new Date() },
    });
    if (count === 0) return { kind: 'gone' } as const;
    const compensation = await tx.compensation.findUniqueOrThrow({ where: { id: compensationId } });
    const [delivered] = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text FROM order_units WHERE id = ${compensation.newUnitId}::uuid AND status = 'delivered' FOR SHARE`;
    if (!delivered) return { kind: 'gone' } as const;
    const unit = await tx.orderUnit.findUniqueOrThrow({
      where: { id: compensation.newUnitId! },
      include: { item: { select: { sku: true, account: true } } },
    });
    const key = unit.cardKeyId ? await tx.cardKey.findUniqueOrThrow({ where: { id: unit.cardKeyId } }) : null;
    await recordAuditInTx(tx, {
      actor: 'buyer',
      action: 'claim.revealed',
      subjectType: 'compensation',
      subjectId: compensation.id,
      details: { ip, keys: key ? 1 : 0, orderId: compensation.orderId },
    });
    const item: ClaimedItem = key
      ? { sku: unit.item.sku, kind: 'card_key', codes: [openKey(keyring, key)] }
      : {
          sku: unit.item.sku,
          kind: 'direct_topup',
          account: unit.item.account,
          credited: 1,
          note: 'direct top-up: credited to the account, nothing to claim',
        };
    return { kind: 'revealed', orderId: compensation.orderId, items: [item] } as const;
  });
}
