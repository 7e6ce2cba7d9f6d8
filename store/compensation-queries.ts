// What support reads of compensations: every incident, oldest first (a work queue: open and
// awaiting-confirmation incidents are handled in the order they came), a page at a time; and
// the one view of a compensation that the list and the order's unit history share.
import type { Compensation, CompensationStatus } from '@prisma/client';
import type { DbTx } from '../infra/db';
import { byCreatedAt, keysetPage, type TimeKey } from './keyset';

export function compensationPage(db: DbTx, query: { status?: CompensationStatus; cursor?: TimeKey; limit: number }) {
  return keysetPage(
    query.limit,
    (take) =>
      db.compensation.findMany({
        where: { ...(query.status ? { status: query.status } : {}), ...byCreatedAt.after(query.cursor) },
        orderBy: byCreatedAt.orderBy,
        take,
        include: { order: { select: { clientId: true, externalOrderId: true } } },
      }),
    byCreatedAt.keyOf,
  );
}

export type CompensationRow = Awaited<ReturnType<typeof compensationPage>>['rows'][number];

export type CompensationFields = Pick<
  Compensation,
  | 'id'
  | 'action'
  | 'trigger'
  | 'reason'
  | 'note'
  | 'status'
  | 'outcome'
  | 'detail'
  | 'newUnitId'
  | 'override'
  | 'requestedBy'
  | 'createdAt'
  | 'completedAt'
>;

/** The select that `compensationView` needs, for includes such as the order detail's. */
export const compensationFields = {
  id: true,
  action: true,
  trigger: true,
  reason: true,
  note: true,
  status: true,
  outcome: true,
  detail: true,
  newUnitId: true,
  override: true,
  requestedBy: true,
  createdAt: true,
  completedAt: true,
} satisfies Record<keyof CompensationFields, true>;
