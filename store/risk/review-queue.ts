// What risk analysts read: the queue of reviews (oldest first) and one review's evidence —
// the facts, every rule's score and reason, the policy it ran under, the buyer's recent
// orders, and where the addresses are. Never a key: analysts decide without plaintext.
import type { RiskReviewStatus, RiskSubject } from '@prisma/client';
import { money } from '../../domain/money';
import { RiskFactsSchema } from '../../domain/risk/facts';
import { distanceKm, impliedSpeedKmh } from '../../domain/risk/geo';
import type { DbTx } from '../../infra/db';

export interface ReviewCursor {
  at: Date;
  id: string;
}

export function encodeReviewCursor(c: ReviewCursor): string {
  return Buffer.from(`${c.at.toISOString()}|${c.id}`).toString('base64url');
}

export function decodeReviewCursor(text: string): ReviewCursor | null {
  const [at, id] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  const when = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(when.getTime())) return null;
  return { at: when, id };
}

export async function reviewPage(
  db: DbTx,
  query: { status: RiskReviewStatus; subject?: RiskSubject; cursor?: ReviewCursor; limit: number },
) {
  const reviews = await db.riskReview.findMany({
    where: {
      status: query.status,
      ...(query.subject ? { subject: query.subject } : {}),
      ...(query.cursor
        ? {
            OR: [{ createdAt: { gt: query.cursor.at } }, { createdAt: query.cursor.at, id: { gt: query.cursor.id } }],
          }
        : {}),
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: query.limit,
  });
  return {
    reviews: reviews.map((r) => ({
      id: r.id,
      kind: r.subject,
      orderId: r.orderId,
      status: r.status,
      score: r.score,
      topReasons: r.topReasons,
      deadline: r.deadline.toISOString(),
      createdAt: r.createdAt.toISOString(),
      ...(r.decidedAt ? { decidedAt: r.decidedAt.toISOString(), decidedVia: r.decidedVia } : {}),
    })),
    ...(reviews.length === query.limit
      ? { nextCursor: encodeReviewCursor({ at: reviews.at(-1)!.createdAt, id: reviews.at(-1)!.id }) }
      : {}),
  };
}

const RECENT_ORDERS = 10;

/** Where the two addresses of the subject are: how far apart, and how fast one would have travelled. */
function travelOf(facts: ReturnType<typeof RiskFactsSchema.parse>) {
  const [from, to] =
    facts.kind === 'claim'
      ? [
          { ip: facts.orderIp, at: facts.orderAt, label: 'order' },
          { ip: facts.ip, at: facts.at, label: 'claim' },
        ]
      : [
          facts.previous ? { ip: facts.previous.ip, at: facts.previous.at, label: 'previous order' } : null,
          { ip: facts.ip, at: facts.at, label: 'order' },
        ];
  const located = (p: typeof to | null) =>
    p ? { label: p.label, at: p.at, ip: p.ip.ip, kind: p.ip.kind, geo: p.ip.geo } : null;
  const both = from?.ip.geo && to.ip.geo;
  return {
    from: located(from),
    to: located(to),
    ...(both
      ? {
          distanceKm: Math.round(distanceKm(from.ip.geo!, to.ip.geo!)),
          impliedSpeedKmh: Math.round(
            impliedSpeedKmh({ geo: from.ip.geo!, at: from.at }, { geo: to.ip.geo!, at: to.at }),
          ),
        }
      : {}),
  };
}

/** One review with its full evidence; null when there is no such review. */
export async function reviewEvidence(db: DbTx, reviewId: string) {
  const review = await db.riskReview.findUnique({
    where: { id: reviewId },
    include: {
      assessment: true,
      order: { include: { items: { orderBy: { position: 'asc' }, select: { sku: true, quantity: true } } } },
    },
  });
  if (!review) return null;
  const { order, assessment } = review;
  const recent = await db.order.findMany({
    where: { buyerId: order.buyerId, id: { not: order.id } },
    orderBy: { createdAt: 'desc' },
    take: RECENT_ORDERS,
    include: { items: { select: { sku: true, quantity: true } } },
  });
  const facts = RiskFactsSchema.safeParse(assessment.facts);
  return {
    id: review.id,
    kind: review.subject,
    status: review.status,
    score: review.score,
    topReasons: review.topReasons,
    deadline: review.deadline.toISOString(),
    onDeadline: review.onDeadline === 'approved' ? 'approve' : 'reject',
    createdAt: review.createdAt.toISOString(),
    decision: review.decidedAt
      ? {
          status: review.status,
          via: review.decidedVia,
          by: review.decidedBy,
          note: review.note,
          at: review.decidedAt.toISOString(),
        }
      : null,
    order: {
      id: order.id,
      clientId: order.clientId,
      externalOrderId: order.externalOrderId,
      status: order.status,
      amount: money(order.amountMinor, order.currency),
      items: order.items,
      buyer: { id: order.buyerId, ip: order.buyerIp, deviceId: order.buyerDeviceId },
      createdAt: order.createdAt.toISOString(),
      claimedAt: order.claimedAt?.toISOString() ?? null,
    },
    assessment: {
      decision: assessment.decision,
      score: assessment.score,
      verdict: assessment.verdict,
      facts: assessment.facts,
      policy: assessment.policy,
      at: assessment.createdAt.toISOString(),
    },
    travel: facts.success ? travelOf(facts.data) : null,
    buyerRecentOrders: recent.map((o) => ({
      id: o.id,
      status: o.status,
      amount: money(o.amountMinor, o.currency),
      items: o.items,
      ip: o.buyerIp,
      deviceId: o.buyerDeviceId,
      createdAt: o.createdAt.toISOString(),
      claimed: o.claimedAt !== null,
    })),
  };
}
