// GET /v1/claims/:token — no API key: the token is the secret, and it works once. Risk
// control runs first: a claim from an unusual place reveals nothing until an analyst says so.
import { Router } from 'express';
import { z } from 'zod';
import { CardKeySchema } from '../../domain/card-key';
import { FreeText } from '../../domain/text';
import { claimableOrder, claimableReplacement, redeemClaim, redeemCompensationClaim } from '../../store/claims';
import { CompensationRefused, requestCompensation, unitByCode } from '../../store/compensation/requests';
import { gateClaim } from '../../store/risk/claim-gate';
import type { ApiDeps } from '../deps';
import { clientAddressOf } from '../middleware/client-address';
import { parseOr422, Problem, problems } from '../problem';

export const ReportBody = z.strictObject({
  /** The code that did not work, as the buyer sees it. */
  code: CardKeySchema,
  reason: FreeText(500).pipe(z.string().min(1)),
});

export function claimsRouter({ db, keyring, config }: ApiDeps): Router {
  const router = Router();
  router.get('/:token', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const token = req.params.token;
    if (!/^[0-9a-f]{64}$/.test(token)) throw problems.notFound('claim');
    const ip = clientAddressOf(req);
    const order = await claimableOrder(db, token);
    // A compensation's replacement has a link of its own, gated like the order's.
    const replacement = order ? null : await claimableReplacement(db, token);
    const orderId = order?.id ?? replacement?.orderId;
    if (!orderId) throw problems.notFound('claim');
    if ((order ?? replacement)!.claimedAt) throw claimUsed();
    const gate = await gateClaim(db, { orderId, ip, at: new Date() });
    if (gate.kind === 'rejected') {
      throw new Problem(403, 'claim_rejected', 'This claim was rejected by risk review; contact the seller');
    }
    if (gate.kind === 'under_review') {
      res.status(202).json({
        status: 'under_review',
        detail: 'This claim is being reviewed; try the same link again later',
      });
      return;
    }
    const outcome = replacement
      ? await redeemCompensationClaim(db, keyring, replacement.id, ip)
      : await redeemClaim(db, keyring, token, ip);
    if (outcome.kind === 'not_found') throw problems.notFound('claim');
    if (outcome.kind === 'gone') throw claimUsed();
    res.json({ orderId: outcome.orderId, items: outcome.items });
  });
  /**
   * POST /v1/claims/:token/report — the buyer says a revealed code does not work. It opens an
   * incident that waits for support to confirm (nothing is voided or reissued on the buyer's
   * word alone); the same report again is the same incident. Rate-limited per address like
   * the claim itself.
   */
  router.post('/:token/report', async (req, res) => {
    const token = req.params.token;
    if (!/^[0-9a-f]{64}$/.test(token)) throw problems.notFound('claim');
    const body = parseOr422(ReportBody, req.body);
    const order = await claimableOrder(db, token);
    if (!order?.claimedAt) throw problems.notFound('claimed order');
    const unitId = await unitByCode(db, {
      orderId: order.id,
      code: body.code,
      fingerprintSecret: config.KEY_FINGERPRINT_SECRET,
    });
    if (!unitId) throw new Problem(422, 'unknown_code', 'no delivered key of this order has that code');
    let reported: Awaited<ReturnType<typeof requestCompensation>>;
    try {
      reported = await requestCompensation(
        db,
        {
          orderId: order.id,
          unitId,
          action: 'reissue',
          reason: body.reason,
          trigger: 'buyer',
          awaitConfirmation: true,
        },
        { clientId: null, name: 'buyer' },
      );
    } catch (err) {
      if (!(err instanceof CompensationRefused)) throw err;
      throw new Problem(409, err.code, err.message);
    }
    const { compensation, created } = reported;
    res.status(created ? 202 : 200).json({ reportId: compensation.id, status: compensation.status });
  });
  return router;
}

function claimUsed(): Problem {
  return new Problem(410, 'claim_used', 'This claim link has already been used');
}
