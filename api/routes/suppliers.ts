// Upstream suppliers and the routes through which a product is bought from them: admin-only
// writes, admin or support reads. Credentials go in sealed and never come back out.
import type { Request } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import { roleFromDb } from '../../domain/roles';
import { CREDENTIALS_BY_PROTOCOL, MAX_COST_MINOR, type SupplierProtocol } from '../../domain/suppliers';
import { FreeText, HttpUrl, Identifier } from '../../domain/text';
import { parseAllowList, type OutboundAllowList } from '../../infra/outbound-url';
import {
  createSupplier,
  DuplicateSupplier,
  putRoute,
  routesOf,
  type SupplierSettings,
  updateSupplier,
} from '../../store/suppliers/registry';
import { type SupplierHealth, supplierHealth } from '../../store/suppliers/health';
import type { ApiDeps } from '../deps';
import { routeView, supplierView } from '../views/suppliers';
import { actorOf, callerOf, requireRole } from '../middleware/auth';
import { outboundUrlOr422, parseOr422, Problem, problems } from '../problem';
import { SkuSchema } from './products';

export const SupplierNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be 2-63 lowercase letters, digits or -, starting with a letter or digit');

const ProtocolSchema = z.enum(Object.keys(CREDENTIALS_BY_PROTOCOL) as [SupplierProtocol, ...SupplierProtocol[]]);
const BaseUrlSchema = HttpUrl();
/** Checked against the protocol's own schema once the protocol is known. */
const CredentialsObject = z.record(Identifier(100), z.unknown());

const CircuitSchema = z.strictObject({
  failuresToOpen: z.number().int().min(1).max(1000),
  windowSeconds: z.number().int().min(1).max(3600),
  cooldownSeconds: z.number().int().min(1).max(3600),
});

const settingsShape = {
  timeoutMs: z.number().int().min(100).max(60_000).optional(),
  callbackDeadlineMs: z.number().int().min(1000).max(86_400_000).optional(),
  enabled: z.boolean().optional(),
};

export const CreateSupplierBody = z.strictObject({
  name: SupplierNameSchema,
  protocol: ProtocolSchema,
  baseUrl: BaseUrlSchema,
  credentials: CredentialsObject,
  ...settingsShape,
  circuit: CircuitSchema.optional(),
});

