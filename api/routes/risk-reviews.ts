// The risk analysts' review queue: GET /v1/risk/reviews (oldest first, or by deadline), GET
// /v1/risk/reviews/:id (the evidence), POST /v1/risk/reviews/:id/decision; claims and the live
// stream are in review-claims.ts. A decision is made once: an order's goes
// to its workflow as an Update (whose validator refuses what the workflow is not waiting for),
// a claim's straight to the database; a second decision, or one after the deadline's, is 409.
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { Router } from 'express';
import { z } from 'zod';
import { type ActiveClaim, activeClaim } from '../../domain/review-claims';
import { FreeText } from '../../domain/text';
import { decideReview } from '../../store/risk/reviews';
import { type QueuedReview, reviewEvidence, reviewPage } from '../../store/risk/review-queue';
import { type ReviewDecisionResult, reviewDecisionUpdate } from '../../workflows/order-messages';
import type { ApiDeps } from '../deps';
import { actorOf, callerOf, requireRole } from '../middleware/auth';
import { nextCursorOf, pageParams, timeCursor } from '../pagination';
import { parseOr422, Problem, problems } from '../problem';
import { updateWithinDeadline } from '../workflow-updates';

export const ListReviewsQuery = z.strictObject({
  status: z.enum(['open', 'approved', 'rejected']).default('open'),
  kind: z.enum(['order', 'claim']).optional(),
  /** `deadline`: soonest due first (the console's queue); default oldest first. */
  order: z.enum(['created', 'deadline']).default('created'),
  ...pageParams({ max: 100, default: 50 }),
});

export const DecisionBody = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  note: FreeText(1000),
});

/** Who works a review: the claim's holder and until when it holds without a sign of work. */
export function claimView(claim: ActiveClaim | null) {
  return claim ? { by: claim.by, since: claim.since.toISOString(), lapsesAt: claim.lapsesAt.toISOString() } : null;
}

/** A review as the queue lists it: score, top reasons, SKUs, who holds it; the evidence is GET /v1/risk/reviews/:id. */
export function queuedReviewView(r: QueuedReview, now: Date) {
  return {
    id: r.id,
    kind: r.subject,
    orderId: r.orderId,
    status: r.status,
    score: r.score,
    topReasons: r.topReasons,
    items: r.order.items,
    buyerId: r.order.buyerId,
    deadline: r.deadline.toISOString(),
    createdAt: r.createdAt.toISOString(),
    claim: claimView(r.status === 'open' ? activeClaim(r, now) : null),
    ...(r.decidedAt ? { decidedAt: r.decidedAt.toISOString(), decidedVia: r.decidedVia } : {}),
  };
}

export function decided(outcome: ReviewDecisionResult | null): never {
  throw new Problem(
    409,
    'review_decided',
    outcome
      ? `this review was already decided: ${outcome.status} (${outcome.decidedVia}${outcome.decidedBy ? `, ${outcome.decidedBy}` : ''})`
      : 'this review was already decided',
  );
}

export function held(claim: ActiveClaim): never {
  throw new Problem(
    409,
    'review_claimed',
    `${claim.by} is working this review (their claim lapses at ${claim.lapsesAt.toISOString()} without activity)`,
  );
}

export function riskReviewsRouter({ db, temporal }: ApiDeps): Router {
  const router = Router();
  // Support and order systems never decide (nor read) reviews.
  router.use(requireRole('risk-analyst', 'admin'));

  router.get('/', async (req, res) => {
    const query = parseOr422(ListReviewsQuery, req.query);
    const page = await reviewPage(db, {
      status: query.status,
      ...(query.kind ? { subject: query.kind } : {}),
      by: query.order,
      ...(query.cursor ? { cursor: query.cursor } : {}),
      limit: query.limit,
    });
    const now = new Date();
    res.json({ reviews: page.rows.map((r) => queuedReviewView(r, now)), ...nextCursorOf(timeCursor, page.next) });
  });

  router.get('/:id', async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    const evidence = id.success ? await reviewEvidence(db, id.data) : null;
    if (!evidence) throw problems.notFound('review');
    res.json({ ...evidence, claim: claimView(evidence.claim) });
  });

  router.post('/:id/decision', async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    const body = parseOr422(DecisionBody, req.body);
    const review = id.success
      ? await db.riskReview.findUnique({ where: { id: id.data }, include: { order: { select: { workflowId: true } } } })
      : null;
    if (!review) throw problems.notFound('review');
    if (review.status !== 'open') decided(null);
    // Two analysts do not work one case: while another's claim holds, only its holder decides.
    const holder = activeClaim(review, new Date());
    if (holder && holder.clientId !== callerOf(req).id) held(holder);
    const input = { reviewId: review.id, decision: body.decision, note: body.note, actor: actorOf(req) };
    let outcome: ReviewDecisionResult | null;
    if (review.subject === 'order') {
      try {
        outcome = await updateWithinDeadline(temporal, () =>
          temporal.workflow.getHandle(review.order.workflowId).executeUpdate(reviewDecisionUpdate, { args: [input] }),
        );
      } catch (err) {
        if (!(err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError)) throw err;
        // Refused by the validator: decided meanwhile (by another analyst or the deadline), or
        // the order no longer waits for it.
        const now = await db.riskReview.findUnique({ where: { id: review.id } });
        if (now && now.status !== 'open') decided(null);
        throw new Problem(409, 'review_not_awaited', 'the order is not waiting for this review (yet)');
      }
    } else {
      outcome = await decideReview(db, { ...input, via: 'analyst' });
    }
    if (!outcome?.won) decided(outcome);
    req.log.info({ reviewId: review.id, decision: outcome.status }, 'risk review decided');
    res.json({ id: review.id, kind: review.subject, orderId: review.orderId, status: outcome.status });
  });

  return router;
}
