// A compensation as the API shows it, in the list and in an order's unit history.
import type { CompensationFields } from '../../store/compensation-queries';

/**
 * One compensation as the API shows it, in the list and in the order's history. Who asked
 * (`requestedBy`, a client's name) and support's note are staff information: the order
 * system sees the trigger (support, supplier, buyer) instead.
 */
export function compensationView(c: CompensationFields, staff: boolean) {
  return {
    id: c.id,
    action: c.action,
    trigger: c.trigger,
    ...(staff ? { requestedBy: c.requestedBy } : {}),
    reason: c.reason,
    ...(staff && c.note ? { note: c.note } : {}),
    status: c.status,
    ...(c.outcome ? { outcome: c.outcome } : {}),
    ...(c.detail ? { detail: c.detail } : {}),
    ...(c.newUnitId ? { newUnitId: c.newUnitId } : {}),
    ...(c.override ? { override: true } : {}),
    createdAt: c.createdAt.toISOString(),
    ...(c.completedAt ? { completedAt: c.completedAt.toISOString() } : {}),
  };
}
