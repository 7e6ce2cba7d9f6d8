// The platform's own stock of card keys: import (encrypt + deduplicate), counts, and the
// reservation lifecycle available → reserved → delivered, or back to available on release.
import type { Product } from '@prisma/client';
import { type Keyring, hmacHex, open, seal } from '../infra/crypto';
import { type Db, type DbTx, Prisma, sqlOf } from '../infra/db';
import { type Actor, recordAuditInTx } from './audit';

/** Keys are sealed with their product id as associated data: a ciphertext moved to another product will not open. */
const keyAad = (productId: string) => `card-key:${productId}`;

export function fingerprintOf(secret: string, productId: string, code: string): string {
  return hmacHex(secret, `${productId}\n${code}`);
}

export interface ImportSecrets {
  keyring: Keyring;
  fingerprintSecret: string;
}

export interface ImportResult {
  batchId: string;
  imported: number;
  duplicates: number;
  /** Zero-based positions (in input order) of the first duplicates, never their values. */
  duplicatePositions: number[];
}

const CHUNK = 1000;
const MAX_REPORTED_POSITIONS = 100;

/**
 * Imports keys from any (async) iterable in chunks, so 100k keys stream through in bounded
 * memory. A key already present for the product (from any batch, or earlier in this one) is
 * counted as a duplicate and not stored again; the unique (product, fingerprint) index
 * settles races between concurrent imports.
 */
export async function importKeys(
  db: Db,
  secrets: ImportSecrets,
  input: {
    product: Product;
    keys: Iterable<string> | AsyncIterable<string>;
    supplier?: string | undefined;
    costMinor?: number | undefined;
    actor: Actor;
    onProgress?: (done: number) => void;
  },
): Promise<ImportResult> {
  const { product } = input;
  const batch = await db.keyBatch.create({
    data: {
      productId: product.id,
      supplier: input.supplier ?? null,
      costMinor: input.costMinor ?? null,
      createdByClientId: input.actor.clientId,
    },
  });
  const result: ImportResult = { batchId: batch.id, imported: 0, duplicates: 0, duplicatePositions: [] };
  let chunk: { code: string; position: number }[] = [];
  let position = 0;

  const flush = async () => {
    if (chunk.length === 0) return;
    const rows = chunk.map(({ code, position: at }) => ({
      at,
      fingerprint: fingerprintOf(secrets.fingerprintSecret, product.id, code),
      code,
    }));
    // Raw SQL over arrays: one statement per chunk, and none of the per-row query-plan garbage
    // an ORM bulk insert makes (which took 100k-key imports past 500 MB RSS).
    const fingerprints = rows.map((r) => r.fingerprint);
    const existing = await db.$queryRaw<{ fingerprint: string }[]>`
      SELECT fingerprint FROM card_keys
      WHERE product_id = ${product.id}::uuid AND fingerprint = ANY(${fingerprints}::text[])`;
    const seen = new Set(existing.map((e) => e.fingerprint));
    const fresh: typeof rows = [];
    for (const row of rows) {
      if (seen.has(row.fingerprint)) {
        result.duplicates += 1;
        if (result.duplicatePositions.length < MAX_REPORTED_POSITIONS) result.duplicatePositions.push(row.at);
      } else {
        seen.add(row.fingerprint);
        fresh.push(row);
      }
    }
    const ciphertexts = fresh.map((row) => seal(secrets.keyring, row.code, keyAad(product.id)));
    const count =
      fresh.length === 0
        ? 0
        : await db.$executeRaw`
          INSERT INTO card_keys (id, product_id, batch_id, ciphertext, encryption_key_id, fingerprint)
          SELECT gen_random_uuid(), ${product.id}::uuid, ${batch.id}::uuid, c, ${secrets.keyring.currentKeyId}, f
          FROM unnest(${ciphertexts}::text[], ${fresh.map((r) => r.fingerprint)}::text[]) AS t(c, f)
          ON CONFLICT (product_id, fingerprint) DO NOTHING`;
    result.imported += count;
    result.duplicates += fresh.length - count; // lost a race with a concurrent import
    input.onProgress?.(position);
    chunk = [];
  };

  for await (const raw of input.keys) {
    chunk.push({ code: raw, position: position++ });
    if (chunk.length >= CHUNK) await flush();
  }
  await flush();

  await db.$transaction(async (tx) => {
    await tx.keyBatch.update({
      where: { id: batch.id },
      data: { importedCount: result.imported, duplicateCount: result.duplicates },
    });
    await recordAuditInTx(tx, {
      actorClientId: input.actor.clientId,
      actor: input.actor.name,
      action: 'inventory.imported',
      subjectType: 'key_batch',
      subjectId: batch.id,
      details: { sku: product.sku, imported: result.imported, duplicates: result.duplicates },
    });
  });
  return result;
}

