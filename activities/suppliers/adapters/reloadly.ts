// Reloadly (public gift-card and airtime top-up API), from its public reference: an OAuth
// client-credentials token per API audience, cached until shortly before it expires; orders
// carry the unit's id as `customIdentifier`, which Reloadly refuses to reuse, and by which a
// transaction is looked up. Prices are decimals in the sender currency: converted to minor
// units here and nowhere else. Product codes: `<productId>@<face value>` for gift cards,
// `<operatorId>@<amount>@<ISO country>` for top-ups (the account is the phone number).
import { z } from 'zod';
import { minorUnitExponent } from '../../../domain/money';
import { keyText } from '../../../domain/supplier-sales';
import { parseProductCode, type ReloadlyCredentials } from '../../../domain/suppliers';
import { type SupplierHttp, supplierRequest, urlOf } from './http';
import { reloadlySales } from './reloadly-sales';
import { type PlaceRequest, type SaleState, type SupplierAdapter, SupplierUnavailable } from './types';

const GIFTCARDS_AUDIENCE = 'https://giftcards.reloadly.com';
const TOPUPS_AUDIENCE = 'https://topups.reloadly.com';

const TokenAnswer = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() });
const ErrorAnswer = z.object({ errorCode: z.string().optional(), message: z.string().optional() });
const GiftCardProduct = z.object({
  status: z.string().optional(),
  stock: z.number().int().nonnegative().optional(),
  fixedRecipientDenominations: z.array(z.number()),
  fixedSenderDenominations: z.array(z.number()),
  senderFee: z.number().optional(),
});
const Operator = z.object({ status: z.string().optional(), fixedAmounts: z.array(z.number()) });
const Transaction = z.object({
  transactionId: z.number().or(z.string()),
  status: z.string(),
  amount: z.number().optional(),
  requestedAmount: z.number().optional(),
});
const Report = z.object({ content: z.array(Transaction) });
const Cards = z.array(z.object({ cardNumber: z.string(), pinCode: z.string().optional() }));

type Audience = typeof GIFTCARDS_AUDIENCE | typeof TOPUPS_AUDIENCE;

/** Tokens outlive requests and activities: one per (auth URL, client, audience) per process. */
const tokens = new Map<string, { token: string; expiresAt: number }>();

