// Everything that happened to one order, from the tables that record it, as one list in time
// order: the subscription period it was placed for, the status history, risk assessments and
// reviews, ledger movements, provider payment operations, supplier attempts, what became of
// each key, claims, compensations and the audit log's human actions. Card-key plaintext is
// never read here (keys are listed by id and status).
// Webhooks leave no row; the API adds them from the workflow's history (api/order-webhooks.ts).
import type { DbTx } from '../../infra/db';
import { HIDDEN_OUTCOMES } from '../../domain/suppliers';
import { type OrderPeriod, periodOfOrder } from '../subscriptions/order-period';

// First the subscription: its period begins before (or as) the order placed for it.
export const TIMELINE_SOURCES = [
  'subscription',
  'order',
  'risk',
  'review',
  'ledger',
  'payment',
  'supplier',
  'key',
  'claim',
  'webhook',
  'compensation',
  'audit',
] as const;
export type TimelineSource = (typeof TIMELINE_SOURCES)[number];

export interface TimelineEntry {
  at: Date;
  source: TimelineSource;
  /** What happened, as a stable word per source (`status`, `assessed`, `capture`, `attempt`…). */
  event: string;
  unitId?: string;
  actor?: string;
  reason?: string;
  data?: Record<string, unknown>;
}

/** Risk internals and staff actions are staff's; an order system reading its own order sees the rest. */
const STAFF_ONLY: ReadonlySet<TimelineSource> = new Set(['risk', 'review', 'audit']);

// Audit actions whose rows the timeline shows from their own table (with the same actor and
// reason), so they are not listed twice.
const SHOWN_FROM_ROWS = new Set(['compensation.requested', 'risk.review_decided']);

/** Ledger amounts are BIGINT; every amount the platform takes fits a JSON number exactly (≤ 10^10). */
const str = (n: bigint) => Number(n);

export interface OrderTimeline {
  order: { id: string; workflowId: string; status: string };
  /** The subscription period the order was placed for (the order system's own), or null. */
  subscription: OrderPeriod | null;
  entries: TimelineEntry[];
}

