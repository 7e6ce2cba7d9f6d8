// The platform's own record of provider payments (Stripe): what it asked the provider for,
// under which idempotency key, and what came back. An operation row is written before its
// call and completed after it, so a call whose answer was lost is repeated under the same
// key, never made anew; a status moves only from the one it is expected to be in.
import type { PaymentOperationKind, ProviderPayment } from '@prisma/client';
import { paymentKeys } from '../domain/ledger-keys';
import type { Db, DbTx } from '../infra/db';
import { type Actor, recordAuditInTx } from './audit';
import { transitionOrderInTx } from './orders/transitions';
import { type LockedUnit, lockUnitsInTx } from './orders/unit-locks';
import { SUPERSEDED, type UnitActionRefusal, unitActionRefusal } from '../domain/unit-actions';

export function paymentOf(db: DbTx, orderId: string): Promise<ProviderPayment | null> {
  return db.providerPayment.findUnique({ where: { orderId } });
}

/** Records (or finds) the call about to be made; counts the attempts. */
export async function ensureOperation(
  db: DbTx,
  input: { paymentId: string; kind: PaymentOperationKind; idempotencyKey: string; amountMinor: bigint },
) {
  return db.paymentOperation.upsert({
    where: { idempotencyKey: input.idempotencyKey },
    create: { ...input, attempts: 1 },
    update: { attempts: { increment: 1 } },
  });
}

function completeOperationInTx(
  tx: DbTx,
  idempotencyKey: string,
  outcome: { status: 'succeeded' | 'failed'; providerRef?: string | undefined; detail?: string },
) {
  return tx.paymentOperation.updateMany({
    where: { idempotencyKey, status: 'pending' },
    data: {
      status: outcome.status,
      providerRef: outcome.providerRef ?? null,
      detail: outcome.detail ?? null,
      completedAt: new Date(),
    },
  });
}

/** The authorization's outcome: pending → authorized or declined, once. */
export async function recordAuthorization(
  db: Db,
  payment: ProviderPayment,
  result: {
    outcome: 'authorized' | 'declined';
    intentId?: string | undefined;
    reason?: string;
    providerStatus?: string;
  },
): Promise<void> {
  await db.$transaction(async (tx) => {
    await completeOperationInTx(tx, paymentKeys.authorize(payment.orderId), {
      status: result.outcome === 'authorized' ? 'succeeded' : 'failed',
      providerRef: result.intentId,
      ...(result.reason ? { detail: result.reason } : {}),
    });
    await tx.providerPayment.updateMany({
      where: { id: payment.id, status: 'pending' },
      data: {
        status: result.outcome,
        intentId: result.intentId ?? null,
        declineReason: result.reason ?? null,
        providerStatus: result.providerStatus ?? null,
        updatedAt: new Date(),
      },
    });
  });
}

/** The capture (or void) of a settling payment went through: settling → captured or voided, once. */
export async function recordSettled(db: Db, payment: ProviderPayment, providerStatus: string): Promise<void> {
  const due = payment.captureDueMinor ?? 0n;
  const key = due > 0n ? paymentKeys.capture(payment.orderId) : paymentKeys.void(payment.orderId);
  await db.$transaction(async (tx) => {
    await completeOperationInTx(tx, key, { status: 'succeeded', providerRef: payment.intentId ?? undefined });
    await tx.providerPayment.updateMany({
      where: { id: payment.id, status: 'settling' },
      data: {
        status: due > 0n ? 'captured' : 'voided',
        capturedMinor: due,
        providerStatus,
        updatedAt: new Date(),
      },
    });
  });
}

/** A call the provider refused for good: the operation keeps the reason (reconciliation shows the payment). */
export async function recordOperationFailed(db: Db, idempotencyKey: string, detail: string): Promise<void> {
  await db.$transaction((tx) => completeOperationInTx(tx, idempotencyKey, { status: 'failed', detail }));
}

export function pendingRefunds(db: DbTx, paymentId: string) {
  return db.paymentOperation.findMany({
    where: { paymentId, kind: 'refund', status: 'pending' },
    orderBy: { id: 'asc' },
  });
}

/** A refund went through: the operation succeeds and the payment's refunded total grows, once. */
export async function recordRefunded(db: Db, paymentId: string, idempotencyKey: string, refundId: string) {
  await db.$transaction(async (tx) => {
    const [op] = await tx.$queryRaw<{ amount_minor: bigint }[]>`
      UPDATE payment_operations SET status = 'succeeded', provider_ref = ${refundId}, completed_at = now()
       WHERE idempotency_key = ${idempotencyKey} AND status = 'pending' RETURNING amount_minor`;
    if (!op) return;
    await tx.$executeRaw`
      UPDATE provider_payments SET refunded_minor = refunded_minor + ${op.amount_minor}, updated_at = now()
       WHERE id = ${paymentId}::uuid`;
  });
}

export class RefundNotAllowed extends Error {}

