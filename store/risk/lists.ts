// The allow and deny lists: buyer ids, device ids, and IP addresses or networks. An IP entry
// is stored as its network's canonical CIDR text (domain/ip-address.ts: an IPv4-mapped
// ::ffff:198.51.100.7 is the IPv4 198.51.100.7/32), which PostgreSQL reads back unchanged; the
// facts query matches with `value::cidr >>= buyer_ip::inet` against addresses in the same
// canonical form, so an entry covers an address whichever way either was written, and adding
// one network twice finds the first entry instead of making a second one.
import type { RiskList, RiskListEntry, RiskListKind } from '@prisma/client';
import { formatNetwork, parseIpNetwork } from '../../domain/ip-address';
import { type Db, type DbTx, Prisma } from '../../infra/db';
import { type Actor, recordAuditInTx } from '../audit';
import { byCreatedAt, keysetPage, type Page, type TimeKey } from '../keyset';

export interface NewListEntry {
  list: RiskList;
  kind: RiskListKind;
  value: string;
  note?: string | undefined;
}

/** An IP value that is not an address or a network; `reason` says why, for the caller. */
export class InvalidIpValue extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * The canonical text of an IP value: a network with its prefix length, a bare address as a
 * /32 or /128 ("198.51.100.7" → "198.51.100.7/32"). Throws InvalidIpValue with the reason
 * (domain/ip-address.ts parseIpNetwork says which values are refused and why).
 */
export function canonicalIpValue(text: string): string {
  const parsed = parseIpNetwork(text);
  if ('refused' in parsed) throw new InvalidIpValue(parsed.refused);
  return formatNetwork(parsed.network);
}

function auditListInTx(tx: DbTx, actor: Actor, action: string, entry: RiskListEntry) {
  return recordAuditInTx(tx, {
    actorClientId: actor.clientId,
    actor: actor.name,
    action,
    subjectType: 'risk_list_entry',
    subjectId: entry.id,
    details: { list: entry.list, kind: entry.kind, value: entry.value, note: entry.note },
  });
}

/**
 * Adds an entry, IP values in canonical form, audited; an entry already on the list (same
 * list, kind and canonical value) is returned as it is (its note unchanged) with `created`
 * false, and nothing is written. Throws InvalidIpValue for an IP value that is not one.
 */
export async function addListEntry(
  db: Db,
  input: NewListEntry,
  actor: Actor,
): Promise<{ entry: RiskListEntry; created: boolean }> {
  const value = input.kind === 'ip' ? canonicalIpValue(input.value) : input.value;
  const key = { list: input.list, kind: input.kind, value };
  const existing = await db.riskListEntry.findUnique({ where: { list_kind_value: key } });
  if (existing) return { entry: existing, created: false };
  try {
    const entry = await db.$transaction(async (tx) => {
      const created = await tx.riskListEntry.create({ data: { ...key, note: input.note ?? null } });
      await auditListInTx(tx, actor, 'risk_list.added', created);
      return created;
    });
    return { entry, created: true };
  } catch (err) {
    // A concurrent add of the same entry won: answer with its entry.
    if (!(err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002')) throw err;
    return { entry: await db.riskListEntry.findUniqueOrThrow({ where: { list_kind_value: key } }), created: false };
  }
}

/** Removes an entry, audited with what it was; null when there is no such entry. */
export async function removeListEntry(db: Db, id: string, actor: Actor): Promise<RiskListEntry | null> {
  return db.$transaction(async (tx) => {
    const [entry] = await tx.$queryRaw<RiskListEntry[]>`
      DELETE FROM risk_list_entries WHERE id = ${id}::uuid
      RETURNING id, list::text AS list, kind::text AS kind, value, note, created_at AS "createdAt"`;
    if (!entry) return null;
    await auditListInTx(tx, actor, 'risk_list.removed', entry);
    return entry;
  });
}

/** A page of entries, oldest first, optionally of one list and/or kind. */
export function listEntriesPage(
  db: DbTx,
  query: {
    list?: RiskList | undefined;
    kind?: RiskListKind | undefined;
    cursor?: TimeKey | undefined;
    limit: number;
  },
): Promise<Page<RiskListEntry, TimeKey>> {
  return keysetPage(
    query.limit,
    (take) =>
      db.riskListEntry.findMany({
        where: {
          ...(query.list ? { list: query.list } : {}),
          ...(query.kind ? { kind: query.kind } : {}),
          ...byCreatedAt.after(query.cursor),
        },
        orderBy: byCreatedAt.orderBy,
        take,
      }),
    byCreatedAt.keyOf,
  );
}
