// Working the review queue together (risk-analyst, admin):
//   POST   /v1/risk/reviews/:id/claim   take the review, or renew one's own claim (the console
//                                       does on opening it and every minute while it is open)
//   DELETE /v1/risk/reviews/:id/claim   give it back without deciding
//   GET    /v1/risk/reviews/stream      server-sent events: the open queue, soonest due first,
//                                       each time it changes (a review opened, decided, claimed)
// A claim held by another analyst is 409 `review_claimed`, and so is their decision meanwhile
// (risk-reviews.ts); it lapses CLAIM_LAPSE_MS after the holder's last sign of work.
import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../infra/db';
import { claimReview, releaseReview } from '../../store/risk/review-claims';
import { reviewPage } from '../../store/risk/review-queue';
import type { ApiDeps } from '../deps';
import { actorOf, callerOf, requireRole } from '../middleware/auth';
import { problems } from '../problem';
import { claimView, decided, held, queuedReviewView } from './risk-reviews';

export function reviewClaimRouter({ db }: ApiDeps): Router {
  const router = Router({ mergeParams: true });
  router.use(requireRole('risk-analyst', 'admin'));

  const reviewIdOf = (params: unknown) => {
    const id = z.object({ id: z.uuid() }).safeParse(params);
    if (!id.success) throw problems.notFound('review');
    return id.data.id;
  };

  router.post('/', async (req, res) => {
    const id = reviewIdOf(req.params);
    const actor = actorOf(req);
    const outcome = await claimReview(db, id, { ...actor, clientId: callerOf(req).id });
    if (outcome.kind === 'not_found') throw problems.notFound('review');
    if (outcome.kind === 'decided') decided(null);
    if (outcome.kind === 'held') held(outcome.claim);
    res.json({ id, orderId: outcome.review.orderId, claim: claimView(outcome.claim) });
  });

  router.delete('/', async (req, res) => {
    const id = reviewIdOf(req.params);
    const review = await db.riskReview.findUnique({ where: { id }, select: { id: true } });
    if (!review) throw problems.notFound('review');
    await releaseReview(db, id, callerOf(req).id);
    res.status(204).end();
  });

  return router;
}

/** How often a stream looks at the queue; a change reaches every analyst within this. */
export const STREAM_POLL_MS = 1_000;
/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;
/** The stream carries the first this many reviews due; the queue's pages have the rest. */
const STREAM_LIMIT = 100;

async function openQueue(db: Db) {
  const page = await reviewPage(db, { status: 'open', by: 'deadline', limit: STREAM_LIMIT });
  const now = new Date();
  return { reviews: page.rows.map((r) => queuedReviewView(r, now)), more: page.next !== undefined };
}

/**
 * Server-sent events rather than a push from the deciding process: decisions land in other API
 * processes and in workers (a deadline), and each stream reading the queue every second is one
 * indexed query (risk_reviews (status, deadline)) — cheap for a team of analysts, and it needs
 * no channel between processes. Browsers' EventSource cannot send a bearer key; the console
 * reads the stream with fetch.
 */
export function reviewStreamRouter({ db, logger }: ApiDeps): Router {
  const router = Router();
  router.use(requireRole('risk-analyst', 'admin'));
  router.get('/', async (req, res) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${STREAM_POLL_MS * 3}\n\n`);
    let last = '';
    let wroteAt = Date.now();
    let closed = false;
    req.on('close', () => {
      closed = true;
    });
    while (!closed) {
      try {
        const queue = await openQueue(db);
        const data = JSON.stringify(queue);
        if (data !== last && !closed) {
          res.write(`event: queue\ndata: ${data}\n\n`);
          last = data;
          wroteAt = Date.now();
        }
      } catch (err) {
        // The next look may work (a database restart); the console keeps what it showed.
        logger.warn({ err }, 'review stream could not read the queue');
      }
      if (!closed && Date.now() - wroteAt >= KEEPALIVE_MS) {
        res.write(': keep-alive\n\n');
        wroteAt = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, STREAM_POLL_MS));
    }
    res.end();
  });
  return router;
}
