// Claims on risk reviews (domain/review-claims.ts): taken, renewed and given back under the
// review's row lock, so two analysts opening one review at once get one claim between them.
// Taking a review over (a new holder) is audited; a renewal by the holder is not — it is the
// console saying the analyst is still there, every minute or so.
import type { RiskReview } from '@prisma/client';
import { type ActiveClaim, activeClaim } from '../../domain/review-claims';
import type { Db } from '../../infra/db';
import { type Actor, recordAuditInTx } from '../audit';

export type ClaimOutcome =
  | { kind: 'claimed'; review: RiskReview; claim: ActiveClaim }
  /** Somebody else holds it. */
  | { kind: 'held'; review: RiskReview; claim: ActiveClaim }
  | { kind: 'decided'; review: RiskReview }
  | { kind: 'not_found' };

export async function claimReview(
  db: Db,
  reviewId: string,
  actor: Actor & { clientId: string },
): Promise<ClaimOutcome> {
  return db.$transaction(async (tx): Promise<ClaimOutcome> => {
    const locked = await tx.$queryRaw<{ id: string }[]>`
      SELECT id::text FROM risk_reviews WHERE id = ${reviewId}::uuid FOR UPDATE`;
    if (locked.length === 0) return { kind: 'not_found' };
    const review = await tx.riskReview.findUniqueOrThrow({ where: { id: reviewId } });
    if (review.status !== 'open') return { kind: 'decided', review };
    const now = new Date();
    const current = activeClaim(review, now);
    if (current && current.clientId !== actor.clientId) return { kind: 'held', review, claim: current };
    const renewal = current !== null;
    const claimed = await tx.riskReview.update({
      where: { id: reviewId },
      data: renewal
        ? { claimSeenAt: now }
        : { claimedBy: actor.name, claimedByClientId: actor.clientId, claimedAt: now, claimSeenAt: now },
    });
    if (!renewal) {
      await recordAuditInTx(tx, {
        actorClientId: actor.clientId,
        actor: actor.name,
        action: 'risk.review_claimed',
        subjectType: 'risk_review',
        subjectId: reviewId,
        details: { orderId: review.orderId, ...(review.claimedBy ? { previousHolder: review.claimedBy } : {}) },
      });
    }
    return { kind: 'claimed', review: claimed, claim: activeClaim(claimed, now)! };
  });
}

/** Gives a claim back (the analyst moved on without deciding); only its holder can. */
export async function releaseReview(db: Db, reviewId: string, clientId: string): Promise<boolean> {
  const { count } = await db.riskReview.updateMany({
    where: { id: reviewId, claimedByClientId: clientId },
    data: { claimedBy: null, claimedByClientId: null, claimedAt: null, claimSeenAt: null },
  });
  return count > 0;
}
