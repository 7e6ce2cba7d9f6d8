// The platform's reference supplier protocol (docs/supplier-protocol.md): signed JSON over
// HTTP, idempotent on the unit's id as reference.
import { z } from 'zod';
import { referenceSales } from './reference-sales';
import type { ReferenceCredentials } from '../../../domain/suppliers';
import { signRequest } from '../../../infra/request-signature';
import { type SupplierHttp, supplierRequest, urlOf } from './http';
import { parseSupplierOrder, type SaleState, saleStateOf, SupplierCost } from '../../../domain/supplier-sales';
import { type SupplierAdapter, SupplierUnavailable } from './types';

// Stock is stored on the route, a PostgreSQL integer: beyond it a quote proves nothing.
const MAX_STOCK = 2 ** 31 - 1;
const QuoteAnswer = z.object({
  available: z.boolean(),
  stock: z.number().int().nonnegative().max(MAX_STOCK).optional(),
  costMinor: SupplierCost,
});
const Refusal = z.object({ code: z.string(), costMinor: SupplierCost.optional() });

export function referenceAdapter(
  baseUrl: string,
  credentials: ReferenceCredentials,
  http: SupplierHttp,
): SupplierAdapter {
  async function call(method: 'GET' | 'POST', path: string, payload: unknown, mutates: boolean) {
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const url = urlOf(baseUrl, path);
    const target = new URL(url);
    const signature = signRequest(
      credentials.secret,
      { method, path: `${target.pathname}${target.search}`, body },
      Math.floor(Date.now() / 1000),
    );
    const headers: Record<string, string> = {
      'x-rights-account': credentials.accountId,
      'x-rights-signature': signature,
      'user-agent': 'rights-platform-suppliers/1',
      ...(body ? { 'content-type': 'application/json' } : {}),
    };
    return supplierRequest(http, url, { method, body, headers, mutates });
  }

  /**
   * An order answer about `reference`; anything unexpected — another body, another
   * reference's order — proves nothing about this one and is treated like a lost answer.
   */
  function orderOrUnavailable(
    status: number,
    json: unknown,
    what: string,
    mutates: boolean,
    reference: string,
  ): SaleState {
    const order = parseSupplierOrder(json);
    if (!order) throw new SupplierUnavailable(`${what}: answered ${status} with an unexpected body`, mutates);
    if (order.reference !== reference) {
      throw new SupplierUnavailable(`${what}: answered ${status} with the order of another reference`, mutates);
    }
    return saleStateOf(order);
  }

  /**
   * Only the supplier's own "never accepted" (404 `{"code": "not_found"}`) lets the unit be
   * bought elsewhere: a 404 from a wrong path or a proxy says nothing about the sale.
   */
  const neverAccepted = (status: number, json: unknown) =>
    status === 404 && Refusal.safeParse(json).data?.code === 'not_found';

  return {
    async quote(productCode) {
      const { status, json } = await call('POST', '/quote', { productCode }, false);
      const quote = QuoteAnswer.safeParse(json);
      if (status !== 200 || !quote.success) throw new SupplierUnavailable(`quote: answered ${status}`, false);
      return quote.data;
    },

    async place(request) {
      const { status, json } = await call(
        'POST',
        '/orders',
        {
          reference: request.reference,
          productCode: request.productCode,
          maxCostMinor: request.maxCostMinor,
          currency: request.currency,
          ...(request.account ? { account: request.account } : {}),
          ...(request.callbackUrl ? { callbackUrl: request.callbackUrl } : {}),
        },
        true,
      );
      if (status === 200 || status === 202) return orderOrUnavailable(status, json, 'order', true, request.reference);
      const refusal = Refusal.safeParse(json);
      const code = refusal.success ? refusal.data.code : `http_${status}`;
      if (code === 'out_of_stock') return { kind: 'out_of_stock' };
      if (code === 'price_changed') return { kind: 'price_above_limit', costMinor: refusal.data?.costMinor ?? -1 };
      if (status === 409 || status === 422 || status === 400) return { kind: 'refused', detail: code };
      // 401, 403, 404, 429…: the request was not taken, but it may work later.
      throw new SupplierUnavailable(`order: answered ${status} (${code})`, false);
    },

    async lookup(reference) {
      const { status, json } = await call('GET', `/orders/${encodeURIComponent(reference)}`, undefined, false);
      if (neverAccepted(status, json)) return { kind: 'not_found' };
      if (status === 200) return orderOrUnavailable(status, json, 'lookup', false, reference);
      throw new SupplierUnavailable(`lookup: answered ${status}`, false);
    },

    async cancel(reference) {
      const { status, json } = await call('POST', `/orders/${encodeURIComponent(reference)}/cancel`, {}, true);
      if (neverAccepted(status, json)) return { kind: 'not_found' };
      if (status === 200 || status === 409) return orderOrUnavailable(status, json, 'cancel', true, reference);
      throw new SupplierUnavailable(`cancel: answered ${status}`, true);
    },

    async dispute(reference, reason) {
      const { status, json } = await call('POST', `/orders/${encodeURIComponent(reference)}/dispute`, { reason }, true);
      if (status === 200) return true;
      // The supplier's answer that the sale cannot be disputed (it is not a sale it made, or not one it bills).
      if (status === 409 || neverAccepted(status, json)) return false;
      throw new SupplierUnavailable(`dispute: answered ${status}`, true);
    },

    ...referenceSales(call),
  };
}