/** Counts per sku and status; never touches ciphertext. */
export async function inventoryCounts(db: Db) {
  const [products, groups] = await Promise.all([
    db.product.findMany({ select: { id: true, sku: true }, orderBy: { sku: 'asc' } }),
    db.cardKey.groupBy({ by: ['productId', 'status'], _count: { _all: true } }),
  ]);
  return products.map((p) => ({
    sku: p.sku,
    counts: Object.fromEntries(
      groups.filter((g) => g.productId === p.id).map((g) => [g.status, g._count._all]),
    ) as Partial<Record<string, number>>,
  }));
}

/**
 * Binds one available key to each pending unit of a `fulfilling` order: one call of the
 * `reserve_order_keys` database function (prisma/functions/reserve_order_keys.sql), which
 * locks the order row, claims keys for all units at once with FOR UPDATE SKIP LOCKED
 * (concurrent orders never wait on, or take, each other's keys) and leaves a unit that holds
 * a key as it is (a retry gets the same keys). Returns the units still without a key (out
 * of stock).
 */
export async function reserveKeysForOrder(db: Db, orderId: string): Promise<{ reserved: number; missing: string[] }> {
  const [row] = await sqlOf(db).rows<{ reserved: number; missing: string[] }>('SELECT * FROM reserve_order_keys($1)', [
    orderId,
  ]);
  return row!;
}

/** Puts the order's reserved (never delivered) keys back on the shelf and releases its pending units, in the caller's transaction. */
export async function releaseKeysInTx(tx: DbTx, orderId: string): Promise<number> {
  return releaseUnitsInTx(tx, Prisma.sql`order_id = ${orderId}::uuid`);
}

/**
 * Puts back the keys of the open (pending or reserved) units `which` selects and releases the
 * units, in the caller's transaction: a key of a batch quarantined meanwhile goes back
 * quarantined, not on sale. Returns how many keys went back.
 */
export async function releaseUnitsInTx(tx: DbTx, which: Prisma.Sql): Promise<number> {
  const [row] = await tx.$queryRaw<{ released: number }[]>`
    WITH units AS (
      UPDATE order_units SET status = 'released', card_key_id = NULL, source = NULL
      WHERE ${which} AND status IN ('pending', 'reserved') RETURNING id
    ), keys AS (
      UPDATE card_keys k SET status = CASE WHEN b.quarantined_at IS NULL THEN 'available' ELSE 'quarantined' END::card_key_status,
             reserved_by_unit_id = NULL, reserved_at = NULL
        FROM card_keys k2 LEFT JOIN key_batches b ON b.id = k2.batch_id
      WHERE k.id = k2.id AND k.reserved_by_unit_id IN (SELECT id FROM units) AND k.status = 'reserved' RETURNING k.id
    )
    SELECT count(*)::int AS released FROM keys`;
  return row!.released;
}

/** Seals one key the way imports do (product id as associated data), with its duplicate-finding fingerprint. */
export function sealCardKey(secrets: ImportSecrets, productId: string, code: string) {
  return {
    ciphertext: seal(secrets.keyring, code, keyAad(productId)),
    encryptionKeyId: secrets.keyring.currentKeyId,
    fingerprint: fingerprintOf(secrets.fingerprintSecret, productId, code),
  };
}

/** Decrypts delivered keys for the one-time claim (the only path plaintext leaves by). */
export function openKey(keyring: Keyring, key: { productId: string; ciphertext: string }): string {
  return open(keyring, key.ciphertext, keyAad(key.productId));
}
