// Reloadly's record of sales: the transaction report of each service (gift cards on the
// gift-card host, `/reports/transactions`; top-ups on the top-up host,
// `/topups/reports/transactions`), filtered by date and read a page at a time. As reported
// from Reloadly's sandbox, the report reads `startDate`/`endDate` in UTC−4: the window asked
// for is a day wider on each side than the one wanted, which is harmless (reconciliation is
// idempotent) and covers either reading.
import { z } from 'zod';
import { CurrencySchema, minorUnitExponent } from '../../../domain/money';
import { FreeText } from '../../../domain/text';
import type { JsonResponse } from './http';
import { type ListedSale, type PlaceRequest, type SalesPage, type SalesQuery, SupplierUnavailable } from './types';

type Kind = PlaceRequest['kind'];
/** One page of a service's report, `query` being the report's query string. */
type Report = (kind: Kind, query: URLSearchParams) => Promise<JsonResponse>;

const PAGE_SIZE = 200;
const DAY_MS = 86_400_000;
const MAX_MINOR = 2 ** 31 - 1;

const Transaction = z.object({
  transactionId: z.union([z.number().int().nonnegative(), FreeText(200)]),
  status: FreeText(40),
  customIdentifier: FreeText(200).nullable().optional(),
  // Gift cards: what the sender paid; top-ups: the amount requested, in the sender's currency.
  amount: z.number().nonnegative().optional(),
  requestedAmount: z.number().nonnegative().optional(),
  currencyCode: CurrencySchema.optional(),
  requestedAmountCurrencyCode: CurrencySchema.optional(),
  transactionCreatedTime: z.string().optional(),
  transactionDate: z.string().optional(),
});
const Page = z.object({ content: z.array(z.unknown()), totalPages: z.number().int().nonnegative().optional() });

/** Reloadly's report date: "yyyy-MM-dd HH:mm:ss". */
const reportDate = (at: Date) => at.toISOString().replace('T', ' ').slice(0, 19);

/** A report time, read as UTC (informational only: findings are dated by when the platform found them). */
function reportTime(text: string | undefined): Date | undefined {
  if (!text || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)) return undefined;
  const at = new Date(`${text.replace(' ', 'T')}Z`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** Cursor: the index of the service in `kinds` and the next page of its report, e.g. "0:3". */
function cursorOf(cursor: string | null): { service: number; page: number } {
  const match = cursor ? /^(\d{1,2}):(\d{1,7})$/.exec(cursor) : null;
  return match ? { service: Number(match[1]), page: Number(match[2]) } : { service: 0, page: 1 };
}

export function reloadlySales(report: Report, fallbackCurrency: string) {
  function saleOf(entry: unknown, unreadable: string[], i: number): ListedSale | null {
    const parsed = Transaction.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      unreadable.push(`entry ${i}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`);
      return null;
    }
    const t = parsed.data;
    const currency = t.currencyCode ?? t.requestedAmountCurrencyCode ?? fallbackCurrency;
    const decimal = t.amount ?? t.requestedAmount;
    const costMinor = decimal === undefined ? undefined : Math.round(decimal * 10 ** minorUnitExponent(currency));
    if (costMinor !== undefined && costMinor > MAX_MINOR) {
      unreadable.push(`entry ${i}: amount ${decimal} is beyond what the platform stores`);
      return null;
    }
    const word = t.status.toUpperCase();
    const soldAt = reportTime(t.transactionCreatedTime ?? t.transactionDate);
    return {
      // Sales made outside the API (Reloadly's dashboard) carry no identifier.
      reference: t.customIdentifier ?? '',
      transactionId: String(t.transactionId),
      state: word === 'SUCCESSFUL' ? 'succeeded' : word === 'PENDING' || word === 'PROCESSING' ? 'pending' : 'void',
      status: word,
      ...(costMinor === undefined ? {} : { costMinor }),
      currency,
      ...(soldAt ? { soldAt } : {}),
    };
  }

  return {
    async listSales({ from, to, cursor, kinds }: SalesQuery): Promise<SalesPage> {
      const services = [...new Set(kinds)].sort();
      const { service, page } = cursorOf(cursor);
      const kind = services[service];
      if (!kind) return { sales: [], unreadable: [], nextCursor: null };
      const query = new URLSearchParams({
        startDate: reportDate(new Date(from.getTime() - DAY_MS)),
        endDate: reportDate(new Date(to.getTime() + DAY_MS)),
        page: String(page),
        size: String(PAGE_SIZE),
      });
      const { status, json } = await report(kind, query);
      const answer = Page.safeParse(json);
      if (status !== 200 || !answer.success) {
        throw new SupplierUnavailable(`${kind} transaction report: answered ${status}`, false);
      }
      const unreadable: string[] = [];
      const sales = answer.data.content.flatMap((entry, i) => saleOf(entry, unreadable, i) ?? []);
      const more = answer.data.content.length > 0 && page < (answer.data.totalPages ?? page + 1);
      const next = more ? `${service}:${page + 1}` : service + 1 < services.length ? `${service + 1}:1` : null;
      return { sales, unreadable, nextCursor: next };
    },
  };
}
