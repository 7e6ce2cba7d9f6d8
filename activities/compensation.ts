// The compensation's steps: thin wrappers over store/compensation (short transactions, run as
// local activities) and one supplier call (reporting the bad key to the supplier that sold it).
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../domain/failures';
import type { PlannedRoute } from '../domain/suppliers';
import { parseAllowList } from '../infra/outbound-url';
import {
  abandonReplacement,
  type CompensationCase,
  compensationCase,
  completeCompensation,
  deliverReplacement,
  prepareReplacement,
  voidBadKey,
} from '../store/compensation/steps';
import { credentialsOf } from '../store/suppliers/registry';
import { routesForReplacement } from '../store/suppliers/sourcing';
import type { ActivityDeps } from './deps';
import { adapterFor } from './suppliers/adapters';

export type { CompensationCase };

export function compensationActivities({ db, config, keyring, logger }: ActivityDeps) {
  const allow = parseAllowList(config.OUTBOUND_URL_ALLOWLIST);

  async function caseOrFail(compensationId: string): Promise<CompensationCase> {
    const found = await compensationCase(db, compensationId);
    if (found) return found;
    throw ApplicationFailure.create({
      message: `compensation ${compensationId} not found`,
      type: FailureType.CompensationNotFound,
      nonRetryable: true,
    });
  }

  return {
    compensationCase: caseOrFail,

    voidBadKey: (compensationId: string) => voidBadKey(db, compensationId, config),

    prepareReplacement: (compensationId: string) => prepareReplacement(db, compensationId),

    async replacementRoutes(compensationId: string): Promise<PlannedRoute[]> {
      const c = await caseOrFail(compensationId);
      return routesForReplacement(db, {
        productId: c.productId,
        priceMinor: c.priceMinor,
        failedSupplierId: c.failedSupplierId,
      });
    },

    deliverReplacement: (compensationId: string) => deliverReplacement(db, config.CLAIM_TOKEN_SECRET, compensationId),

    abandonReplacement: (compensationId: string) => abandonReplacement(db, compensationId),

    completeCompensation: (compensationId: string, outcome: 'refunded' | 'rejected', detail?: string) =>
      completeCompensation(db, compensationId, outcome, detail),

    /** Tells the supplier that sold the key that it failed (their dispute process); best effort. */
    async disputeBadKey(compensationId: string): Promise<boolean> {
      const c = await caseOrFail(compensationId);
      if (!c.failedSupplierId) return false;
      const [supplier, product] = await Promise.all([
        db.supplier.findUniqueOrThrow({ where: { id: c.failedSupplierId } }),
        db.product.findUniqueOrThrow({ where: { id: c.productId } }),
      ]);
      const adapter = adapterFor(supplier, credentialsOf(keyring, supplier), allow, product.currency);
      if (!adapter.dispute) return false;
      const disputed = await adapter.dispute(c.unitId, `bad key reported: compensation ${c.id}`);
      logger.info({ compensationId, supplier: supplier.name, disputed }, 'bad key reported to the supplier');
      return disputed;
    },
  };
}

export type CompensationActivities = ReturnType<typeof compensationActivities>;
