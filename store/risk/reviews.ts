// Risk reviews: a flagged order or claim waits for an analyst, or for its policy's deadline.
// Whoever decides first — an analyst, or the deadline applying the policy's default — wins
// a conditional update on the open review; the other finds the decision made. An order's
// decision moves the order in the same transaction: approved → back to `received` (to be
// charged), rejected → `rejected`. An order's review has its workflow for a clock (a timer
// applies the default, and its Update refuses a decision it no longer waits for); a claim's
// has none — its default is applied when someone next looks — so an analyst's decision on a
// claim counts only before the deadline, and one after it applies the default instead.
import type { RiskReview } from '@prisma/client';
import type { Db, DbTx } from '../../infra/db';
import { type Actor, recordAuditInTx } from '../audit';
import { transitionOrderInTx } from '../orders/transitions';

export type ReviewDecision = 'approve' | 'reject';

/** Who decides a review its deadline decided. */
export const DEADLINE_ACTOR: Actor = { clientId: null, name: 'risk-deadline' };

export interface ReviewOutcome {
  /** Whether this call made the decision (false: it had been made already). */
  won: boolean;
  status: 'approved' | 'rejected';
  decidedVia: string;
  decidedBy: string | null;
}

function outcomeOf(review: Pick<RiskReview, 'status' | 'decidedVia' | 'decidedBy'>, won: boolean): ReviewOutcome {
  return {
    won,
    status: review.status === 'approved' ? 'approved' : 'rejected',
    decidedVia: review.decidedVia ?? 'unknown',
    decidedBy: review.decidedBy,
  };
}

interface DecisionInput {
  reviewId: string;
  decision: ReviewDecision;
  via: 'analyst' | 'deadline';
  actor: Actor;
  note?: string;
}

/** Decides an open review once; returns the decision that stands. Null when there is no such review. */
export async function decideReview(db: Db, input: DecisionInput): Promise<ReviewOutcome | null> {
  return db.$transaction((tx) => decideReviewInTx(tx, input));
}

async function decideReviewInTx(tx: DbTx, input: DecisionInput): Promise<ReviewOutcome | null> {
  const status = input.decision === 'approve' ? 'approved' : 'rejected';
  const now = new Date();
  const { count } = await tx.riskReview.updateMany({
    where: {
      id: input.reviewId,
      status: 'open',
      ...(input.via === 'analyst' ? { OR: [{ subject: 'order' }, { deadline: { gt: now } }] } : {}),
    },
    data: {
      status,
      decidedVia: input.via,
      decidedBy: input.actor.name,
      decidedByClientId: input.actor.clientId,
      note: input.note ?? null,
      decidedAt: now,
    },
  });
  const review = await tx.riskReview.findUnique({ where: { id: input.reviewId } });
  if (!review) return null;
  if (count === 0 && review.status === 'open') {
    // A claim's review past its deadline, decided late by an analyst: the deadline decides.
    const byDeadline = await decideReviewInTx(tx, {
      reviewId: review.id,
      decision: review.onDeadline === 'approved' ? 'approve' : 'reject',
      via: 'deadline',
      actor: DEADLINE_ACTOR,
    });
    return byDeadline && { ...byDeadline, won: false };
  }
  if (count === 0) return outcomeOf(review, false);
  if (review.subject === 'order') {
    const reason =
      input.via === 'deadline'
        ? `risk review not decided in time: ${status} by policy`
        : `risk review ${status}${input.note ? `: ${input.note}` : ''}`;
    await transitionOrderInTx(tx, review.orderId, status === 'approved' ? 'received' : 'rejected', reason);
  }
  await recordAuditInTx(tx, {
    actorClientId: input.actor.clientId,
    actor: input.actor.name,
    action: 'risk.review_decided',
    subjectType: 'risk_review',
    subjectId: review.id,
    ...(input.note ? { reason: input.note } : {}),
    details: { orderId: review.orderId, subject: review.subject, decision: status, via: input.via },
  });
  return outcomeOf(review, true);
}

/** An order closed while in review (cancelled) leaves no review open behind it. */
export async function closeOpenReviewsInTx(tx: DbTx, orderId: string): Promise<void> {
  await tx.riskReview.updateMany({
    where: { orderId, subject: 'order', status: 'open' },
    data: { status: 'rejected', decidedVia: 'order_closed', decidedAt: new Date() },
  });
}
