import type { ProductKind } from '@prisma/client';
import type { Db } from '../infra/db';
import { Prisma } from '../infra/db';
import { type Actor, recordAuditInTx } from './audit';

export interface NewProduct {
  sku: string;
  name: string;
  kind: ProductKind;
  price: { minor: number; currency: string };
  accountPattern?: string | undefined;
}

export class DuplicateSku extends Error {}

export async function createProduct(db: Db, input: NewProduct, actor: Actor) {
  try {
    return await db.$transaction(async (tx) => {
      const product = await tx.product.create({
        data: {
          sku: input.sku,
          name: input.name,
          kind: input.kind,
          priceMinor: input.price.minor,
          currency: input.price.currency,
          accountPattern: input.accountPattern ?? null,
        },
      });
      await recordAuditInTx(tx, {
        actorClientId: actor.clientId,
        actor: actor.name,
        action: 'product.created',
        subjectType: 'product',
        subjectId: product.id,
        details: { sku: input.sku, priceMinor: input.price.minor, currency: input.price.currency },
      });
      return product;
    });
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') throw new DuplicateSku(input.sku);
    throw err;
  }
}