export function reloadlyAdapter(
  giftcardsBaseUrl: string,
  credentials: ReloadlyCredentials,
  http: SupplierHttp,
  currency: string,
): SupplierAdapter {
  const toMinor = (decimal: number) => Math.round(decimal * 10 ** minorUnitExponent(currency));
  const baseOf = (audience: Audience) =>
    audience === GIFTCARDS_AUDIENCE ? giftcardsBaseUrl : credentials.topupsBaseUrl;
  const audienceOf = (kind: PlaceRequest['kind']): Audience =>
    kind === 'card_key' ? GIFTCARDS_AUDIENCE : TOPUPS_AUDIENCE;

  async function token(audience: Audience, fresh: boolean): Promise<string> {
    const cacheKey = `${credentials.authUrl}|${credentials.clientId}|${audience}`;
    const cached = tokens.get(cacheKey);
    if (cached && !fresh && cached.expiresAt > Date.now()) return cached.token;
    const { status, json } = await supplierRequest(http, credentials.authUrl, {
      method: 'POST',
      body: JSON.stringify({
        client_id: credentials.clientId,
        client_secret: credentials.clientSecret,
        grant_type: 'client_credentials',
        audience,
      }),
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      mutates: false,
    });
    const answer = TokenAnswer.safeParse(json);
    if (status !== 200 || !answer.success) throw new SupplierUnavailable(`token: answered ${status}`, false);
    // Renew a minute early (or at half the lifetime of a short-lived token).
    const margin = Math.min(60, answer.data.expires_in / 2) * 1000;
    tokens.set(cacheKey, {
      token: answer.data.access_token,
      expiresAt: Date.now() + answer.data.expires_in * 1000 - margin,
    });
    return answer.data.access_token;
  }

  /** One authorised call; a 401 (token revoked or expired early) gets one retry with a new token. */
  async function call(audience: Audience, method: 'GET' | 'POST', path: string, payload: unknown, mutates: boolean) {
    for (let attempt = 0; ; attempt++) {
      const response = await supplierRequest(http, urlOf(baseOf(audience), path), {
        method,
        ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
        headers: {
          authorization: `Bearer ${await token(audience, attempt > 0)}`,
          // Reloadly versions its API by media type, one per service.
          accept:
            audience === GIFTCARDS_AUDIENCE
              ? 'application/com.reloadly.giftcards-v1+json'
              : 'application/com.reloadly.topups-v1+json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        mutates,
      });
      if (response.status !== 401 || attempt > 0) return response;
    }
  }

  const errorCodeOf = (json: unknown) => ErrorAnswer.safeParse(json).data?.errorCode ?? 'UNKNOWN';

  async function giftCardKey(transactionId: string): Promise<string> {
    const { status, json } = await call(
      GIFTCARDS_AUDIENCE,
      'GET',
      `/orders/transactions/${transactionId}/cards`,
      undefined,
      false,
    );
    const cards = Cards.safeParse(json);
    if (status !== 200 || !cards.success || cards.data.length === 0) {
      throw new SupplierUnavailable(`cards of ${transactionId}: answered ${status}`, false);
    }
    const [card] = cards.data;
    return keyText({ code: card!.cardNumber, pin: card!.pinCode });
  }

  async function saleOf(transaction: z.infer<typeof Transaction>, kind: PlaceRequest['kind']): Promise<SaleState> {
    const transactionId = String(transaction.transactionId);
    const status = transaction.status.toUpperCase();
    if (status === 'SUCCESSFUL') {
      const costMinor = toMinor(transaction.amount ?? transaction.requestedAmount ?? 0);
      if (kind === 'direct_topup') return { kind: 'succeeded', transactionId, costMinor };
      return { kind: 'succeeded', transactionId, costMinor, key: await giftCardKey(transactionId) };
    }
    if (status === 'PENDING' || status === 'PROCESSING') return { kind: 'pending', transactionId };
    return { kind: 'refused', detail: `transaction ${transactionId} ${status}` };
  }

  return {
    async quote(productCode, kind) {
      const code = parseProductCode(productCode);
      if (kind === 'card_key') {
        const { status, json } = await call(GIFTCARDS_AUDIENCE, 'GET', `/products/${code.id}`, undefined, false);
        const product = GiftCardProduct.safeParse(json);
        if (status !== 200 || !product.success)
          throw new SupplierUnavailable(`product ${code.id}: answered ${status}`, false);
        const at = product.data.fixedRecipientDenominations.indexOf(Number(code.faceValue));
        const sender = product.data.fixedSenderDenominations[at];
        if (at < 0 || sender === undefined) return { available: false, costMinor: 0 };
        return {
          available: product.data.status !== 'INACTIVE' && product.data.stock !== 0,
          ...(product.data.stock === undefined ? {} : { stock: product.data.stock }),
          costMinor: toMinor(sender + (product.data.senderFee ?? 0)),
        };
      }
      const { status, json } = await call(TOPUPS_AUDIENCE, 'GET', `/operators/${code.id}`, undefined, false);
      const operator = Operator.safeParse(json);
      if (status !== 200 || !operator.success)
        throw new SupplierUnavailable(`operator ${code.id}: answered ${status}`, false);
      const amount = Number(code.faceValue);
      return {
        available: operator.data.status !== 'INACTIVE' && operator.data.fixedAmounts.includes(amount),
        costMinor: toMinor(amount),
      };
    },

    async place(request) {
      const code = parseProductCode(request.productCode);
      const audience = audienceOf(request.kind);
      const { status, json } =
        request.kind === 'card_key'
          ? await call(
              audience,
              'POST',
              '/orders',
              {
                productId: Number(code.id),
                quantity: 1,
                unitPrice: Number(code.faceValue),
                customIdentifier: request.reference,
                senderName: 'Rights Platform',
              },
              true,
            )
          : await call(
              audience,
              'POST',
              '/topups',
              {
                operatorId: Number(code.id),
                amount: Number(code.faceValue),
                useLocalAmount: false,
                customIdentifier: request.reference,
                recipientPhone: { countryCode: code.country ?? '', number: request.account ?? '' },
              },
              true,
            );
      if (status === 200 || status === 201) {
        const transaction = Transaction.safeParse(json);
        if (!transaction.success)
          throw new SupplierUnavailable(`order: answered ${status} with an unexpected body`, true);
        // Reloadly takes no price ceiling on orders: the live quote before the order is the check.
        return saleOf(transaction.data, request.kind);
      }
      const errorCode = errorCodeOf(json);
      // The identifier was used: an earlier attempt got through. What it bought is the answer.
      if (errorCode.includes('CUSTOM_IDENTIFIER'))
        return this.lookup(request.reference, request.productCode, request.kind);
      if (errorCode.includes('OUT_OF_STOCK')) return { kind: 'out_of_stock' };
      if (errorCode.includes('PRICE')) return { kind: 'price_above_limit', costMinor: -1 };
      if (status >= 400 && status < 500 && status !== 401 && status !== 429)
        return { kind: 'refused', detail: errorCode };
      throw new SupplierUnavailable(`order: answered ${status} (${errorCode})`, false);
    },

    async lookup(reference, _productCode, kind) {
      const audience = audienceOf(kind);
      const path = `${kind === 'card_key' ? '' : '/topups'}/reports/transactions?customIdentifier=${encodeURIComponent(reference)}`;
      const { status, json } = await call(audience, 'GET', path, undefined, false);
      const report = Report.safeParse(json);
      if (status !== 200 || !report.success) throw new SupplierUnavailable(`lookup: answered ${status}`, false);
      const [transaction] = report.data.content;
      return transaction ? saleOf(transaction, kind) : { kind: 'not_found' };
    },

    ...reloadlySales(
      (kind, query) => call(audienceOf(kind), 'GET', `${reportPathOf(kind)}?${query}`, undefined, false),
      currency,
    ),
  };
}

/** Each service's transaction report, on its own host. */
const reportPathOf = (kind: PlaceRequest['kind']) =>
  kind === 'card_key' ? '/reports/transactions' : '/topups/reports/transactions';
