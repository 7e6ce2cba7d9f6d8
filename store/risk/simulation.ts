// The decided reviews a policy simulation replays: each with the facts its assessment was
// made from, read in one query (reviews joined to their assessments, newest decision first).
import type { RiskReviewStatus, RiskSubject } from '@prisma/client';
import type { Db } from '../../infra/db';
import { sqlOf } from '../../infra/db';
import type { PolicyTarget } from './policies';

export interface DecidedReview {
  reviewId: string;
  orderId: string;
  subject: RiskSubject;
  status: Exclude<RiskReviewStatus, 'open'>;
  decidedAt: Date | null;
  decidedVia: string | null;
  /** The assessment's verdict when the review was opened. */
  assessed: { decision: 'allow' | 'review' | 'block'; score: number };
  /** As stored: the caller parses them, so one unreadable row does not sink the rest. */
  facts: unknown;
}

// Reviews of orders with an item of the product; for the default policy, of orders with an
// item of any product that has no policy of its own (the ones the default governs).
const DECIDED_REVIEWS_SQL = `
  SELECT r.id AS review_id, r.order_id, r.subject, r.status, r.decided_at, r.decided_via,
         a.decision, a.score, a.facts
    FROM risk_reviews r
    JOIN risk_assessments a ON a.id = r.assessment_id
   WHERE r.status IN ('approved', 'rejected')
     AND EXISTS (SELECT 1 FROM order_items i
                  WHERE i.order_id = r.order_id
                    AND CASE WHEN $1::uuid IS NULL
                             THEN NOT EXISTS (SELECT 1 FROM risk_policies p WHERE p.product_id = i.product_id)
                             ELSE i.product_id = $1::uuid END)
   ORDER BY r.decided_at DESC NULLS LAST, r.id DESC
   LIMIT $2`;

/** The last `limit` decided (approved or rejected) reviews, order and claim alike, of orders the target's policy governs. */
export async function decidedReviewsOf(db: Db, target: PolicyTarget, limit: number): Promise<DecidedReview[]> {
  const rows = await sqlOf(db).rows<{
    review_id: string;
    order_id: string;
    subject: RiskSubject;
    status: Exclude<RiskReviewStatus, 'open'>;
    decided_at: Date | null;
    decided_via: string | null;
    decision: DecidedReview['assessed']['decision'];
    score: number;
    facts: unknown;
  }>(DECIDED_REVIEWS_SQL, [target.kind === 'product' ? target.productId : null, limit]);
  return rows.map((row) => ({
    reviewId: row.review_id,
    orderId: row.order_id,
    subject: row.subject,
    status: row.status,
    decidedAt: row.decided_at,
    decidedVia: row.decided_via,
    assessed: { decision: row.decision, score: row.score },
    facts: row.facts,
  }));
}
