// The allow and deny lists: buyer ids, device ids, and IP addresses or networks. An IP entry
// is stored as PostgreSQL's canonical CIDR text (the facts query matches with
// `value::cidr >>= buyer_ip::inet`), so one network has one spelling and adding it twice
// finds the first entry instead of making a second one.
import { isIP } from 'node:net';
import type { RiskList, RiskListEntry, RiskListKind } from '@prisma/client';
import { normalizeIp } from '../../domain/risk/geo';
import { type Db, type DbTx, Prisma } from '../../infra/db';
import { type Actor, recordAuditInTx } from '../audit';

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

const NOT_AN_ADDRESS =
  'must be an IPv4 or IPv6 address, or a network in CIDR notation (198.51.100.0/24, 2001:db8::/32)';

/**
 * The address and prefix length of an IP value, checked here rather than left to
 * PostgreSQL, whose inet input also takes legacy abbreviations ("10/8", "192.168") that no
 * operator means. An IPv4-mapped IPv6 address (::ffff:198.51.100.7) becomes the IPv4 address
 * it carries, which is how an IPv4 buyer's address is recorded.
 */
function addressAndPrefix(text: string): { address: string; prefix: number } {
  const [written = '', prefixText, ...rest] = text.split('/');
  const version = written.includes('%') ? 0 : isIP(written); // a zone id names an interface, not an address
  if (rest.length > 0 || version === 0) throw new InvalidIpValue(NOT_AN_ADDRESS);
  const width = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) throw new InvalidIpValue(NOT_AN_ADDRESS);
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (prefix > width) throw new InvalidIpValue(`the prefix length must be at most /${width}`);
  const address = normalizeIp(written) ?? written;
  if (version === 6 && isIP(address) === 4) {
    if (prefix < 96) throw new InvalidIpValue('an IPv4-mapped network must be at least /96');
    return { address, prefix: prefix - 96 };
  }
  return { address, prefix };
}

/**
 * The canonical text of an IP value: a network with its prefix length, a bare address as
 * a /32 or /128 ("198.51.100.7" → "198.51.100.7/32"). A value with bits set beyond its
 * prefix ("198.51.100.7/24") is refused, not rounded down to its network: an operator
 * who wrote one host and a mask may have meant either, and widening a list entry to the
 * whole network (on the allow list, too) is not a guess to make for them.
 */
export async function canonicalIpValue(db: DbTx, text: string): Promise<string> {
  const { address, prefix } = addressAndPrefix(text);
  const cidr = `${address}/${prefix}`;
  const [row] = await db.$queryRaw<{ network: string; exact: boolean }[]>`
    SELECT network(${cidr}::inet)::text AS network, ${cidr}::inet = network(${cidr}::inet) AS exact`;
  if (!row) throw new Error('the canonical network query returned no row');
  if (!row.exact) {
    throw new InvalidIpValue(`${text} has bits set beyond its /${prefix} prefix: the network is ${row.network}`);
  }
  return row.network;
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
  const value = input.kind === 'ip' ? await canonicalIpValue(db, input.value) : input.value;
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

/** Where a page of entries starts: after this entry, in (createdAt, id) order. */
export interface ListCursor {
  createdAt: Date;
  id: string;
}

/** A page of entries, oldest first, optionally of one list and/or kind; `next` is set when more may follow. */
export async function listEntriesPage(
  db: DbTx,
  query: {
    list?: RiskList | undefined;
    kind?: RiskListKind | undefined;
    after?: ListCursor | undefined;
    limit: number;
  },
): Promise<{ entries: RiskListEntry[]; next: ListCursor | null }> {
  const { after } = query;
  const rows = await db.riskListEntry.findMany({
    where: {
      ...(query.list ? { list: query.list } : {}),
      ...(query.kind ? { kind: query.kind } : {}),
      ...(after
        ? { OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] }
        : {}),
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: query.limit + 1,
  });
  const entries = rows.slice(0, query.limit);
  const last = entries.at(-1);
  return { entries, next: rows.length > query.limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}
