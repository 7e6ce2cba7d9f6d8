import type { Client } from '@prisma/client';
import { type Db, type DbTx, Prisma } from '../infra/db';
import { type Keyring, open, randomToken, seal, sha256Hex } from '../infra/crypto';
import { type Role, roleToDb } from '../domain/roles';
import { type Actor, recordAuditInTx } from './audit';

const API_KEY_PREFIX = 'rp_';
const WEBHOOK_SECRET_AAD = 'webhook-secret';

export interface NewClient {
  name: string;
  role: Role;
  webhookUrl?: string | undefined;
}

export interface CreatedClient {
  client: Client;
  /** Shown once; only its hash is stored. */
  apiKey: string;
  webhookSecret: string;
}

export async function createClient(db: Db, keyring: Keyring, input: NewClient, actor: Actor): Promise<CreatedClient> {
  const apiKey = randomToken(API_KEY_PREFIX);
  const webhookSecret = randomToken('whsec_');
  const client = await db.$transaction(async (tx) => {
    const created = await insertClient(tx, keyring, input, apiKey, webhookSecret);
    await recordAuditInTx(tx, {
      actorClientId: actor.clientId,
      actor: actor.name,
      action: 'client.created',
      subjectType: 'client',
      subjectId: created.id,
      details: { name: input.name, role: input.role },
    });
    return created;
  });
  return { client, apiKey, webhookSecret };
}

function insertClient(tx: DbTx, keyring: Keyring, input: NewClient, apiKey: string, webhookSecret: string) {
  return tx.client.create({
    data: {
      name: input.name,
      role: roleToDb(input.role),
      apiKeyHash: sha256Hex(apiKey),
      apiKeyPrefix: apiKey.slice(0, API_KEY_PREFIX.length + 6),
      webhookUrl: input.webhookUrl ?? null,
      webhookSecretCipher: seal(keyring, webhookSecret, WEBHOOK_SECRET_AAD),
    },
  });
}

export async function findClientByApiKey(db: Db, apiKey: string): Promise<Client | null> {
  const client = await db.client.findUnique({ where: { apiKeyHash: sha256Hex(apiKey) } });
  return client && !client.disabledAt ? client : null;
}

export function webhookSecretOf(keyring: Keyring, client: Pick<Client, 'webhookSecretCipher'>): string | null {
  return client.webhookSecretCipher ? open(keyring, client.webhookSecretCipher, WEBHOOK_SECRET_AAD) : null;
}

/**
 * Makes sure a client holds the given key (idempotent; concurrent callers converge on one
 * row through the unique hash). Used for BOOTSTRAP_ADMIN_KEY at every API start and for demo data.
 */
export async function ensureClientWithKey(
  db: Db,
  keyring: Keyring,
  input: NewClient,
  apiKey: string,
  reason: string,
): Promise<{ client: Client; created: boolean }> {
  const existing = await db.client.findUnique({ where: { apiKeyHash: sha256Hex(apiKey) } });
  if (existing) return { client: existing, created: false };
  try {
    const client = await db.$transaction(async (tx) => {
      const created = await insertClient(tx, keyring, input, apiKey, randomToken('whsec_'));
      await recordAuditInTx(tx, {
        actor: 'system',
        action: 'client.created',
        subjectType: 'client',
        subjectId: created.id,
        reason,
        details: { name: input.name, role: input.role },
      });
      return created;
    });
    return { client, created: true };
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
      return {
        client: await db.client.findUniqueOrThrow({ where: { apiKeyHash: sha256Hex(apiKey) } }),
        created: false,
      };
    }
    throw err;
  }
}
