// GET /v1/claims/:token — no API key: the token is the secret, and it works once. Risk
// control runs first: a claim from an unusual place reveals nothing until an analyst says so.
import { Router } from 'express';
import { claimableOrder, redeemClaim, redeemCompensationClaim } from '../../store/claims';
import { gateClaim } from '../../store/risk/claim-gate';
import type { ApiDeps } from '../deps';
import { Problem, problems } from '../problem';

export function claimsRouter({ db, keyring }: ApiDeps): Router {
  const router = Router();
  router.get('/:token', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const token = req.params.token;
    if (!/^[0-9a-f]{64}$/.test(token)) throw problems.notFound('claim');
    const ip = req.ip ?? 'unknown';
    const order = await claimableOrder(db, token);
    if (!order) {
      // A compensation's replacement has a link of its own.
      const replacement = await redeemCompensationClaim(db, keyring, token, ip);
      if (replacement.kind === 'not_found') throw problems.notFound('claim');
      if (replacement.kind === 'gone') throw claimUsed();
      res.json({ orderId: replacement.orderId, items: replacement.items });
      return;
    }
    if (order.claimedAt) throw claimUsed();
    const gate = await gateClaim(db, { orderId: order.id, ip, at: new Date() });
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
    const outcome = await redeemClaim(db, keyring, token, ip);
    if (outcome.kind === 'not_found') throw problems.notFound('claim');
    if (outcome.kind === 'gone') throw claimUsed();
    res.json({ orderId: outcome.orderId, items: outcome.items });
  });
  return router;
}

function claimUsed(): Problem {
  return new Problem(410, 'claim_used', 'This claim link has already been used');
}
