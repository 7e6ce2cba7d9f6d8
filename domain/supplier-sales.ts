// What a supplier says about one sale, and the reference protocol's wire shape of it (an
// order answer or a callback body; docs/supplier-protocol.md). Shared by the adapters and
// the API's callback endpoint.
import { z } from 'zod';
import { MAX_COST_MINOR } from './suppliers';
import { FreeText } from './text';

/** What a supplier says about one reference, after an order or a lookup. */
export type SaleState =
  | { kind: 'succeeded'; transactionId: string; costMinor: number; key?: string }
  | { kind: 'pending'; transactionId?: string }
  | { kind: 'out_of_stock' }
  | { kind: 'price_above_limit'; costMinor: number }
  /** A definitive no (unknown product, bad account, failed or cancelled sale): nothing was sold. */
  | { kind: 'refused'; detail: string }
  /** Lookup only: the supplier never accepted this reference, so buying elsewhere is safe. */
  | { kind: 'not_found' };

/** A cost a supplier states (quote, refusal, sale): whole minor units the platform can store. */
export const SupplierCost = z.number().int().nonnegative().max(MAX_COST_MINOR);

/**
 * What the platform stores from an order body is bounded here, at the wire: a cost within
 * MAX_COST_MINOR, a transaction id and a failure reason that are text (no NUL, control or
 * bidi characters). A body outside this is not an order: a callback is refused (422), an
 * answer proves nothing (like a lost one). The key is checked later, as any key is: an
 * unusable one is a sale refused (`invalid_key`) and disputed.
 */
const SupplierOrder = z.object({
  reference: z.string(),
  status: z.enum(['pending', 'succeeded', 'failed', 'cancelled', 'disputed']),
  transactionId: FreeText(200).optional(),
  costMinor: SupplierCost.optional(),
  key: z.object({ code: z.string(), pin: z.string().optional() }).optional(),
  failureReason: z.union([z.literal(''), FreeText(500)]).optional(),
});
export type SupplierOrder = z.infer<typeof SupplierOrder>;

/**
 * A key with a PIN is kept (and revealed) as one string: "<code> PIN <pin>". A blank code
 * stays blank, PIN or not, so that it is refused as the unusable key it is.
 */
export function keyText(key: { code: string; pin?: string | undefined }): string {
  if (key.code.trim() === '') return '';
  return key.pin ? `${key.code} PIN ${key.pin}` : key.code;
}

/** The sale an order body describes (also what a callback carries). */
export function saleStateOf(order: SupplierOrder): SaleState {
  switch (order.status) {
    case 'succeeded':
      return {
        kind: 'succeeded',
        transactionId: order.transactionId ?? order.reference,
        costMinor: order.costMinor ?? 0,
        ...(order.key ? { key: keyText(order.key) } : {}),
      };
    case 'pending':
      return { kind: 'pending', ...(order.transactionId ? { transactionId: order.transactionId } : {}) };
    default:
      return { kind: 'refused', detail: `${order.status}${order.failureReason ? `: ${order.failureReason}` : ''}` };
  }
}

export function parseSupplierOrder(json: unknown): SupplierOrder | undefined {
  const parsed = SupplierOrder.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
