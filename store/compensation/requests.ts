// Asking for a compensation: one per unit and incident (the key, or the top-up, that failed),
// so the same request sent again — ten times at once — finds the one already made. A key the
// rights owner reports redeemed was used: compensating it needs an admin's override.
import type { Compensation, CompensationAction } from '@prisma/client';
import { workflowIds } from '../../domain/workflow-ids';
import type { Db } from '../../infra/db';
import { fingerprintOf } from '../inventory';
import type { Actor } from '../audit';
import { recordAuditInTx } from '../audit';
import { type LockedUnit, lockUnitsInTx } from '../orders/unit-locks';
import { SUPERSEDED, unitActionRefusal } from '../../domain/unit-actions';

export class CompensationRefused extends Error {
  constructor(
    readonly code: 'unit_not_found' | 'unit_not_delivered' | 'key_redeemed',
    message: string,
  ) {
    super(message);
  }
}

function refusal(unit: LockedUnit, options: { override?: boolean | undefined }): CompensationRefused {
  return unitActionRefusal(unit, options) === 'key_redeemed'
    ? new CompensationRefused(
        'key_redeemed',
        'the rights owner reports this key redeemed: compensating it needs an admin override',
      )
    : new CompensationRefused('unit_not_delivered', `the unit is ${unit.status}: only a delivered unit is compensated`);
}

export interface CompensationRequest {
  orderId: string;
  unitId: string;
  action: CompensationAction;
  reason: string;
  note?: string | undefined;
  /** `support`, `supplier` or `buyer`. */
  trigger: string;
  /** An admin allows compensating a redeemed key. */
  override?: boolean;
  /** A buyer's report waits for support (or the supplier) to confirm it. */
  awaitConfirmation?: boolean;
}

export async function requestCompensation(
  db: Db,
  input: CompensationRequest,
  actor: Actor,
): Promise<{ compensation: Compensation; created: boolean }> {
  return db.$transaction(async (tx) => {
    const locked = await lockUnitsInTx(tx, input.orderId, [input.unitId]);
    const unit = locked?.units[0];
    if (!unit) throw new CompensationRefused('unit_not_found', 'no such unit in this order');
    const incident = unit.cardKeyId ?? unit.supplierRef ?? input.unitId;
    const existing = await tx.compensation.findUnique({
      where: { unitId_incident: { unitId: input.unitId, incident } },
    });
    // A report closed because its unit was undone meanwhile (refunded) has nothing to confirm.
    if (existing?.outcome === SUPERSEDED) throw refusal(unit, {});
    if (existing?.status === 'awaiting_confirmation' && !input.awaitConfirmation) {
      // Support confirms a buyer's report: the unit is checked again under its lock, since it
      // may have been refunded or redeemed while the report waited.
      const refused = unitActionRefusal(unit, input);
      if (refused) throw refusal(unit, input);
      const confirmed = await tx.compensation.update({
        where: { id: existing.id },
        data: {
          status: 'open',
          action: input.action,
          note: input.note ?? existing.note,
          override: input.override ?? existing.override,
        },
      });
      await recordAuditInTx(tx, {
        actorClientId: actor.clientId,
        actor: actor.name,
        action: 'compensation.confirmed',
        subjectType: 'order_unit',
        subjectId: input.unitId,
        reason: input.reason,
        details: { compensationId: existing.id, action: input.action },
      });
      return { compensation: confirmed, created: false };
    }
    if (existing) return { compensation: existing, created: false };
    if (unitActionRefusal(unit, input)) throw refusal(unit, input);
    const compensation = await tx.compensation.create({
      data: {
        orderId: input.orderId,
        unitId: input.unitId,
        incident,
        action: input.action,
        trigger: input.trigger,
        reason: input.reason,
        note: input.note ?? null,
        override: input.override ?? false,
        status: input.awaitConfirmation ? 'awaiting_confirmation' : 'open',
        requestedBy: actor.name,
        requestedByClientId: actor.clientId,
        workflowId: workflowIds.compensation(input.unitId, incident),
      },
    });
    await recordAuditInTx(tx, {
      actorClientId: actor.clientId,
      actor: actor.name,
      action: 'compensation.requested',
      subjectType: 'order_unit',
      subjectId: input.unitId,
      reason: input.reason,
      details: {
        compensationId: compensation.id,
        orderId: input.orderId,
        action: input.action,
        trigger: input.trigger,
      },
    });
    return { compensation, created: true };
  });
}

/**
 * The unit of a claimed order whose key is `code` (matched by fingerprint, as imports match
 * duplicates: the code is never stored again), for a buyer's report. Null when none is.
 */
export async function unitByCode(
  db: Db,
  input: { orderId: string; code: string; fingerprintSecret: string },
): Promise<string | null> {
  const units = await db.orderUnit.findMany({
    where: { orderId: input.orderId, status: 'delivered', cardKeyId: { not: null } },
    select: { id: true, productId: true, cardKeyId: true },
  });
  const byProduct = new Map(
    units.map((u) => [u.productId, fingerprintOf(input.fingerprintSecret, u.productId, input.code)]),
  );
  const keys = await db.cardKey.findMany({
    where: { id: { in: units.map((u) => u.cardKeyId!) }, fingerprint: { in: [...byProduct.values()] } },
    select: { id: true, productId: true, fingerprint: true },
  });
  const key = keys.find((k) => byProduct.get(k.productId) === k.fingerprint);
  return key ? units.find((u) => u.cardKeyId === key.id)!.id : null;
}
