// Keyset pagination, the store's half: lists read oldest first by (created at, id), or by a
// serial id (ledger postings), and resume strictly after the last row of the previous page.
// A page reads one row more than it returns, so `next` is set only when another page exists.
// The cursor text and its validation are the API's (api/pagination.ts).

/** Where a page by (created at, id) resumes: after this row. */
export interface TimeKey {
  at: Date;
  id: string;
}

/** The `where` and `orderBy` of a list read by (created at, id); spread `after(key)` into the query's `where`. */
export const byCreatedAt = {
  orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] as ({ createdAt: 'asc' } | { id: 'asc' })[],
  after: (key: TimeKey | undefined) =>
    key ? { OR: [{ createdAt: { gt: key.at } }, { createdAt: key.at, id: { gt: key.id } }] } : {},
  keyOf: (row: { createdAt: Date; id: string }): TimeKey => ({ at: row.createdAt, id: row.id }),
};

/** The same for a list read by a serial (bigint) id. */
export const bySerialId = {
  orderBy: { id: 'asc' } as const,
  after: (key: bigint | undefined) => (key === undefined ? {} : { id: { gt: key } }),
  keyOf: (row: { id: bigint }): bigint => row.id,
};

export interface Page<Row, Key> {
  rows: Row[];
  /** Where the next page starts; absent on the last page. */
  next?: Key;
}

/** Reads `limit + 1` rows with `read(take)` and returns `limit` of them, with the next page's key when there is one. */
export async function keysetPage<Row, Key>(
  limit: number,
  read: (take: number) => Promise<Row[]>,
  keyOf: (row: Row) => Key,
): Promise<Page<Row, Key>> {
  const rows = await read(limit + 1);
  if (rows.length <= limit) return { rows };
  const page = rows.slice(0, limit);
  return { rows: page, next: keyOf(page.at(-1)!) };
}
