import { Router } from 'express';
import { z } from 'zod';
import { roleFromDb, RoleSchema } from '../../domain/roles';
import { FreeText, HttpUrl } from '../../domain/text';
import { createClient } from '../../store/clients';
import type { ApiDeps } from '../deps';
import { actorOf, requireRole } from '../middleware/auth';
import { parseAllowList } from '../../infra/outbound-url';
import { outboundUrlOr422, parseOr422 } from '../problem';

export const CreateClientBody = z.strictObject({
  name: FreeText(100),
  role: RoleSchema,
  webhookUrl: HttpUrl().optional(),
});

export function clientsRouter({ db, keyring, config }: ApiDeps): Router {
  const router = Router();
  const outboundAllowList = parseAllowList(config.OUTBOUND_URL_ALLOWLIST);
  router.post('/', requireRole('admin'), async (req, res) => {
    const body = parseOr422(CreateClientBody, req.body);
    if (body.webhookUrl) outboundUrlOr422(body.webhookUrl, outboundAllowList, 'webhookUrl');
    const { client, apiKey, webhookSecret } = await createClient(db, keyring, body, actorOf(req));
    res.status(201).json({
      id: client.id,
      name: client.name,
      role: roleFromDb(client.role),
      webhookUrl: client.webhookUrl,
      apiKey,
      webhookSecret,
    });
  });
  return router;
}