/** The order's timeline, or null when there is no such order (or, with `clientId`, not that client's). */
export async function orderTimeline(
  db: DbTx,
  orderId: string,
  view: { staff: boolean; clientId?: string },
): Promise<OrderTimeline | null> {
  const order = await db.order.findFirst({
    where: { id: orderId, ...(view.clientId ? { clientId: view.clientId } : {}) },
    select: {
      id: true,
      clientId: true,
      workflowId: true,
      status: true,
      createdAt: true,
      externalOrderId: true,
      claimedAt: true,
      history: { orderBy: { id: 'asc' } },
      riskAssessments: { orderBy: { createdAt: 'asc' } },
      riskReviews: { orderBy: { createdAt: 'asc' } },
      compensations: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
      payment: { include: { operations: { orderBy: { id: 'asc' } } } },
      units: {
        select: {
          id: true,
          cardKeyId: true,
          attempts: {
            where: { outcome: { notIn: [...HIDDEN_OUTCOMES] } },
            orderBy: { id: 'asc' },
            include: { supplier: { select: { name: true } } },
          },
        },
      },
    },
  });
  if (!order) return null;
  const unitIds = order.units.map((u) => u.id);
  const keyIds = order.units.map((u) => u.cardKeyId).filter((id): id is string => id !== null);
  const [ledger, keys, audit, period] = await Promise.all([
    db.ledgerTransaction.findMany({
      where: { orderId: order.id },
      orderBy: { id: 'asc' },
      include: { postings: { include: { account: { select: { kind: true } } } } },
    }),
    db.cardKey.findMany({
      where: { id: { in: keyIds } },
      select: {
        id: true,
        status: true,
        batchId: true,
        reservedByUnitId: true,
        deliveredAt: true,
        redeemedAt: true,
        voidedAt: true,
        voidReason: true,
      },
    }),
    db.auditLog.findMany({
      where: {
        OR: [
          { subjectType: 'order', subjectId: order.id },
          { subjectType: 'order_unit', subjectId: { in: unitIds } },
          { subjectType: 'compensation', subjectId: { in: order.compensations.map((c) => c.id) } },
          { subjectType: 'risk_review', subjectId: { in: order.riskReviews.map((r) => r.id) } },
        ],
      },
      orderBy: { id: 'asc' },
    }),
    periodOfOrder(db, order),
  ]);

  const entries: TimelineEntry[] = [
    { at: order.createdAt, source: 'order', event: 'received', data: { externalOrderId: order.externalOrderId } },
  ];
  if (period) {
    entries.push({
      at: period.startsAt,
      source: 'subscription',
      event: 'period',
      data: { subscriptionId: period.subscription.id, periodNumber: period.number },
    });
  }
  for (const h of order.history) {
    entries.push({
      at: h.at,
      source: 'order',
      event: 'status',
      ...(h.reason ? { reason: h.reason } : {}),
      data: { status: h.status },
    });
  }
  for (const a of order.riskAssessments) {
    const reasons = (a.verdict as { reasons?: unknown } | null)?.reasons;
    entries.push({
      at: a.createdAt,
      source: 'risk',
      event: 'assessed',
      data: {
        subject: a.subject,
        decision: a.decision,
        score: a.score,
        ...(Array.isArray(reasons) ? { reasons: reasons.slice(0, 5) } : {}),
      },
    });
  }
  for (const r of order.riskReviews) {
    entries.push({
      at: r.createdAt,
      source: 'review',
      event: 'opened',
      data: { reviewId: r.id, subject: r.subject, score: r.score, deadline: r.deadline.toISOString() },
    });
    if (r.decidedAt) {
      entries.push({
        at: r.decidedAt,
        source: 'review',
        event: 'decided',
        ...(r.decidedBy ? { actor: r.decidedBy } : {}),
        ...(r.note ? { reason: r.note } : {}),
        data: { reviewId: r.id, status: r.status, via: r.decidedVia },
      });
    }
  }
  for (const t of ledger) {
    entries.push({
      at: t.createdAt,
      source: 'ledger',
      event: t.kind,
      data: {
        amount: { minor: str(t.amountMinor), currency: t.currency },
        idempotencyKey: t.idempotencyKey,
        postings: t.postings.map((p) => ({ account: p.account.kind, minor: str(p.amountMinor) })),
      },
    });
  }
  if (order.payment) {
    const p = order.payment;
    entries.push({
      at: p.createdAt,
      source: 'payment',
      event: 'payment',
      data: {
        provider: p.provider,
        status: p.status,
        amount: { minor: str(p.amountMinor), currency: p.currency },
        ...(p.intentId ? { intentId: p.intentId } : {}),
        ...(p.declineReason ? { declineReason: p.declineReason } : {}),
        ...(p.providerStatus ? { providerStatus: p.providerStatus } : {}),
      },
    });
    for (const op of p.operations) {
      entries.push({
        at: op.completedAt ?? op.createdAt,
        source: 'payment',
        event: op.kind,
        ...(op.unitId ? { unitId: op.unitId } : {}),
        data: {
          status: op.status,
          amount: { minor: str(op.amountMinor), currency: p.currency },
          attempts: op.attempts,
          ...(op.providerRef ? { providerRef: op.providerRef } : {}),
          ...(op.detail ? { detail: op.detail } : {}),
        },
      });
    }
  }
  for (const unit of order.units) {
    for (const a of unit.attempts) {
      entries.push({
        at: a.at,
        source: 'supplier',
        event: 'attempt',
        unitId: unit.id,
        data: {
          supplier: a.supplier?.name ?? a.source,
          outcome: a.outcome,
          ...(a.detail ? { detail: a.detail } : {}),
          ...(a.latencyMs !== null ? { latencyMs: a.latencyMs } : {}),
          ...(view.staff && a.costMinor !== null ? { costMinor: a.costMinor } : {}),
        },
      });
    }
  }
  for (const k of keys) {
    const unitId = order.units.find((u) => u.cardKeyId === k.id)?.id;
    const base = { source: 'key' as const, ...(unitId ? { unitId } : {}) };
    const data = { keyId: k.id, ...(k.batchId && view.staff ? { batchId: k.batchId } : {}) };
    if (k.deliveredAt) entries.push({ ...base, at: k.deliveredAt, event: 'delivered', data });
    if (k.redeemedAt) entries.push({ ...base, at: k.redeemedAt, event: 'redeemed', data });
    if (k.voidedAt) {
      entries.push({
        ...base,
        at: k.voidedAt,
        event: 'voided',
        ...(k.voidReason ? { reason: k.voidReason } : {}),
        data,
      });
    }
  }
  for (const c of order.compensations) {
    entries.push({
      at: c.createdAt,
      source: 'compensation',
      event: 'requested',
      unitId: c.unitId,
      actor: c.requestedBy,
      reason: c.reason,
      data: {
        compensationId: c.id,
        action: c.action,
        trigger: c.trigger,
        status: c.status,
        ...(c.note ? { note: c.note } : {}),
      },
    });
    if (c.completedAt) {
      entries.push({
        at: c.completedAt,
        source: 'compensation',
        event: 'completed',
        unitId: c.unitId,
        data: {
          compensationId: c.id,
          outcome: c.outcome,
          ...(c.detail ? { detail: c.detail } : {}),
          ...(c.newUnitId ? { newUnitId: c.newUnitId } : {}),
        },
      });
    }
  }
  for (const e of audit) {
    if (SHOWN_FROM_ROWS.has(e.action)) continue;
    const details = (e.details ?? {}) as Record<string, unknown>;
    // A claim: when, and from which address, the buyer saw the codes.
    if (e.action === 'claim.revealed') {
      entries.push({
        at: e.at,
        source: 'claim',
        event: e.subjectType === 'compensation' ? 'replacement_revealed' : 'revealed',
        data: {
          ip: details.ip,
          keys: details.keys,
          ...(e.subjectType === 'compensation' ? { compensationId: e.subjectId } : {}),
        },
      });
      continue;
    }
    entries.push({
      at: e.at,
      source: 'audit',
      event: e.action,
      ...(e.subjectType === 'order_unit' ? { unitId: e.subjectId } : {}),
      actor: e.actor,
      ...(e.reason ? { reason: e.reason } : {}),
      data: details,
    });
  }
  return {
    order: { id: order.id, workflowId: order.workflowId, status: order.status },
    subscription: period,
    entries: view.staff ? entries : entries.filter((e) => !STAFF_ONLY.has(e.source)),
  };
}

/** Oldest first; entries at the same instant keep the order of TIMELINE_SOURCES (cause before effect). */
export function sortTimeline(entries: TimelineEntry[]): TimelineEntry[] {
  const rank = (s: TimelineSource) => TIMELINE_SOURCES.indexOf(s);
  return [...entries].sort((a, b) => a.at.getTime() - b.at.getTime() || rank(a.source) - rank(b.source));
}
