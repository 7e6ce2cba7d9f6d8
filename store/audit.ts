import type { Prisma } from '@prisma/client';
import type { DbTx } from '../infra/db';

/** Who did something: an API client, or a named system actor ("demo-seed", "cli:keys-import"). */
export interface Actor {
  clientId: string | null;
  name: string;
}

export interface AuditEntry {
  actorClientId?: string | null;
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  reason?: string;
  details?: Prisma.InputJsonObject;
}

/** Appends to the audit log; call it inside the transaction of the action it records. */
export async function recordAuditInTx(tx: DbTx, entry: AuditEntry): Promise<void> {
  await tx.auditLog.create({ data: { ...entry, details: entry.details ?? {} } });
}
