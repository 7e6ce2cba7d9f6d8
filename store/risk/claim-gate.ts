// Risk control at claim time: a key once revealed cannot be taken back, so the claim rules
// (geo against the order's address, impossible travel, lists) run before the reveal. A
// flagged claim opens a redemption review and reveals nothing; an analyst's approval lets
// the next claim through (once); a rejection voids the claim link. A review left past its
// deadline takes its policy's default at the next claim.
import type { CanonicalIp } from '../../domain/ip-address';
import { evaluateUnder } from '../../domain/risk/rules';
import type { Db } from '../../infra/db';
import { isUniqueViolation } from '../../infra/db';
import { claimFactsOf } from './claim-facts';
import { DEADLINE_ACTOR, decideReview } from './reviews';

export type ClaimGate = { kind: 'reveal' } | { kind: 'under_review'; reviewId: string } | { kind: 'rejected' };

export async function gateClaim(db: Db, input: { orderId: string; ip: CanonicalIp; at: Date }): Promise<ClaimGate> {
  for (;;) {
    const reviews = await db.riskReview.findMany({
      where: { orderId: input.orderId, subject: 'claim' },
      orderBy: { createdAt: 'desc' },
    });
    if (reviews.some((r) => r.status === 'rejected')) return { kind: 'rejected' };
    const open = reviews.find((r) => r.status === 'open');
    if (open) {
      if (open.deadline > input.at) return { kind: 'under_review', reviewId: open.id };
      await decideReview(db, {
        reviewId: open.id,
        decision: open.onDeadline === 'approved' ? 'approve' : 'reject',
        via: 'deadline',
        actor: DEADLINE_ACTOR,
      });
      continue;
    }
    // An approval admits one claim: taken by a conditional update, so two racing claims
    // cannot both use it.
    for (const approved of reviews.filter((r) => r.status === 'approved' && !r.consumedAt)) {
      const { count } = await db.riskReview.updateMany({
        where: { id: approved.id, consumedAt: null },
        data: { consumedAt: input.at },
      });
      if (count > 0) return { kind: 'reveal' };
    }
    return assessClaim(db, input);
  }
}

async function assessClaim(db: Db, input: { orderId: string; ip: CanonicalIp; at: Date }): Promise<ClaimGate> {
  const gathered = await claimFactsOf(db, input);
  if (!gathered) return { kind: 'rejected' };
  const { verdict, under } = evaluateUnder(gathered.facts, gathered.policies);
  if (verdict.decision === 'allow') return { kind: 'reveal' };
  try {
    const review = await db.$transaction(async (tx) => {
      const assessment = await tx.riskAssessment.create({
        data: {
          subject: 'claim',
          orderId: input.orderId,
          decision: verdict.decision,
          score: verdict.score,
          facts: gathered.facts,
          verdict,
          policy: under.policy,
        },
      });
      return tx.riskReview.create({
        data: {
          subject: 'claim',
          orderId: input.orderId,
          assessmentId: assessment.id,
          score: verdict.score,
          topReasons: verdict.reasons.slice(0, 5),
          deadline: new Date(input.at.getTime() + under.policy.review.deadlineSeconds * 1000),
          onDeadline: under.policy.review.onDeadline === 'approve' ? 'approved' : 'rejected',
        },
      });
    });
    return { kind: 'under_review', reviewId: review.id };
  } catch (err) {
    // A concurrent claim opened the review first: this one waits on it too.
    if (!isUniqueViolation(err)) throw err;
    const open = await db.riskReview.findFirst({ where: { orderId: input.orderId, subject: 'claim', status: 'open' } });
    return open ? { kind: 'under_review', reviewId: open.id } : { kind: 'rejected' };
  }
}
