// One interface for every upstream source of a unit. Adapters speak one protocol each and
// know nothing of orders or the database: the sourcing activities decide what to do with
// what they answer.
import type { SaleState } from '../../../domain/supplier-sales';

export type { SaleState };

export interface Quote {
  available: boolean;
  /** Units the supplier says it has; undefined when it does not say. */
  stock?: number;
  costMinor: number;
}

export interface PlaceRequest {
  /** The unit's id: the supplier-side idempotency reference, the same on every retry. */
  reference: string;
  productCode: string;
  kind: 'card_key' | 'direct_topup';
  /** Refuse rather than pay more (the product's price: never sell below cost). */
  maxCostMinor: number;
  currency: string;
  /** Direct top-ups: the buyer's account the supplier credits. */
  account?: string;
  /** Where an asynchronous supplier reports completion. */
  callbackUrl?: string;
}

export interface SupplierAdapter {
  quote(productCode: string, kind: PlaceRequest['kind']): Promise<Quote>;
  place(request: PlaceRequest): Promise<SaleState>;
  lookup(reference: string, productCode: string, kind: PlaceRequest['kind']): Promise<SaleState>;
  /** Gives up on a pending order; answers with the sale's final state (it may have succeeded). */
  cancel?(reference: string): Promise<SaleState>;
  /**
   * Reports a sale the platform cannot use (a bad key, a cost above the limit, a unit that
   * moved on), so the supplier refunds it. False when the supplier refuses the dispute.
   */
  dispute?(reference: string, reason: string): Promise<boolean>;
  /** The supplier's own record of its sales in a window, a page at a time (supplier reconciliation). */
  listSales?(query: SalesQuery): Promise<SalesPage>;
  /** When the key sold under `reference` was redeemed at the rights owner, as the supplier's lookup says; null: not (yet). */
  redemptionOf?(reference: string): Promise<Date | null>;
}

export interface SalesQuery {
  from: Date;
  to: Date;
  /** Where the previous page ended (the adapter's own token); null for the first page. */
  cursor: string | null;
  /** The kinds of product the supplier sells the platform (Reloadly keeps a report per service). */
  kinds: readonly PlaceRequest['kind'][];
}

/** One sale as the supplier records it. Keys are never part of it. */
export interface ListedSale {
  reference: string;
  transactionId: string;
  /** `succeeded`: the supplier bills it; `pending`: it may still; `void`: failed, cancelled or refunded. */
  state: 'succeeded' | 'pending' | 'void';
  /** The supplier's own word for the state, kept with a finding. */
  status: string;
  costMinor?: number;
  currency?: string;
  soldAt?: Date;
}

export interface SalesPage {
  sales: ListedSale[];
  /** Entries of the page that are not a sale the platform can read, each with why. */
  unreadable: string[];
  nextCursor: string | null;
}

/**
 * The supplier could not be reached or answered with a server error: no proof either way.
 * `ambiguous` when an order may have been placed (timeout, reset, 5xx after the request
 * went out); the caller looks the reference up before buying the unit again.
 */
export class SupplierUnavailable extends Error {
  constructor(
    message: string,
    readonly ambiguous: boolean,
  ) {
    super(message);
    this.name = 'SupplierUnavailable';
  }
}
