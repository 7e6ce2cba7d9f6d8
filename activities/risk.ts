// Risk steps of the order workflow, run as local activities (short database work): assess an
// order once (facts by SQL, verdict by the pure rules, recorded with the order's move), and
// decide its review — for an analyst (through the workflow's Update) or at the deadline.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../domain/failures';
import { evaluateUnder } from '../domain/risk/rules';
import { type OrderRisk, recordOrderVerdict } from '../store/risk/assessments';
import { orderFactsOf } from '../store/risk/facts';
import { decideReview, type ReviewDecision, type ReviewOutcome } from '../store/risk/reviews';
import type { ActivityDeps } from './deps';

export type { OrderRisk, ReviewOutcome };

/**
 * The order's verdict (recorded once); null for an order already past `received` unassessed.
 * Also the first half of the order step that admits an order (activities/orders.ts).
 */
export async function assessOrderRisk(
  { db, logger }: Pick<ActivityDeps, 'db' | 'logger'>,
  orderId: string,
): Promise<OrderRisk | null> {
  const gathered = await orderFactsOf(db, orderId);
  if (!gathered) {
    throw ApplicationFailure.create({
      message: `order ${orderId} not found`,
      type: FailureType.OrderNotFound,
      nonRetryable: true,
    });
  }
  const { verdict, under } = evaluateUnder(gathered.facts, gathered.policies);
  const risk = await recordOrderVerdict(db, { orderId, facts: gathered.facts, verdict, policy: under.policy });
  if (risk && risk.decision !== 'allow') {
    logger.info({ orderId, decision: risk.decision, score: verdict.score }, 'order flagged by risk control');
  }
  return risk;
}

export function riskActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    /** The order's verdict (recorded once); null for an order already past `received` unassessed. */
    assessOrder: (orderId: string): Promise<OrderRisk | null> => assessOrderRisk(deps, orderId),

    /** Decides the review once; returns the decision that stands (this one, or the one made first). */
    async decideReview(input: {
      reviewId: string;
      decision: ReviewDecision;
      via: 'analyst' | 'deadline';
      actor: { clientId: string | null; name: string };
      note?: string;
    }): Promise<ReviewOutcome> {
      const outcome = await decideReview(db, input);
      if (!outcome) {
        throw ApplicationFailure.create({
          message: `risk review ${input.reviewId} not found`,
          type: FailureType.ReviewNotFound,
          nonRetryable: true,
        });
      }
      return outcome;
    },
  };
}

export type RiskActivities = ReturnType<typeof riskActivities>;
