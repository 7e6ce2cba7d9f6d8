// Suppliers and their routes: who the platform buys from, for which product, at what cost
// and in what order. Credentials are sealed at rest and leave this module only opened for
// an adapter, never in a view.
import type { Supplier } from '@prisma/client';
import type { SupplierProtocol } from '../../domain/suppliers';
import { type Keyring, open, seal } from '../../infra/crypto';
import { type Db, type DbTx, Prisma } from '../../infra/db';
import { type Actor, recordAuditInTx } from '../audit';

const credentialsAad = (name: string) => `supplier-credentials:${name}`;

export interface SupplierSettings {
  baseUrl: string;
  timeoutMs: number;
  callbackDeadlineMs: number;
  enabled: boolean;
  circuitFailures: number;
  circuitWindowSeconds: number;
  circuitCooldownSeconds: number;
}

export interface NewSupplier extends Partial<SupplierSettings> {
  name: string;
  protocol: SupplierProtocol;
  baseUrl: string;
  credentials: Record<string, unknown>;
}

export class DuplicateSupplier extends Error {}

export async function createSupplier(db: Db, keyring: Keyring, input: NewSupplier, actor: Actor): Promise<Supplier> {
  const { credentials, ...settings } = input;
  try {
    return await db.$transaction(async (tx) => {
      const supplier = await tx.supplier.create({
        data: {
          ...settings,
          credentialsCipher: seal(keyring, JSON.stringify(credentials), credentialsAad(input.name)),
        },
      });
      await audit(tx, actor, 'supplier.created', supplier.id, { ...settings });
      return supplier;
    });
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002')
      throw new DuplicateSupplier(input.name);
    throw err;
  }
}

/** Changes settings and/or replaces the credentials; returns null when there is no such supplier. */
export async function updateSupplier(
  db: Db,
  keyring: Keyring,
  id: string,
  patch: Partial<SupplierSettings> & { credentials?: Record<string, unknown> | undefined },
  actor: Actor,
): Promise<Supplier | null> {
  const { credentials, ...settings } = patch;
  return db.$transaction(async (tx) => {
    const existing = await tx.supplier.findUnique({ where: { id } });
    if (!existing) return null;
    const supplier = await tx.supplier.update({
      where: { id },
      data: {
        ...settings,
        ...(credentials
          ? { credentialsCipher: seal(keyring, JSON.stringify(credentials), credentialsAad(existing.name)) }
          : {}),
      },
    });
    await audit(tx, actor, 'supplier.updated', id, { ...settings, credentialsReplaced: credentials !== undefined });
    return supplier;
  });
}

export function credentialsOf(keyring: Keyring, supplier: Pick<Supplier, 'name' | 'credentialsCipher'>): unknown {
  return JSON.parse(open(keyring, supplier.credentialsCipher, credentialsAad(supplier.name)));
}

function audit(tx: DbTx, actor: Actor, action: string, subjectId: string, details: Prisma.InputJsonObject) {
  return recordAuditInTx(tx, {
    actorClientId: actor.clientId,
    actor: actor.name,
    action,
    subjectType: 'supplier',
    subjectId,
    details,
  });
}

export interface RouteInput {
  supplierId: string;
  productCode: string;
  costMinor: number;
  priority: number;
  enabled: boolean;
}

/** Creates or replaces the product's route through one supplier; enabling it ends an automatic pause. */
export async function putRoute(db: Db, productId: string, input: RouteInput, actor: Actor) {
  return db.$transaction(async (tx) => {
    const route = await tx.supplierRoute.upsert({
      where: { productId_supplierId: { productId, supplierId: input.supplierId } },
      create: { productId, ...input },
      update: { ...input, ...(input.enabled ? { pausedReason: null } : {}) },
      include: { supplier: true },
    });
    await recordAuditInTx(tx, {
      actorClientId: actor.clientId,
      actor: actor.name,
      action: 'route.put',
      subjectType: 'product',
      subjectId: productId,
      details: { ...input },
    });
    return route;
  });
}

export function routesOf(db: DbTx, productId: string) {
  return db.supplierRoute.findMany({
    where: { productId },
    include: { supplier: true },
    orderBy: [{ priority: 'asc' }, { costMinor: 'asc' }],
  });
}