export const UpdateSupplierBody = z
  .strictObject({
    baseUrl: BaseUrlSchema.optional(),
    credentials: CredentialsObject.optional(),
    ...settingsShape,
    circuit: CircuitSchema.partial()
      .refine((c) => Object.keys(c).length > 0, 'name at least one circuit setting')
      .optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'name at least one setting to change');

export const PutRouteBody = z.strictObject({
  productCode: FreeText(200),
  cost: z.strictObject({
    minor: z.number().int('must be an integer number of minor units').min(0).max(MAX_COST_MINOR),
  }),
  priority: z.number().int().min(0).max(10_000).default(100),
  enabled: z.boolean().default(true),
});

/** The protocol's credentials, or 422 naming each bad field under `credentials.`. */
function credentialsOr422(protocol: SupplierProtocol, value: unknown, allow: OutboundAllowList) {
  const { credentials } = parseOr422(z.strictObject({ credentials: CREDENTIALS_BY_PROTOCOL[protocol] }), {
    credentials: value,
  });
  // The adapter sends requests to these too: they pass the same outbound check as baseUrl.
  if ('authUrl' in credentials) outboundUrlOr422(credentials.authUrl, allow, 'credentials.authUrl');
  if ('topupsBaseUrl' in credentials) outboundUrlOr422(credentials.topupsBaseUrl, allow, 'credentials.topupsBaseUrl');
  return credentials;
}

function circuitSettings(circuit: Partial<z.infer<typeof CircuitSchema>> | undefined): Partial<SupplierSettings> {
  if (!circuit) return {};
  return {
    ...(circuit.failuresToOpen !== undefined ? { circuitFailures: circuit.failuresToOpen } : {}),
    ...(circuit.windowSeconds !== undefined ? { circuitWindowSeconds: circuit.windowSeconds } : {}),
    ...(circuit.cooldownSeconds !== undefined ? { circuitCooldownSeconds: circuit.cooldownSeconds } : {}),
  };
}

function requireReader(req: Request): void {
  if (!['admin', 'support'].includes(roleFromDb(callerOf(req).role))) throw problems.forbidden();
}

/** Supplier health looks back this far: long enough to mean something, short enough to be now. */
const HEALTH_WINDOW_MS = 3_600_000;

function healthView(h: SupplierHealth | undefined) {
  const calls = h?.calls ?? 0;
  return {
    windowSeconds: HEALTH_WINDOW_MS / 1000,
    calls,
    successRate: calls > 0 ? Math.round(((h?.ok ?? 0) / calls) * 1000) / 1000 : null,
    p95LatencyMs: h?.p95LatencyMs ?? null,
  };
}

export function suppliersRouter({ db, keyring, config }: ApiDeps): Router {
  const router = Router();
  const outboundAllowList = parseAllowList(config.OUTBOUND_URL_ALLOWLIST);

  router.post('/', requireRole('admin'), async (req, res) => {
    const { circuit, credentials: rawCredentials, ...body } = parseOr422(CreateSupplierBody, req.body);
    const credentials = credentialsOr422(body.protocol, rawCredentials, outboundAllowList);
    outboundUrlOr422(body.baseUrl, outboundAllowList, 'baseUrl');
    try {
      const supplier = await createSupplier(
        db,
        keyring,
        { ...body, ...circuitSettings(circuit), credentials },
        actorOf(req),
      );
      res.status(201).json(supplierView(supplier));
    } catch (err) {
      if (err instanceof DuplicateSupplier)
        throw new Problem(409, 'supplier_exists', `supplier ${body.name} already exists`);
      throw err;
    }
  });

  router.get('/', async (req, res) => {
    requireReader(req);
    const [suppliers, health] = await Promise.all([
      db.supplier.findMany({ orderBy: { name: 'asc' } }),
      supplierHealth(db, new Date(Date.now() - HEALTH_WINDOW_MS)),
    ]);
    res.json({ suppliers: suppliers.map((s) => ({ ...supplierView(s), health: healthView(health.get(s.id)) })) });
  });

  router.get('/:id', async (req, res) => {
    requireReader(req);
    const id = z.uuid().safeParse(req.params.id);
    const supplier = id.success ? await db.supplier.findUnique({ where: { id: id.data } }) : null;
    if (!supplier) throw problems.notFound('supplier');
    const health = await supplierHealth(db, new Date(Date.now() - HEALTH_WINDOW_MS));
    res.json({ ...supplierView(supplier), health: healthView(health.get(supplier.id)) });
  });

  router.patch('/:id', requireRole('admin'), async (req, res) => {
    const id = z.uuid().safeParse(req.params.id);
    const existing = id.success ? await db.supplier.findUnique({ where: { id: id.data } }) : null;
    if (!existing) throw problems.notFound('supplier');
    const { circuit, credentials: rawCredentials, ...settings } = parseOr422(UpdateSupplierBody, req.body);
    const credentials =
      rawCredentials === undefined ? undefined : credentialsOr422(existing.protocol, rawCredentials, outboundAllowList);
    if (settings.baseUrl !== undefined) outboundUrlOr422(settings.baseUrl, outboundAllowList, 'baseUrl');
    const supplier = await updateSupplier(
      db,
      keyring,
      existing.id,
      { ...settings, ...circuitSettings(circuit), ...(credentials ? { credentials } : {}) },
      actorOf(req),
    );
    if (!supplier) throw problems.notFound('supplier');
    res.json(supplierView(supplier));
  });

  return router;
}

/** Mounted at /v1/products/:sku/routes. */
export function productRoutesRouter({ db }: ApiDeps): Router {
  const router = Router({ mergeParams: true });

  async function productOr404(req: Request) {
    const sku = SkuSchema.safeParse((req.params as { sku?: string }).sku);
    const product = sku.success ? await db.product.findUnique({ where: { sku: sku.data } }) : null;
    if (!product) throw problems.notFound('product');
    return product;
  }

  router.get('/', async (req, res) => {
    requireReader(req);
    const product = await productOr404(req);
    const routes = await routesOf(db, product.id);
    res.json({ sku: product.sku, routes: routes.map(routeView) });
  });

  router.put('/:supplier', requireRole('admin'), async (req, res) => {
    const product = await productOr404(req);
    const name = SupplierNameSchema.safeParse(req.params.supplier);
    const supplier = name.success ? await db.supplier.findUnique({ where: { name: name.data } }) : null;
    if (!supplier) throw problems.notFound('supplier');
    const body = parseOr422(PutRouteBody, req.body);
    const route = await putRoute(
      db,
      product.id,
      {
        supplierId: supplier.id,
        productCode: body.productCode,
        costMinor: body.cost.minor,
        priority: body.priority,
        enabled: body.enabled,
      },
      actorOf(req),
    );
    res.json(routeView(route));
  });

  return router;
}
