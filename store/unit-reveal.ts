// Phone support reads one delivered unit's code to the buyer. The code is decrypted in the
// transaction that writes the audit entry (who, why, which unit and key; never the code), so
// there is no reveal without its record.
import type { CardKeyStatus } from '@prisma/client';
import type { Keyring } from '../infra/crypto';
import type { Db } from '../infra/db';
import { type Actor, recordAuditInTx } from './audit';
import { openKey } from './inventory';

export type UnitReveal =
  | { kind: 'not_found' }
  /** A direct top-up, or a unit that never got a key. */
  | { kind: 'no_card_key' }
  /** Reserved for an order still in flight: the buyer has not been given it. */
  | { kind: 'not_delivered' }
  | { kind: 'revealed'; sku: string; keyStatus: CardKeyStatus; code: string };

export async function revealUnitKey(
  db: Db,
  keyring: Keyring,
  input: { orderId: string; unitId: string; reason: string; actor: Actor },
): Promise<UnitReveal> {
  return db.$transaction(async (tx): Promise<UnitReveal> => {
    const unit = await tx.orderUnit.findFirst({
      where: { id: input.unitId, orderId: input.orderId },
      select: { cardKeyId: true, item: { select: { sku: true } } },
    });
    if (!unit) return { kind: 'not_found' };
    const key = unit.cardKeyId ? await tx.cardKey.findUnique({ where: { id: unit.cardKeyId } }) : null;
    if (!key) return { kind: 'no_card_key' };
    // Only what the buyer already received: a reserved key of an undelivered order stays sealed.
    if (!key.deliveredAt) return { kind: 'not_delivered' };
    await recordAuditInTx(tx, {
      actorClientId: input.actor.clientId,
      actor: input.actor.name,
      action: 'order.unit_revealed',
      subjectType: 'order',
      subjectId: input.orderId,
      reason: input.reason,
      details: { unitId: input.unitId, cardKeyId: key.id, keyStatus: key.status },
    });
    return { kind: 'revealed', sku: unit.item.sku, keyStatus: key.status, code: openKey(keyring, key) };
  });
}