export interface RefundResult {
  refunded: { unitId: string; amountMinor: string }[];
  /** Named units left as they are, and why (a redeemed key without the override, or not delivered). */
  skipped: { unitId: string; reason: UnitActionRefusal }[];
  currency: string;
  /** Whether a provider still has to be asked (the refunds are recorded as pending operations). */
  viaProvider: boolean;
  orderStatus: string;
}

/**
 * Refunds delivered units of a delivered order, in one transaction that locks the order, the
 * units and their keys (store/orders/unit-locks.ts): each unit (all delivered ones when
 * `unitIds` is omitted) becomes `refunded` with the reason and its key `void`, and its price
 * goes back once under its own key: from revenue to the client's available money for the
 * prepaid balance, or as a pending refund operation for the provider. A unit already refunded
 * or replaced is skipped, and so is a unit whose key was redeemed unless `override` (the buyer
 * would keep the goods and the money). A buyer's report still awaiting confirmation on a
 * refunded unit is closed `superseded`: there is nothing left to confirm. An order with
 * nothing left delivered becomes `refunded`.
 */
export async function refundUnits(
  db: Db,
  input: { orderId: string; unitIds?: string[] | undefined; reason: string; override?: boolean | undefined },
  actor: Actor,
): Promise<RefundResult> {
  return db.$transaction(async (tx) => {
    const order = await lockUnitsInTx(tx, input.orderId, input.unitIds ?? null);
    if (!order) throw new RefundNotAllowed('order not found');
    if (order.status !== 'delivered' && order.status !== 'partially_delivered' && order.status !== 'refunded') {
      throw new RefundNotAllowed(`an order that is ${order.status} has no delivered units to refund`);
    }
    const units: LockedUnit[] = [];
    const skipped: RefundResult['skipped'] = [];
    for (const unit of order.units) {
      const refused = unitActionRefusal(unit, input);
      if (refused === null) units.push(unit);
      // A unit refunded before is this refund repeated; without named units, only the
      // delivered ones were asked for.
      else if (refused === 'key_redeemed' || (input.unitIds && unit.status !== 'refunded')) {
        skipped.push({ unitId: unit.id, reason: refused });
      }
    }
    const unitIds = units.map((u) => u.id);
    if (units.length > 0) {
      await tx.$executeRaw`
        UPDATE order_units SET status = 'refunded', reason = ${input.reason} WHERE id = ANY(${unitIds}::uuid[])`;
      const keyIds = units.flatMap((u) => (u.cardKeyId ? [u.cardKeyId] : []));
      if (keyIds.length > 0) {
        await tx.$executeRaw`UPDATE card_keys SET status = 'void' WHERE id = ANY(${keyIds}::uuid[])`;
      }
      await tx.$executeRaw`
        UPDATE compensations SET status = 'completed', outcome = ${SUPERSEDED}, completed_at = now(),
               detail = 'the unit was refunded before the report was confirmed'
         WHERE unit_id = ANY(${unitIds}::uuid[]) AND status = 'awaiting_confirmation'`;
    }
    const payment = await tx.providerPayment.findUnique({ where: { orderId: input.orderId } });
    for (const unit of units) {
      const key = paymentKeys.unitRefund(input.orderId, unit.id);
      if (payment) {
        await tx.paymentOperation.create({
          data: {
            paymentId: payment.id,
            kind: 'refund',
            idempotencyKey: key,
            amountMinor: unit.priceMinor,
            unitId: unit.id,
          },
        });
      } else {
        await tx.$queryRaw`
          SELECT transaction_id FROM ledger_transfer('refund', ${key}, ${order.clientId}::uuid, ${input.orderId}::uuid,
            ${order.currency}, ${unit.priceMinor}, 'platform_revenue', 'client_available', ${actor.clientId}::uuid)`;
      }
    }
    const [left] = await tx.$queryRaw<{ delivered: number }[]>`
      SELECT count(*)::int AS delivered FROM order_units WHERE order_id = ${input.orderId}::uuid AND status = 'delivered'`;
    let orderStatus = order.status;
    if (left!.delivered === 0 && (await transitionOrderInTx(tx, input.orderId, 'refunded', input.reason))) {
      orderStatus = 'refunded';
    }
    if (units.length > 0) {
      await recordAuditInTx(tx, {
        actorClientId: actor.clientId,
        actor: actor.name,
        action: 'order.units_refunded',
        subjectType: 'order',
        subjectId: input.orderId,
        reason: input.reason,
        details: {
          units: unitIds,
          minor: units.reduce((s, u) => s + u.priceMinor, 0n).toString(),
          ...(input.override ? { override: true } : {}),
        },
      });
    }
    return {
      refunded: units.map((u) => ({ unitId: u.id, amountMinor: u.priceMinor.toString() })),
      skipped,
      currency: order.currency,
      viaProvider: payment !== null,
      orderStatus,
    };
  });
}
