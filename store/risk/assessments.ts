// Recording a risk verdict on an order, once: the assessment (facts, every rule's result, the
// policy it ran under), and with it the order's move — `rejected` for a block, `in_review`
// with an open review for a review, nothing for an allow — in one statement.
import type { RiskFacts } from '../../domain/risk/facts';
import type { RiskPolicy } from '../../domain/risk/policy';
import type { Verdict } from '../../domain/risk/rules';
import type { Db } from '../../infra/db';
import { isUniqueViolation, sqlOf } from '../../infra/db';

/** What the order workflow needs to know of an order's assessment. */
export interface OrderRisk {
  decision: Verdict['decision'];
  reason?: string;
  /** An order in review: the review, when its deadline passes (epoch ms), and what it then applies. */
  review?: { id: string; deadlineMs: number; onDeadline: 'approve' | 'reject' };
}

/** The reason recorded on a rejected or reviewed order: what the verdict says first. */
export function riskReasonOf(verdict: Verdict): string {
  return `risk ${verdict.decision} (score ${verdict.score}): ${verdict.reasons.slice(0, 3).join('; ') || 'no rule fired'}`;
}

const RECORD_SQL = `
  WITH locked AS (
    SELECT id FROM orders WHERE id = $1 AND status = 'received' FOR UPDATE
  ), assessed AS (
    INSERT INTO risk_assessments (id, subject, order_id, decision, score, facts, verdict, policy)
    SELECT gen_random_uuid(), 'order', id, $2::risk_decision, $3, $4, $5, $6 FROM locked
    RETURNING id, order_id
  ), review AS (
    INSERT INTO risk_reviews (id, subject, order_id, assessment_id, score, top_reasons, deadline, on_deadline)
    SELECT gen_random_uuid(), 'order', order_id, id, $3, $7, now() + make_interval(secs => $8), $9::risk_review_status
      FROM assessed WHERE $2 = 'review'
    RETURNING id
  ), moved AS (
    UPDATE orders SET status = (CASE WHEN $2 = 'block' THEN 'rejected' ELSE 'in_review' END)::order_status,
           status_reason = $10, updated_at = now()
      FROM assessed WHERE orders.id = assessed.order_id AND $2 <> 'allow'
    RETURNING orders.id, orders.status
  ), history AS (
    INSERT INTO order_status_history (order_id, status, reason) SELECT id, status, $10 FROM moved
  )
  SELECT (SELECT id FROM assessed) AS assessment_id, (SELECT id FROM review) AS review_id,
         now() + make_interval(secs => $8) AS deadline`;

const FIND_SQL = `
  SELECT a.decision, o.status_reason AS reason, r.id AS review_id, r.deadline, r.on_deadline
    FROM risk_assessments a JOIN orders o ON o.id = a.order_id
    LEFT JOIN risk_reviews r ON r.assessment_id = a.id
   WHERE a.order_id = $1 AND a.subject = 'order'`;

/**
 * Records the verdict on an order still `received`, or finds the one recorded before (a
 * retried step); null when the order was never assessed and is past `received` (an order
 * from before risk control, or one cancelled meanwhile).
 */
export async function recordOrderVerdict(
  db: Db,
  input: { orderId: string; facts: RiskFacts; verdict: Verdict; policy: RiskPolicy },
): Promise<OrderRisk | null> {
  const { orderId, facts, verdict, policy } = input;
  const reason = riskReasonOf(verdict);
  try {
    const [recorded] = await sqlOf(db).rows<{ assessment_id: string | null; review_id: string | null; deadline: Date }>(
      RECORD_SQL,
      [
        orderId,
        verdict.decision,
        verdict.score,
        JSON.stringify(facts),
        JSON.stringify(verdict),
        JSON.stringify(policy),
        verdict.reasons.slice(0, 5),
        policy.review.deadlineSeconds,
        policy.review.onDeadline === 'approve' ? 'approved' : 'rejected',
        verdict.decision === 'allow' ? null : reason,
      ],
      'risk_record_verdict',
    );
    if (recorded?.assessment_id) {
      return {
        decision: verdict.decision,
        ...(verdict.decision === 'allow' ? {} : { reason }),
        ...(recorded.review_id
          ? {
              review: {
                id: recorded.review_id,
                deadlineMs: recorded.deadline.getTime(),
                onDeadline: policy.review.onDeadline,
              },
            }
          : {}),
      };
    }
  } catch (err) {
    // A stale attempt that lost the race to the unique index: the winner's verdict stands.
    if (!isUniqueViolation(err)) throw err;
  }
  const [found] = await sqlOf(db).rows<{
    decision: Verdict['decision'];
    reason: string | null;
    review_id: string | null;
    deadline: Date | null;
    on_deadline: 'approved' | 'rejected' | null;
  }>(FIND_SQL, [orderId]);
  if (!found) return null;
  return {
    decision: found.decision,
    ...(found.reason ? { reason: found.reason } : {}),
    ...(found.review_id && found.deadline
      ? {
          review: {
            id: found.review_id,
            deadlineMs: found.deadline.getTime(),
            onDeadline: found.on_deadline === 'approved' ? 'approve' : 'reject',
          },
        }
      : {}),
  };
}
