// Per-SKU risk policies: admins change them, risk analysts and admins read them and replay
// past decisions against a candidate. `default` names the policy every SKU without its own
// answers to.
import type { Request } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { RiskFactsSchema } from '../../domain/risk/facts';
import { mergePolicy, type RiskPolicy, RiskPolicySchema } from '../../domain/risk/policy';
import { evaluate, type Verdict } from '../../domain/risk/rules';
import type { Db } from '../../infra/db';
import {
  changePolicy,
  type EffectivePolicy,
  effectivePolicyOf,
  inheritDefaultPolicy,
  listPolicies,
  type PolicyTarget,
} from '../../store/risk/policies';
import { type DecidedReview, decidedReviewsOf } from '../../store/risk/simulation';
import type { ApiDeps } from '../deps';
import { actorOf, requireRole } from '../middleware/auth';
import { type FieldError, parseOr422, Problem, problems } from '../problem';
import { SkuSchema } from './products';

/** The reserved name of the default policy in paths (a product named `default` cannot be addressed here). */
export const DEFAULT_POLICY_NAME = 'default';

export const SimulateBody = z.strictObject({
  /** A partial policy laid over the SKU's effective one, as a PATCH would; none replays the policy as it is. */
  policy: z.unknown().optional(),
  /** How many of the most recent decided reviews to replay. */
  last: z.number().int().min(1).max(1000).default(100),
});

function fieldErrors(error: z.ZodError, prefix: string[] = []): FieldError[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path.map(String)].join('.') || '(body)',
    message: issue.message,
  }));
}

/** mergePolicy, with an invalid result answered 422 naming each bad field (under `prefix`). */
function mergeOr422(base: RiskPolicy, patch: unknown, prefix: string[] = []): RiskPolicy {
  // A patch is an object of fields; anything else would replace the policy wholesale.
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw problems.validation([
      { path: prefix.join('.') || '(body)', message: 'must be an object (a partial policy)' },
    ]);
  }
  try {
    return mergePolicy(base, patch);
  } catch (err) {
    if (err instanceof z.ZodError) throw problems.validation(fieldErrors(err, prefix));
    throw err;
  }
}

async function targetOr404(db: Db, req: Request): Promise<PolicyTarget> {
  const name = (req.params as { sku?: string }).sku;
  if (name === DEFAULT_POLICY_NAME) return { kind: 'default' };
  const sku = SkuSchema.safeParse(name);
  const product = sku.success
    ? await db.product.findUnique({ where: { sku: sku.data }, select: { id: true, sku: true } })
    : null;
  if (!product) throw problems.notFound('product');
  return { kind: 'product', productId: product.id, sku: product.sku };
}

const nameOf = (target: PolicyTarget) => (target.kind === 'product' ? target.sku : DEFAULT_POLICY_NAME);

function policyView(sku: string, p: EffectivePolicy) {
  return { sku, inherited: p.inherited, version: p.version, updatedAt: p.updatedAt.toISOString(), policy: p.policy };
}

const agrees = (wouldBe: Verdict['decision'], status: DecidedReview['status']) =>
  (wouldBe === 'allow' && status === 'approved') || (wouldBe === 'block' && status === 'rejected');

/**
 * Replays decided reviews under a candidate policy. Facts that no longer parse (written
 * by an older schema) are counted as unreadable and left out of everything else. Only
 * decisions analysts made count towards agreement: a deadline default is nobody's judgement.
 */
function simulate(reviews: DecidedReview[], candidate: RiskPolicy) {
  const summary = {
    total: 0,
    unreadable: 0,
    unchanged: 0,
    wouldAllow: 0,
    wouldReview: 0,
    wouldBlock: 0,
    agreesWithAnalysts: 0,
  };
  const decisions = reviews.flatMap((review) => {
    const facts = RiskFactsSchema.safeParse(review.facts);
    if (!facts.success) {
      summary.unreadable += 1;
      return [];
    }
    const verdict = evaluate(facts.data, candidate);
    summary.total += 1;
    if (verdict.decision === review.assessed.decision) summary.unchanged += 1;
    if (verdict.decision === 'allow') summary.wouldAllow += 1;
    else if (verdict.decision === 'review') summary.wouldReview += 1;
    else summary.wouldBlock += 1;
    if (review.decidedVia !== 'deadline' && agrees(verdict.decision, review.status)) summary.agreesWithAnalysts += 1;
    return [
      {
        reviewId: review.reviewId,
        orderId: review.orderId,
        subject: review.subject,
        decidedAt: review.decidedAt?.toISOString() ?? null,
        decidedVia: review.decidedVia,
        analystDecision: review.status,
        was: review.assessed,
        wouldBe: { decision: verdict.decision, score: verdict.score, reasons: verdict.reasons },
      },
    ];
  });
  return { summary, decisions };
}

export function riskPoliciesRouter({ db }: ApiDeps): Router {
  const router = Router();
  router.use(requireRole('admin', 'risk-analyst'));

  /** The default policy first, then every SKU's own, by SKU. */
  router.get('/', async (_req, res) => {
    const all = await listPolicies(db);
    res.json({
      policies: [policyView(DEFAULT_POLICY_NAME, all.default), ...all.products.map((p) => policyView(p.sku, p))],
    });
  });

  router.get('/:sku', async (req, res) => {
    const target = await targetOr404(db, req);
    res.json(policyView(nameOf(target), await effectivePolicyOf(db, target)));
  });

  router.put('/:sku', requireRole('admin'), async (req, res) => {
    const target = await targetOr404(db, req);
    const policy = parseOr422(RiskPolicySchema, req.body);
    const changed = await changePolicy(db, target, () => policy, 'risk_policy.replaced', actorOf(req));
    res.json(policyView(nameOf(target), changed));
  });

  router.patch('/:sku', requireRole('admin'), async (req, res) => {
    const target = await targetOr404(db, req);
    // Merged under the lock with the policy as it is then: a concurrent change is kept.
    const changed = await changePolicy(
      db,
      target,
      (current) => mergeOr422(current.policy, req.body),
      'risk_policy.patched',
      actorOf(req),
    );
    res.json(policyView(nameOf(target), changed));
  });

  /** The SKU inherits the default again; 204 also when it already did. */
  router.delete('/:sku', requireRole('admin'), async (req, res) => {
    const target = await targetOr404(db, req);
    if (target.kind === 'default') {
      throw new Problem(
        409,
        'default_policy_required',
        'the default policy cannot be deleted: every SKU without its own answers to it (PUT or PATCH it instead)',
      );
    }
    await inheritDefaultPolicy(db, target, actorOf(req));
    res.status(204).end();
  });

  router.post('/:sku/simulate', async (req, res) => {
    const target = await targetOr404(db, req);
    const body = parseOr422(SimulateBody, req.body ?? {});
    const current = await effectivePolicyOf(db, target);
    const candidate = body.policy === undefined ? current.policy : mergeOr422(current.policy, body.policy, ['policy']);
    const reviews = await decidedReviewsOf(db, target, body.last);
    res.json({ sku: nameOf(target), policy: candidate, ...simulate(reviews, candidate) });
  });

  return router;
}
