// The reference protocol's record of sales (docs/supplier-protocol.md, "Reconciliation"):
// `GET /sales` lists what the supplier sold, a page at a time, and a lookup's `redeemedAt`
// tells whether a key it sold was redeemed. Supplier reconciliation reads both.
import { z } from 'zod';
import { CurrencySchema } from '../../../domain/money';
import { FreeText } from '../../../domain/text';
import type { JsonResponse } from './http';
import { type ListedSale, type SalesPage, type SalesQuery, SupplierUnavailable } from './types';

type Call = (method: 'GET', path: string, payload: undefined, mutates: false) => Promise<JsonResponse>;

/** A page of the listing may hold at most this many sales (the protocol's maximum `limit`). */
const PAGE_SIZE = 500;

// Everything stored from a listing is bounded here: text without NUL or invisible characters,
// a cost PostgreSQL's integer holds. Keys are not read (and should not be sent).
const ListedOrder = z.object({
  reference: FreeText(200),
  status: FreeText(40),
  transactionId: FreeText(200),
  costMinor: z
    .number()
    .int()
    .nonnegative()
    .max(2 ** 31 - 1)
    .optional(),
  currency: CurrencySchema.optional(),
  soldAt: z.iso.datetime({ offset: true }),
});
const SalesAnswer = z.object({ sales: z.array(z.unknown()), nextCursor: FreeText(500).nullable() });
const LookupAnswer = z.object({ redeemedAt: z.iso.datetime({ offset: true }).optional() });

export function referenceSales(call: Call) {
  return {
    async listSales({ from, to, cursor }: SalesQuery): Promise<SalesPage> {
      const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), limit: String(PAGE_SIZE) });
      if (cursor) query.set('cursor', cursor);
      const { status, json } = await call('GET', `/sales?${query}`, undefined, false);
      const answer = SalesAnswer.safeParse(json);
      if (status !== 200 || !answer.success) throw new SupplierUnavailable(`sales: answered ${status}`, false);
      // One unreadable entry must not hide the others: it is reported, not skipped silently.
      const sales: ListedSale[] = [];
      const unreadable: string[] = [];
      answer.data.sales.forEach((entry, i) => {
        const order = ListedOrder.safeParse(entry);
        if (!order.success) {
          const issue = order.error.issues[0];
          unreadable.push(`entry ${i}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`);
          return;
        }
        const { reference, status: word, transactionId, costMinor, currency, soldAt } = order.data;
        sales.push({
          reference,
          transactionId,
          state: word === 'succeeded' ? 'succeeded' : word === 'pending' ? 'pending' : 'void',
          status: word,
          ...(costMinor === undefined ? {} : { costMinor }),
          ...(currency === undefined ? {} : { currency }),
          soldAt: new Date(soldAt),
        });
      });
      return { sales, unreadable, nextCursor: answer.data.nextCursor };
    },

    async redemptionOf(reference: string): Promise<Date | null> {
      const { status, json } = await call('GET', `/orders/${encodeURIComponent(reference)}`, undefined, false);
      if (status === 404) return null;
      const answer = LookupAnswer.safeParse(json);
      if (status !== 200 || !answer.success) throw new SupplierUnavailable(`lookup: answered ${status}`, false);
      return answer.data.redeemedAt ? new Date(answer.data.redeemedAt) : null;
    },
  };
}
