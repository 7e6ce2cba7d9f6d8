import { Router } from 'express';
import { redeemClaim } from '../../store/claims';
import type { ApiDeps } from '../deps';
import { Problem, problems } from '../problem';

/** GET /v1/claims/:token — no API key: the token is the secret, and it works once. */
export function claimsRouter({ db, keyring }: ApiDeps): Router {
  const router = Router();
  router.get('/:token', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const token = req.params.token;
    if (!/^[0-9a-f]{64}$/.test(token)) throw problems.notFound('claim');
    const outcome = await redeemClaim(db, keyring, token, req.ip ?? 'unknown');
    if (outcome.kind === 'not_found') throw problems.notFound('claim');
    if (outcome.kind === 'gone') throw new Problem(410, 'claim_used', 'This claim link has already been used');
    res.json({ orderId: outcome.orderId, items: outcome.items });
  });
  return router;
}
