// What risk analysts read: the queue of reviews (oldest first) and one review's evidence —
// the facts, every rule's score and reason, the policy it ran under, the buyer's recent
// orders, and where the addresses are. Never a key: analysts decide without plaintext.
import type { Prisma, RiskReviewStatus, RiskSubject } from '@prisma/client';
import { money } from '../../domain/money';
import { activeClaim } from '../../domain/review-claims';
import { RiskFactsSchema } from '../../domain/risk/facts';
import { distanceKm, impliedSpeedKmh } from '../../domain/risk/geo';
import type { DbTx } from '../../infra/db';
import { byCreatedAt, keysetPage, type TimeKey } from '../keyset';

/** The queue by deadline: what is due first (the console's order); the same cursor text as by creation. */
const byDeadline = {
  orderBy: [{ deadline: 'asc' }, { id: 'asc' }] as ({ deadline: 'asc' } | { id: 'asc' })[],
  after: (key: TimeKey | undefined) =>
    key ? { OR: [{ deadline: { gt: key.at } }, { deadline: key.at, id: { gt: key.id } }] } : {},
  keyOf: (row: { deadline: Date; id: string }): TimeKey => ({ at: row.deadline, id: row.id }),
};

/** What the queue shows of each review's order: its SKUs, and the buyer. */
const queuedOrder = {
  order: { select: { buyerId: true, items: { orderBy: { position: 'asc' }, select: { sku: true, quantity: true } } } },
} satisfies Prisma.RiskReviewInclude;
export type QueuedReview = Prisma.RiskReviewGetPayload<{ include: typeof queuedOrder }>;

/** A page of the queue, oldest first (or, `by: 'deadline'`, soonest due first). */
export function reviewPage(
  db: DbTx,
  query: {
    status: RiskReviewStatus;
    subject?: RiskSubject;
    by?: 'created' | 'deadline';
    cursor?: TimeKey;
    limit: number;
  },
) {
  const order = query.by === 'deadline' ? byDeadline : byCreatedAt;
  return keysetPage(
    query.limit,
    (take) =>
      db.riskReview.findMany({
        where: {
          status: query.status,
          ...(query.subject ? { subject: query.subject } : {}),
          ...order.after(query.cursor),
        },
        orderBy: order.orderBy,
        include: queuedOrder,
        take,
      }),
    (row: QueuedReview) => order.keyOf(row),
  );
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
    /** Who is working the review now, if anyone (domain/review-claims.ts). */
    claim: activeClaim(review, new Date()),
    order: {
      id: order.id,
      workflowId: order.workflowId,
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
