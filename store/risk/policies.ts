// Risk policies as stored: one default (no product) and at most one per product. A product
// without its own policy inherits the default as a whole (the facts query takes
// COALESCE(own, default)), so what a SKU answers to is always one complete policy. Writes
// lock before they read, so two concurrent changes apply one after the other.
import { type RiskPolicy, RiskPolicySchema } from '../../domain/risk/policy';
import { type Db, type DbTx, Prisma } from '../../infra/db';
import { type Actor, recordAuditInTx } from '../audit';

/** Which policy a request addresses: the default, or a product's own. */
export type PolicyTarget = { kind: 'default' } | { kind: 'product'; productId: string; sku: string };

/** The policy a target answers to now, fully expanded. */
export interface EffectivePolicy {
  policy: RiskPolicy;
  /** True when a product has no policy of its own and answers to the default. */
  inherited: boolean;
  /** The version and change time of the row the policy comes from (the default's, when inherited). */
  version: number;
  updatedAt: Date;
}

interface PolicyRow {
  id: string;
  policy: unknown;
  version: number;
  updatedAt: Date;
}

function effective(row: PolicyRow, inherited: boolean): EffectivePolicy {
  // Stored policies are written expanded, but the seeded default is `{}`: parsing fills it in.
  return { policy: RiskPolicySchema.parse(row.policy), inherited, version: row.version, updatedAt: row.updatedAt };
}

async function defaultRow(db: DbTx): Promise<PolicyRow> {
  const row = await db.riskPolicy.findFirst({ where: { productId: null } });
  if (!row) throw new Error('the default risk policy is missing (the migration seeds it)');
  return row;
}

/** The default policy and every product's own, with the products' SKUs, by SKU. */
export async function listPolicies(
  db: DbTx,
): Promise<{ default: EffectivePolicy; products: (EffectivePolicy & { sku: string })[] }> {
  const [fallback, own] = await Promise.all([
    defaultRow(db),
    db.riskPolicy.findMany({
      where: { productId: { not: null } },
      include: { product: { select: { sku: true } } },
      orderBy: { product: { sku: 'asc' } },
    }),
  ]);
  return {
    default: effective(fallback, false),
    products: own.flatMap((row) => (row.product ? [{ ...effective(row, false), sku: row.product.sku }] : [])),
  };
}

/** The policy the target answers to: its own, or (a product without one) the default. */
export async function effectivePolicyOf(db: DbTx, target: PolicyTarget): Promise<EffectivePolicy> {
  if (target.kind === 'product') {
    const own = await db.riskPolicy.findUnique({ where: { productId: target.productId } });
    if (own) return effective(own, false);
  }
  return effective(await defaultRow(db), target.kind === 'product');
}

// Serialises the writers of one target. A product's writers lock the product row (NO KEY
// UPDATE, so orders referencing the product are not held up), which also covers the moment
// the product has no policy row to lock yet; while it inherits, the default is held FOR SHARE
// so that what it forks from cannot change underneath.
async function lockTarget(tx: DbTx, target: PolicyTarget): Promise<void> {
  if (target.kind === 'product') {
    await tx.$queryRaw`SELECT id FROM products WHERE id = ${target.productId}::uuid FOR NO KEY UPDATE`;
    await tx.$queryRaw`SELECT id FROM risk_policies WHERE product_id IS NULL FOR SHARE`;
  } else {
    await tx.$queryRaw`SELECT id FROM risk_policies WHERE product_id IS NULL FOR UPDATE`;
  }
}

const asJson = (policy: RiskPolicy) => policy as unknown as Prisma.InputJsonObject;

function auditPolicyInTx(
  tx: DbTx,
  actor: Actor,
  action: string,
  target: PolicyTarget,
  change: { before: EffectivePolicy; after: EffectivePolicy },
) {
  return recordAuditInTx(tx, {
    actorClientId: actor.clientId,
    actor: actor.name,
    action,
    subjectType: 'risk_policy',
    subjectId: target.kind === 'product' ? target.productId : 'default',
    details: {
      sku: target.kind === 'product' ? target.sku : 'default',
      version: change.after.version,
      before: asJson(change.before.policy),
      after: asJson(change.after.policy),
      inherited: { before: change.before.inherited, after: change.after.inherited },
    },
  });
}

/**
 * Replaces the target's policy with what `change` makes of the one it answers to now (read
 * under the lock, so a concurrent change is seen, never overwritten), bumps the version and
 * audits before and after, in one transaction. A product that inherited gets a policy of its
 * own at version 1. `change` may throw to refuse: nothing is written.
 */
export async function changePolicy(
  db: Db,
  target: PolicyTarget,
  change: (current: EffectivePolicy) => RiskPolicy,
  action: string,
  actor: Actor,
): Promise<EffectivePolicy> {
  return db.$transaction(async (tx) => {
    await lockTarget(tx, target);
    const before = await effectivePolicyOf(tx, target);
    const policy = RiskPolicySchema.parse(change(before));
    const data = { policy: asJson(policy), updatedAt: new Date() };
    const row =
      target.kind === 'product'
        ? await tx.riskPolicy.upsert({
            where: { productId: target.productId },
            create: { productId: target.productId, ...data },
            update: { ...data, version: { increment: 1 } },
          })
        : await tx.riskPolicy.update({
            where: { id: (await defaultRow(tx)).id },
            data: { ...data, version: { increment: 1 } },
          });
    const after = effective(row, false);
    await auditPolicyInTx(tx, actor, action, target, { before, after });
    return after;
  });
}

/**
 * Drops a product's own policy, so that it inherits the default again; audited. False (and
 * nothing written) when it had none.
 */
export async function inheritDefaultPolicy(
  db: Db,
  target: Extract<PolicyTarget, { kind: 'product' }>,
  actor: Actor,
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    await lockTarget(tx, target);
    const before = await effectivePolicyOf(tx, target);
    if (before.inherited) return false;
    await tx.riskPolicy.delete({ where: { productId: target.productId } });
    const after = await effectivePolicyOf(tx, target);
    await auditPolicyInTx(tx, actor, 'risk_policy.deleted', target, { before, after });
    return true;
  });
}
