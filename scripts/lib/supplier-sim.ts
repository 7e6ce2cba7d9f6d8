// A farm of fake suppliers in one HTTP server, for integration tests, chaos runs and local
// demos. Each supplier lives under its own path prefix and speaks either the reference
// protocol (docs/supplier-protocol.md, `/ref/:supplier/...`) or a Reloadly-shaped API
// (`/reloadly/:supplier/...`). Tests script failures through a per-supplier fault plan and
// then compare what the supplier *sold* (`GET /admin/suppliers/:name/sales`) with what the
// platform delivered — so the simulator must never sell twice and must record every sale,
// including the ones whose response it deliberately loses.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { mulberry32 } from './prng';
import { signRequest, verifyRequest } from '../../infra/request-signature';

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

export const FAULT_KINDS = [
  'latency',
  'error_500',
  'reset',
  'timeout',
  'out_of_stock',
  'price_rise',
  'lost_response',
  'invalid_key',
  'async_callback',
  'async_duplicate',
  'async_silent',
  'async_never',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export type FaultEndpoint = 'quote' | 'order' | 'lookup' | 'sales' | 'any';

export interface FaultRule {
  kind: FaultKind;
  /** Which requests the rule applies to; default 'order'. */
  on?: FaultEndpoint;
  /** How many requests it applies to; default unlimited. */
  times?: number;
  latencyMs?: number;
  callbackDelayMs?: number;
}

export interface FaultMix {
  seed: number;
  /** Probability per order request; the remainder (1 − sum) means no fault. */
  rates: Partial<Record<FaultKind, number>>;
  latencyMs?: number;
  callbackDelayMs?: number;
}

export interface FaultPlan {
  rules: FaultRule[];
  mix?: FaultMix;
}

export type ProductKind = 'card_key' | 'direct_topup';

export interface ProductConfig {
  name?: string;
  costMinor: number;
  stock: number;
  kind: ProductKind;
  /** Regex source the top-up account must match (direct top-ups only). */
  accountPattern?: string;
}

export interface SupplierConfig {
  protocol: 'reference' | 'reloadly';
  secret?: string;
  accountId?: string;
  clientId?: string;
  clientSecret?: string;
  tokenTtlSeconds?: number;
  currency: string;
  products: Record<string, ProductConfig>;
}

export type SaleStatus = 'succeeded' | 'pending' | 'cancelled' | 'disputed';

export interface SaleRecord {
  reference: string;
  transactionId: string;
  productCode: string;
  costMinor: number;
  currency: string;
  status: SaleStatus;
  account?: string;
  at: string;
}

export interface SupplierStats {
  orderRequests: number;
  lookupRequests: number;
  quoteRequests: number;
  tokenIssued: number;
  callbacksSent: number;
}

export interface SalesReport {
  sales: SaleRecord[];
  stats: SupplierStats;
}

export interface SupplierSim {
  url: string;
  close(): Promise<void>;
}

export interface SupplierSimOptions {
  port?: number;
  host?: string;
}

// ---------------------------------------------------------------------------------------
// Input schemas (everything from the network is validated; bad input is a 400, never a crash)
// ---------------------------------------------------------------------------------------

const isRegex = (source: string) => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
};

const productSchema = z.object({
  name: z.string().optional(),
  costMinor: z.number().int().nonnegative(),
  stock: z.number().int().nonnegative(),
  kind: z.enum(['card_key', 'direct_topup']),
  accountPattern: z.string().refine(isRegex, 'invalid regex').optional(),
});

const supplierSchema = z
  .object({
    protocol: z.enum(['reference', 'reloadly']),
    secret: z.string().min(1).optional(),
    accountId: z.string().optional(),
    clientId: z.string().optional(),
    clientSecret: z.string().optional(),
    tokenTtlSeconds: z.number().positive().optional(),
    currency: z.string().regex(/^[A-Z]{3}$/),
    products: z.record(z.string().min(1), productSchema),
  })
  .superRefine((s, ctx) => {
    if (s.protocol === 'reference' && !s.secret) ctx.addIssue({ code: 'custom', message: 'secret required' });
    if (s.protocol === 'reloadly') {
      if (!s.clientId || !s.clientSecret) ctx.addIssue({ code: 'custom', message: 'clientId/clientSecret required' });
      // Reloadly ids are numbers; the product code is that number as a string.
      if (Object.keys(s.products).some((code) => !/^\d+$/.test(code)))
        ctx.addIssue({ code: 'custom', message: 'reloadly product codes must be numeric' });
    }
  });

const faultRuleSchema = z.object({
  kind: z.enum(FAULT_KINDS),
  on: z.enum(['quote', 'order', 'lookup', 'sales', 'any']).optional(),
  times: z.number().int().nonnegative().optional(),
  latencyMs: z.number().int().nonnegative().optional(),
  callbackDelayMs: z.number().int().nonnegative().optional(),
});

const faultPlanSchema = z.object({
  rules: z.array(faultRuleSchema),
  mix: z
    .object({
      seed: z.number().int(),
      rates: z.partialRecord(z.enum(FAULT_KINDS), z.number().min(0).max(1)),
      latencyMs: z.number().int().nonnegative().optional(),
      callbackDelayMs: z.number().int().nonnegative().optional(),
    })
    .refine((m) => Object.values(m.rates).reduce<number>((a, b) => a + (b ?? 0), 0) <= 1 + 1e-9, 'rates sum > 1')
    .optional(),
});

const productPatchSchema = z.object({
  costMinor: z.number().int().nonnegative().optional(),
  stock: z.number().int().nonnegative().optional(),
});

const refQuoteSchema = z.object({ productCode: z.string().min(1) });
const refOrderSchema = z.object({
  reference: z.string().min(1),
  productCode: z.string().min(1),
  maxCostMinor: z.number().int().nonnegative(),
  currency: z.string(),
  account: z.string().optional(),
  callbackUrl: z.url().optional(),
});
const refDisputeSchema = z.object({ reason: z.string().optional() });
/** What a supplier may change about a sale after the fact: what it bills, when the key was redeemed. */
const salePatchSchema = z.object({
  costMinor: z.number().int().nonnegative().optional(),
  redeemedAt: z.iso.datetime({ offset: true }).optional(),
});
const refSalesQuerySchema = z.object({
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const completeSchema = z.object({
  code: z.string().optional(),
  pin: z.string().optional(),
  costMinor: z.number().int().nonnegative().optional(),
});
const rawCallbackSchema = z.object({ url: z.url(), body: z.string() });

const numericId = z.union([z.number().int().positive(), z.string().regex(/^\d+$/).transform(Number)]);
const tokenRequestSchema = z.object({
  client_id: z.string(),
  client_secret: z.string(),
  grant_type: z.literal('client_credentials'),
  audience: z.string().optional(),
});
const rlOrderSchema = z.object({
  productId: numericId,
  quantity: z.literal(1),
  unitPrice: z.number().nonnegative(),
  customIdentifier: z.string().min(1),
  senderName: z.string(),
  recipientEmail: z.string().optional(),
});
const rlTopupSchema = z.object({
  operatorId: numericId,
  amount: z.number().nonnegative(),
  useLocalAmount: z.boolean().optional(),
  customIdentifier: z.string().min(1),
  recipientPhone: z.object({ countryCode: z.string(), number: z.string().min(1) }),
});

// ---------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------

interface Product {
  code: string;
  name: string;
  costMinor: number;
  stock: number;
  kind: ProductKind;
  accountPattern?: RegExp;
}

interface Sale {
  reference: string;
  /** Numeric id: Reloadly's transactionId, and the digits of the reference protocol's. */
  id: number;
  transactionId: string;
  productCode: string;
  kind: ProductKind;
  costMinor: number;
  status: SaleStatus;
  account?: string;
  countryCode?: string;
  key?: { code: string; pin?: string };
  disputeReason?: string;
  /** When the key was redeemed at the rights owner (scripted through the admin endpoint). */
  redeemedAt?: Date;
  /** Where the platform asked to be told (reference protocol), kept for completions scripted later. */
  callbackUrl?: string;
  at: Date;
}

interface ActiveRule extends FaultRule {
  remaining: number;
}

interface Supplier {
  name: string;
  config: SupplierConfig;
  products: Map<string, Product>;
  sales: Sale[];
  byReference: Map<string, Sale>;
  byId: Map<number, Sale>;
  rules: ActiveRule[];
  mix?: FaultMix;
  rng?: () => number;
  stats: SupplierStats;
  /** Reloadly access tokens → expiry (epoch ms). */
  tokens: Map<string, number>;
  /** Async completions and callbacks; cleared when the supplier is replaced or removed. */
  timers: Set<NodeJS.Timeout>;
}

/** The fault chosen for one request, with its parameters resolved. */
interface Fault {
  kind: FaultKind;
  latencyMs: number;
  callbackDelayMs: number;
}

type Endpoint = 'quote' | 'order' | 'lookup' | 'sales' | 'other';

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  supplier: Supplier;
  url: URL;
  rawBody: string;
  fault: Fault | null;
}

const DEFAULT_LATENCY_MS = 500;
const DEFAULT_CALLBACK_DELAY_MS = 200;
const REPLAY_WINDOW_SECONDS = 300;
const MAX_BODY_BYTES = 1 << 20;
const REFERENCE_ONLY: ReadonlySet<FaultKind> = new Set([
  'invalid_key',
  'async_callback',
  'async_duplicate',
  'async_silent',
  'async_never',
]);

export function currencyExponent(currency: string): number {
  try {
    return (
      new Intl.NumberFormat(undefined, { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
    );
  } catch {
    return 2;
  }
}

const toDecimal = (minor: number, currency: string) => minor / 10 ** currencyExponent(currency);
const toMinor = (decimal: number, currency: string) => Math.round(decimal * 10 ** currencyExponent(currency));
const nowSeconds = () => Math.floor(Date.now() / 1000);
const reloadlyTime = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 19);

class ClientError extends Error {}

// ---------------------------------------------------------------------------------------
// The simulator
// ---------------------------------------------------------------------------------------

class Simulator {
  private readonly suppliers = new Map<string, Supplier>();
  private readonly issuedCodes = new Set<string>();
  /** Latency sleeps; cleared on close so nothing keeps the process alive. */
  private readonly sleeps = new Set<NodeJS.Timeout>();
  private nextId = 100_000;
  private closed = false;

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim.local');
    const segments = url.pathname.split('/').filter(Boolean).map(safeDecode);
    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch {
      return sendJson(res, 413, { code: 'bad_request', message: 'body too large or unreadable' });
    }
    const [root, name, ...rest] = segments;
    if (root === 'admin' && name === 'suppliers') return this.handleAdmin(req, res, rest, rawBody);
    if ((root === 'ref' || root === 'reloadly') && name !== undefined) {
      const supplier = this.suppliers.get(name);
      const protocol = root === 'ref' ? 'reference' : 'reloadly';
      if (!supplier || supplier.config.protocol !== protocol)
        return sendJson(res, 404, {
          code: 'unknown_supplier',
          errorCode: 'NOT_FOUND',
          message: `no ${protocol} supplier ${name}`,
        });
      const ctx: Ctx = { req, res, supplier, url, rawBody, fault: null };
      return protocol === 'reference' ? this.handleReference(ctx, rest) : this.handleReloadly(ctx, rest);
    }
    sendJson(res, 404, { code: 'not_found' });
  }

  close(): void {
    this.closed = true;
    for (const t of this.sleeps) clearTimeout(t);
    for (const s of this.suppliers.values()) clearTimers(s);
  }

  // ----- admin ---------------------------------------------------------------------------

  private handleAdmin(req: IncomingMessage, res: ServerResponse, rest: string[], rawBody: string): void {
    const [name, sub, code] = rest;
    if (name === undefined) return sendJson(res, 404, { code: 'not_found' });
    const method = req.method ?? 'GET';
    const supplier = this.suppliers.get(name);
    try {
      if (sub === 'sales' && code !== undefined && rest.length === 3 && method === 'PATCH' && supplier) {
        return patchSale(res, supplier, code, parseBody(salePatchSchema, rawBody));
      }
      if (sub === undefined && method === 'PUT') {
        const config = parseBody(supplierSchema, rawBody);
        if (supplier) clearTimers(supplier);
        this.suppliers.set(name, newSupplier(name, config));
        return sendJson(res, 200, { name, protocol: config.protocol });
      }
      if (sub === undefined && method === 'DELETE') {
        if (supplier) clearTimers(supplier);
        this.suppliers.delete(name);
        return sendStatus(res, 204);
      }
      if (!supplier) return sendJson(res, 404, { code: 'unknown_supplier' });
      if (sub === 'products' && code !== undefined && method === 'PATCH') {
        const product = supplier.products.get(code);
        if (!product) return sendJson(res, 404, { code: 'unknown_product' });
        const patch = parseBody(productPatchSchema, rawBody);
        if (patch.costMinor !== undefined) product.costMinor = patch.costMinor;
        if (patch.stock !== undefined) product.stock = patch.stock;
        return sendJson(res, 200, { code, costMinor: product.costMinor, stock: product.stock });
      }
      if (sub === 'faults' && method === 'PUT') {
        setFaultPlan(supplier, parseBody(faultPlanSchema, rawBody));
        return sendStatus(res, 204);
      }
      if (sub === 'sales' && method === 'GET') return sendJson(res, 200, salesReport(supplier));
      // Scripted completion: a pending sale succeeds with the given key and cost, and its
      // signed callback goes to the platform; answers with the platform's answer to it.
      if (sub === 'sales' && code !== undefined && rest[3] === 'complete' && method === 'POST') {
        return void this.completeScripted(res, supplier, code, parseBody(completeSchema, rawBody || '{}'));
      }
      // Any body, signed with this supplier's secret and sent as-is: what a buggy or hostile
      // supplier could send (the signature is right, the content is not).
      if (sub === 'callbacks' && method === 'POST') {
        const { url, body } = parseBody(rawCallbackSchema, rawBody);
        return void deliverCallback(supplier, url, body).then((answer) => sendJson(res, 200, answer));
      }
    } catch (err) {
      if (err instanceof ClientError) return sendJson(res, 400, { code: 'bad_request', message: err.message });
      throw err;
    }
    sendJson(res, 404, { code: 'not_found' });
  }

  // ----- reference protocol ----------------------------------------------------------------

  private async handleReference(ctx: Ctx, rest: string[]): Promise<void> {
    const { req, res, supplier } = ctx;
    if (!referenceSignatureOk(ctx)) return sendJson(res, 401, { code: 'bad_signature' });
    const method = req.method ?? 'GET';
    const [first, reference, action] = rest;
    let endpoint: Endpoint;
    let run: () => void;
    if (method === 'POST' && first === 'quote' && rest.length === 1) {
      endpoint = 'quote';
      run = () => this.refQuote(ctx);
    } else if (method === 'POST' && first === 'orders' && rest.length === 1) {
      endpoint = 'order';
      run = () => this.refOrder(ctx);
    } else if (method === 'GET' && first === 'orders' && reference !== undefined && rest.length === 2) {
      endpoint = 'lookup';
      run = () => refLookup(ctx, reference);
    } else if (method === 'GET' && first === 'sales' && rest.length === 1) {
      endpoint = 'sales';
      run = () => refSales(ctx);
    } else if (
      method === 'POST' &&
      first === 'orders' &&
      reference !== undefined &&
      action === 'cancel' &&
      rest.length === 3
    ) {
      endpoint = 'other';
      run = () => refCancel(ctx, reference);
    } else if (
      method === 'POST' &&
      first === 'orders' &&
      reference !== undefined &&
      action === 'dispute' &&
      rest.length === 3
    ) {
      endpoint = 'other';
      run = () => refDispute(ctx, reference);
    } else {
      return sendJson(res, 404, { code: 'not_found' });
    }
    countRequest(supplier, endpoint);
    ctx.fault = drawFault(supplier, endpoint);
    if (await this.applyTransportFault(ctx, 'reference')) return;
    try {
      run();
    } catch (err) {
      if (err instanceof ClientError) return sendJson(res, 400, { code: 'bad_request', message: err.message });
      throw err;
    }
  }

  private refQuote(ctx: Ctx): void {
    const { supplier, res, fault } = ctx;
    const body = parseBody(refQuoteSchema, ctx.rawBody);
    const product = supplier.products.get(body.productCode);
    if (!product) return sendJson(res, 422, { code: 'unknown_product' });
    const stock = fault?.kind === 'out_of_stock' ? 0 : product.stock;
    const costMinor = fault?.kind === 'price_rise' ? product.costMinor * 2 : product.costMinor;
    sendJson(res, 200, {
      productCode: product.code,
      available: stock > 0,
      stock,
      costMinor,
      currency: supplier.config.currency,
    });
  }

  private refOrder(ctx: Ctx): void {
    const { supplier, res, fault } = ctx;
    const body = parseBody(refOrderSchema, ctx.rawBody);
    const existing = supplier.byReference.get(body.reference);
    // Idempotency first: a reference already accepted gets that sale back, whatever the
    // business faults say — answering "out of stock" for a sold unit would invite a double buy.
    if (existing) return this.answerRefOrder(ctx, existing);
    const product = supplier.products.get(body.productCode);
    if (!product) return sendJson(res, 422, { code: 'unknown_product' });
    if (body.currency !== supplier.config.currency)
      return sendJson(res, 400, { code: 'bad_request', message: `currency must be ${supplier.config.currency}` });
    if (product.kind === 'direct_topup' && !accountMatches(product, body.account))
      return sendJson(res, 422, { code: 'invalid_account' });
    if (fault?.kind === 'out_of_stock' || product.stock <= 0) return sendJson(res, 409, { code: 'out_of_stock' });
    if (fault?.kind === 'price_rise')
      return sendJson(res, 409, { code: 'price_changed', costMinor: product.costMinor * 2 });
    if (product.costMinor > body.maxCostMinor)
      return sendJson(res, 409, { code: 'price_changed', costMinor: product.costMinor });

    const asyncKind = fault && fault.kind.startsWith('async_') ? fault.kind : null;
    const sale = this.recordSale(supplier, product, body.reference, {
      status: asyncKind ? 'pending' : 'succeeded',
      account: body.account,
      invalidKey: fault?.kind === 'invalid_key',
    });
    if (body.callbackUrl !== undefined) sale.callbackUrl = body.callbackUrl;
    if (asyncKind && fault) this.scheduleCompletion(supplier, sale, fault);
    this.answerRefOrder(ctx, sale);
  }

  private answerRefOrder(ctx: Ctx, sale: Sale): void {
    // lost_response: the sale is recorded, the buyer just never hears about it.
    if (ctx.fault?.kind === 'lost_response') return void ctx.req.socket.destroy();
    sendJson(ctx.res, sale.status === 'pending' ? 202 : 200, refOrderView(ctx.supplier, sale));
  }

  /** Completes an async sale later; 'async_never' leaves it pending until cancelled. */
  private scheduleCompletion(supplier: Supplier, sale: Sale, fault: Fault): void {
    if (fault.kind === 'async_never') return;
    schedule(supplier, fault.callbackDelayMs, () => {
      if (sale.status !== 'pending') return; // cancelled meanwhile: nothing sold
      sale.status = 'succeeded';
      if (sale.kind === 'card_key') sale.key = this.newKey();
      if (!sale.callbackUrl || fault.kind === 'async_silent') return;
      const copies = fault.kind === 'async_duplicate' ? 2 : 1;
      for (let i = 0; i < copies; i++) void sendCallback(supplier, sale);
    });
  }

  private async completeScripted(
    res: ServerResponse,
    supplier: Supplier,
    reference: string,
    script: z.infer<typeof completeSchema>,
  ): Promise<void> {
    const sale = supplier.byReference.get(reference);
    if (!sale) return sendJson(res, 404, { code: 'not_found' });
    if (sale.status !== 'pending' || !sale.callbackUrl) return sendJson(res, 409, { code: 'not_pending' });
    sale.status = 'succeeded';
    if (script.costMinor !== undefined) sale.costMinor = script.costMinor;
    if (sale.kind === 'card_key') {
      const fresh = this.newKey();
      sale.key = { code: script.code ?? fresh.code, ...(script.pin !== undefined ? { pin: script.pin } : {}) };
    }
    sendJson(res, 200, await sendCallback(supplier, sale));
  }

  // ----- Reloadly-shaped protocol ------------------------------------------------------------

  private async handleReloadly(ctx: Ctx, rest: string[]): Promise<void> {
    const { req, res, supplier, url } = ctx;
    const method = req.method ?? 'GET';
    const route = rest.join('/');
    try {
      if (method === 'POST' && route === 'oauth/token') return issueToken(ctx);
      const denied = tokenProblem(supplier, req.headers.authorization);
      if (denied) return sendJson(res, 401, reloadlyError(url, denied.errorCode, denied.message));

      const [a, b, c, d] = rest;
      let endpoint: Endpoint;
      let run: () => void;
      if (method === 'GET' && a === 'products' && b !== undefined && rest.length === 2) {
        endpoint = 'quote';
        run = () => rlProduct(ctx, b, 'card_key');
      } else if (method === 'GET' && a === 'operators' && b !== undefined && rest.length === 2) {
        endpoint = 'quote';
        run = () => rlProduct(ctx, b, 'direct_topup');
      } else if (method === 'POST' && route === 'orders') {
        endpoint = 'order';
        run = () => this.rlOrder(ctx);
      } else if (method === 'POST' && route === 'topups') {
        endpoint = 'order';
        run = () => this.rlTopup(ctx);
      } else if (
        method === 'GET' &&
        a === 'orders' &&
        b === 'transactions' &&
        c !== undefined &&
        d === 'cards' &&
        rest.length === 4
      ) {
        endpoint = 'lookup';
        run = () => rlCards(ctx, c);
      } else if (method === 'GET' && route === 'reports/transactions') {
        // By customIdentifier it is the platform's lookup; by date range, its sales listing.
        endpoint = url.searchParams.has('customIdentifier') ? 'lookup' : 'sales';
        run = () => rlReport(ctx, 'card_key');
      } else if (method === 'GET' && route === 'topups/reports/transactions') {
        endpoint = url.searchParams.has('customIdentifier') ? 'lookup' : 'sales';
        run = () => rlReport(ctx, 'direct_topup');
      } else {
        return sendJson(res, 404, reloadlyError(url, 'NOT_FOUND', 'no such endpoint'));
      }
      countRequest(supplier, endpoint);
      const fault = drawFault(supplier, endpoint);
      // The async and invalid-key faults have no Reloadly equivalent: such requests succeed.
      ctx.fault = fault && REFERENCE_ONLY.has(fault.kind) ? null : fault;
      if (await this.applyTransportFault(ctx, 'reloadly')) return;
      run();
    } catch (err) {
      if (err instanceof ClientError)
        return sendJson(res, 400, { code: 'bad_request', ...reloadlyError(url, 'INVALID_REQUEST', err.message) });
      throw err;
    }
  }

  private rlOrder(ctx: Ctx): void {
    const { supplier, res, url, fault } = ctx;
    const body = parseBody(rlOrderSchema, ctx.rawBody);
    const product = supplier.products.get(String(body.productId));
    if (!product || product.kind !== 'card_key')
      return sendJson(res, 404, reloadlyError(url, 'PRODUCT_NOT_FOUND', `product ${body.productId} not found`));
    const refusal = this.rlRefusal(ctx, product, body.customIdentifier, body.unitPrice);
    if (refusal) return;
    const sale = this.recordSale(supplier, product, body.customIdentifier, { status: 'succeeded' });
    if (fault?.kind === 'lost_response') return void ctx.req.socket.destroy();
    sendJson(res, 200, giftCardTransaction(supplier, sale));
  }

  private rlTopup(ctx: Ctx): void {
    const { supplier, res, url, fault } = ctx;
    const body = parseBody(rlTopupSchema, ctx.rawBody);
    const product = supplier.products.get(String(body.operatorId));
    if (!product || product.kind !== 'direct_topup')
      return sendJson(res, 404, reloadlyError(url, 'OPERATOR_NOT_FOUND', `operator ${body.operatorId} not found`));
    if (!accountMatches(product, body.recipientPhone.number))
      return sendJson(
        res,
        400,
        reloadlyError(url, 'INVALID_PHONE_NUMBER', 'recipient phone is not valid for this operator'),
      );
    if (this.rlRefusal(ctx, product, body.customIdentifier, body.amount)) return;
    const sale = this.recordSale(supplier, product, body.customIdentifier, {
      status: 'succeeded',
      account: body.recipientPhone.number,
      countryCode: body.recipientPhone.countryCode,
    });
    if (fault?.kind === 'lost_response') return void ctx.req.socket.destroy();
    sendJson(res, 200, topupTransaction(supplier, sale));
  }

  /**
   * Reloadly refuses a customIdentifier it has seen (the platform recovers through the
   * reports endpoint instead), stock-outs, and a cost above what the caller offered to pay.
   * Answers and returns true when the order must not go ahead.
   */
  private rlRefusal(ctx: Ctx, product: Product, customIdentifier: string, offered: number): boolean {
    const { supplier, res, url, fault } = ctx;
    const currency = supplier.config.currency;
    if (supplier.byReference.has(customIdentifier)) {
      sendJson(
        res,
        409,
        reloadlyError(url, 'CUSTOM_IDENTIFIER_ALREADY_EXISTS', `customIdentifier ${customIdentifier} already used`),
      );
      return true;
    }
    if (fault?.kind === 'out_of_stock' || product.stock <= 0) {
      sendJson(res, 400, reloadlyError(url, 'PRODUCT_OUT_OF_STOCK', `product ${product.code} is out of stock`));
      return true;
    }
    const cost = fault?.kind === 'price_rise' ? product.costMinor * 2 : product.costMinor;
    if (fault?.kind === 'price_rise' || cost > toMinor(offered, currency)) {
      sendJson(res, 400, {
        ...reloadlyError(url, 'PRICE_CHANGED', `price is now ${toDecimal(cost, currency)} ${currency}`),
        unitPrice: toDecimal(cost, currency),
      });
      return true;
    }
    return false;
  }

  // ----- shared --------------------------------------------------------------------------

  /**
   * Applies the transport-level part of a fault before the request is served. Returns true
   * when the request has been dealt with (answered, reset or deliberately left hanging).
   */
  private async applyTransportFault(ctx: Ctx, protocol: 'reference' | 'reloadly'): Promise<boolean> {
    const fault = ctx.fault;
    if (!fault) return false;
    if (fault.latencyMs > 0) await this.sleep(fault.latencyMs);
    if (this.closed || ctx.res.destroyed) return true;
    switch (fault.kind) {
      case 'error_500':
        sendJson(
          ctx.res,
          500,
          protocol === 'reference'
            ? { code: 'internal_error' }
            : reloadlyError(ctx.url, 'INTERNAL_SERVER_ERROR', 'simulated failure'),
        );
        return true;
      case 'reset':
        ctx.req.socket.destroy();
        return true;
      case 'timeout':
        // Never answer; the socket is destroyed by the client giving up or by close().
        return true;
      default:
        return false;
    }
  }

  private recordSale(
    supplier: Supplier,
    product: Product,
    reference: string,
    opts: { status: SaleStatus; account?: string | undefined; countryCode?: string; invalidKey?: boolean },
  ): Sale {
    // Stock is taken at acceptance, pending included, so a completion can never oversell.
    product.stock -= 1;
    const id = ++this.nextId;
    const sale: Sale = {
      reference,
      id,
      transactionId: supplier.config.protocol === 'reference' ? `SUP-${String(id).padStart(6, '0')}` : String(id),
      productCode: product.code,
      kind: product.kind,
      costMinor: product.costMinor,
      status: opts.status,
      at: new Date(),
    };
    if (opts.account !== undefined) sale.account = opts.account;
    if (opts.countryCode !== undefined) sale.countryCode = opts.countryCode;
    if (product.kind === 'card_key' && opts.status === 'succeeded')
      sale.key = opts.invalidKey ? { code: '', pin: this.newKey().pin } : this.newKey();
    supplier.sales.push(sale);
    supplier.byReference.set(reference, sale);
    supplier.byId.set(id, sale);
    return sale;
  }

  /** Codes are unique across the whole server so a duplicate key always means a double sale. */
  private newKey(): { code: string; pin: string } {
    const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
    for (;;) {
      const bytes = randomBytes(12);
      const chars = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
      const code = `SIM-${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
      if (this.issuedCodes.has(code)) continue;
      this.issuedCodes.add(code);
      const pin = String(randomBytes(2).readUInt16BE(0) % 10_000).padStart(4, '0');
      return { code, pin };
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.sleeps.delete(t);
        resolve();
      }, ms);
      this.sleeps.add(t);
    });
  }
}

// ---------------------------------------------------------------------------------------
// Reference protocol helpers
// ---------------------------------------------------------------------------------------

function referenceSignatureOk(ctx: Ctx): boolean {
  const { req, supplier, rawBody } = ctx;
  const header = req.headers['x-rights-signature'];
  const account = req.headers['x-rights-account'];
  const secret = supplier.config.secret;
  if (typeof header !== 'string' || !secret) return false;
  if (supplier.config.accountId !== undefined && account !== supplier.config.accountId) return false;
  // The MAC covers the request target exactly as sent, prefix included.
  const signed = { method: req.method ?? 'GET', path: req.url ?? '/', body: rawBody };
  try {
    return verifyRequest(secret, signed, header, nowSeconds(), REPLAY_WINDOW_SECONDS);
  } catch {
    return false; // malformed hex and the like
  }
}

function refOrderView(supplier: Supplier, sale: Sale): Record<string, unknown> {
  const view: Record<string, unknown> = {
    reference: sale.reference,
    // A disputed sale is refunded: the protocol reports it as failed.
    status: sale.status === 'disputed' ? 'failed' : sale.status,
    transactionId: sale.transactionId,
    costMinor: sale.costMinor,
    currency: supplier.config.currency,
  };
  if (sale.key && sale.status === 'succeeded') view.key = { ...sale.key };
  if (sale.status === 'disputed') view.failureReason = sale.disputeReason ?? 'disputed';
  if (sale.redeemedAt) view.redeemedAt = sale.redeemedAt.toISOString();
  return view;
}

/**
 * `GET /sales?from=&to=[&cursor=][&limit=]`: every order the supplier accepted in [from, to),
 * oldest first, whatever became of it, each with the time it was accepted; `nextCursor` pages.
 */
function refSales(ctx: Ctx): void {
  const { supplier, res } = ctx;
  const parsed = refSalesQuerySchema.safeParse(Object.fromEntries(ctx.url.searchParams));
  if (!parsed.success) return sendJson(res, 400, { code: 'bad_request', message: parsed.error.issues[0]?.message });
  const { from, to, cursor, limit } = parsed.data;
  const [start, end, after] = [Date.parse(from), Date.parse(to), cursor === undefined ? 0 : Number(cursor)];
  const matching = supplier.sales.filter((s) => s.id > after && s.at.getTime() >= start && s.at.getTime() < end);
  const page = matching.slice(0, limit);
  sendJson(res, 200, {
    // Keys are not part of the record of sales: a listing is not a second way to read them.
    sales: page.map((s) => {
      const { key: _key, ...view } = refOrderView(supplier, s);
      return { ...view, soldAt: s.at.toISOString() };
    }),
    nextCursor: matching.length > limit ? String(page[page.length - 1]!.id) : null,
  });
}

/** A supplier's own change to a sale: it bills another cost, or reports the key redeemed. */
function patchSale(res: ServerResponse, supplier: Supplier, reference: string, patch: z.infer<typeof salePatchSchema>) {
  const sale = supplier.byReference.get(reference);
  if (!sale) return sendJson(res, 404, { code: 'not_found' });
  if (patch.costMinor !== undefined) sale.costMinor = patch.costMinor;
  if (patch.redeemedAt !== undefined) sale.redeemedAt = new Date(patch.redeemedAt);
  sendJson(res, 200, refOrderView(supplier, sale));
}

function refLookup(ctx: Ctx, reference: string): void {
  const sale = ctx.supplier.byReference.get(reference);
  if (!sale) return sendJson(ctx.res, 404, { code: 'not_found' });
  sendJson(ctx.res, 200, refOrderView(ctx.supplier, sale));
}

function refCancel(ctx: Ctx, reference: string): void {
  const { supplier, res } = ctx;
  const sale = supplier.byReference.get(reference);
  if (!sale) return sendJson(res, 404, { code: 'not_found' });
  if (sale.status === 'pending') {
    sale.status = 'cancelled';
    const product = supplier.products.get(sale.productCode);
    if (product) product.stock += 1; // the reserved unit goes back on the shelf
  }
  sendJson(res, sale.status === 'cancelled' ? 200 : 409, refOrderView(supplier, sale));
}

function refDispute(ctx: Ctx, reference: string): void {
  const { supplier, res } = ctx;
  const body = parseBody(refDisputeSchema, ctx.rawBody || '{}');
  const sale = supplier.byReference.get(reference);
  if (!sale) return sendJson(res, 404, { code: 'not_found' });
  if (sale.status === 'succeeded') {
    sale.status = 'disputed';
    sale.disputeReason = body.reason ?? 'disputed';
  }
  sendJson(res, sale.status === 'disputed' ? 200 : 409, refOrderView(supplier, sale));
}

/** The platform's answer to a callback; status 0 when none came. */
export interface CallbackAnswer {
  status: number;
  contentType: string | null;
  body: string;
}

/** A sale's callback to the URL the platform gave with the order. */
async function sendCallback(supplier: Supplier, sale: Sale): Promise<CallbackAnswer> {
  supplier.stats.callbacksSent += 1;
  // Delivery failures are the platform's problem to recover from (it polls by reference).
  return deliverCallback(supplier, sale.callbackUrl ?? '', JSON.stringify(refOrderView(supplier, sale)));
}

/** POSTs `body` as-is to `url`, signed under the supplier's secret as the protocol says. */
async function deliverCallback(supplier: Supplier, url: string, body: string): Promise<CallbackAnswer> {
  try {
    const target = new URL(url);
    const signature = signRequest(
      supplier.config.secret ?? '',
      { method: 'POST', path: `${target.pathname}${target.search}`, body },
      nowSeconds(),
    );
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-rights-signature': signature };
    if (supplier.config.accountId !== undefined) headers['x-rights-account'] = supplier.config.accountId;
    const res = await fetch(target, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
  } catch {
    return { status: 0, contentType: null, body: '' };
  }
}

function accountMatches(product: Product, account: string | undefined): boolean {
  if (account === undefined || account === '') return false;
  if (!product.accountPattern) return true;
  return product.accountPattern.test(account);
}

// ---------------------------------------------------------------------------------------
// Reloadly helpers
// ---------------------------------------------------------------------------------------

function reloadlyError(url: URL, errorCode: string, message: string): Record<string, unknown> {
  return { timeStamp: new Date().toISOString(), message, path: url.pathname, errorCode, infoLink: null, details: [] };
}

function issueToken(ctx: Ctx): void {
  const { supplier, res, url } = ctx;
  const body = parseBody(tokenRequestSchema, ctx.rawBody);
  if (body.client_id !== supplier.config.clientId || body.client_secret !== supplier.config.clientSecret)
    return sendJson(res, 401, reloadlyError(url, 'INVALID_CREDENTIALS', 'Access Denied'));
  const ttl = supplier.config.tokenTtlSeconds ?? 3600;
  const token = randomBytes(24).toString('base64url');
  supplier.tokens.set(token, Date.now() + ttl * 1000);
  supplier.stats.tokenIssued += 1;
  sendJson(res, 200, { access_token: token, scope: 'developer', expires_in: ttl, token_type: 'Bearer' });
}

function tokenProblem(
  supplier: Supplier,
  authorization: string | undefined,
): { errorCode: string; message: string } | null {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  const expiresAt = match?.[1] !== undefined ? supplier.tokens.get(match[1]) : undefined;
  if (expiresAt === undefined) return { errorCode: 'INVALID_TOKEN', message: 'Full authentication is required' };
  if (expiresAt <= Date.now()) return { errorCode: 'TOKEN_EXPIRED', message: 'Access token expired' };
  return null;
}

function rlProduct(ctx: Ctx, idText: string, kind: ProductKind): void {
  const { supplier, res, url, fault } = ctx;
  const product = supplier.products.get(idText);
  if (!product || product.kind !== kind || !/^\d+$/.test(idText)) {
    const [code, what] = kind === 'card_key' ? ['PRODUCT_NOT_FOUND', 'product'] : ['OPERATOR_NOT_FOUND', 'operator'];
    return sendJson(res, 404, reloadlyError(url, code, `${what} ${idText} not found`));
  }
  const currency = supplier.config.currency;
  const stock = fault?.kind === 'out_of_stock' ? 0 : product.stock;
  const cost = toDecimal(fault?.kind === 'price_rise' ? product.costMinor * 2 : product.costMinor, currency);
  const status = stock > 0 ? 'ACTIVE' : 'INACTIVE';
  if (kind === 'direct_topup') {
    return sendJson(res, 200, {
      operatorId: Number(idText),
      name: product.name,
      denominationType: 'FIXED',
      senderCurrencyCode: currency,
      destinationCurrencyCode: currency,
      fixedAmounts: [cost],
      status,
      stock,
    });
  }
  sendJson(res, 200, {
    productId: Number(idText),
    productName: product.name,
    denominationType: 'FIXED',
    senderCurrencyCode: currency,
    recipientCurrencyCode: currency,
    fixedSenderDenominations: [cost],
    fixedRecipientDenominations: [cost],
    senderFee: 0,
    status,
    stock,
  });
}

function rlCards(ctx: Ctx, idText: string): void {
  const sale = /^\d+$/.test(idText) ? ctx.supplier.byId.get(Number(idText)) : undefined;
  if (!sale || sale.kind !== 'card_key' || !sale.key)
    return sendJson(ctx.res, 404, reloadlyError(ctx.url, 'TRANSACTION_NOT_FOUND', `transaction ${idText} not found`));
  sendJson(ctx.res, 200, [{ cardNumber: sale.key.code, pinCode: sale.key.pin }]);
}

/**
 * Reloadly's transaction report, by customIdentifier and/or date range, a page at a time
 * (`page` from 1, `size`). As reported from Reloadly's sandbox, `startDate`/`endDate`
 * ("yyyy-MM-dd HH:mm:ss") are read as UTC−4 wall time, so a caller sending UTC times sees a
 * window four hours off: the platform must ask for a wider one.
 */
function rlReport(ctx: Ctx, kind: ProductKind): void {
  const { supplier } = ctx;
  const params = ctx.url.searchParams;
  const customIdentifier = params.get('customIdentifier');
  const start = reloadlyDateParam(params.get('startDate'), 'startDate');
  const end = reloadlyDateParam(params.get('endDate'), 'endDate');
  const page = pageParam(params.get('page'), 1, 1_000_000);
  const size = pageParam(params.get('size'), 200, 200);
  const matching = supplier.sales.filter(
    (s) =>
      s.kind === kind &&
      (customIdentifier === null || s.reference === customIdentifier) &&
      (start === null || s.at.getTime() >= start) &&
      (end === null || s.at.getTime() <= end),
  );
  const content = matching
    .slice((page - 1) * size, page * size)
    .map((s) => (kind === 'card_key' ? giftCardTransaction(supplier, s) : topupTransaction(supplier, s)));
  const totalPages = Math.max(1, Math.ceil(matching.length / size));
  sendJson(ctx.res, 200, {
    content,
    totalElements: matching.length,
    totalPages,
    size,
    number: page - 1,
    last: page >= totalPages,
  });
}

/** A report date as Reloadly reads it: wall time in UTC−4. */
function reloadlyDateParam(value: string | null, name: string): number | null {
  if (value === null) return null;
  const at = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(value) ? Date.parse(`${value.replace(' ', 'T')}-04:00`) : NaN;
  if (Number.isNaN(at)) throw new ClientError(`${name} must be yyyy-MM-dd HH:mm:ss`);
  return at;
}

function pageParam(value: string | null, fallback: number, max: number): number {
  if (value === null) return fallback;
  const n = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= max)) throw new ClientError(`page and size must be whole numbers from 1 (size up to ${max})`);
  return n;
}

function reloadlyStatus(sale: Sale): string {
  switch (sale.status) {
    case 'succeeded':
      return 'SUCCESSFUL';
    case 'pending':
      return 'PENDING';
    case 'disputed':
      return 'REFUNDED';
    case 'cancelled':
      return 'FAILED';
  }
}

function giftCardTransaction(supplier: Supplier, sale: Sale): Record<string, unknown> {
  const currency = supplier.config.currency;
  const amount = toDecimal(sale.costMinor, currency);
  return {
    transactionId: sale.id,
    amount,
    discount: 0,
    currencyCode: currency,
    fee: 0,
    customIdentifier: sale.reference,
    status: reloadlyStatus(sale),
    transactionCreatedTime: reloadlyTime(sale.at),
    product: {
      productId: Number(sale.productCode),
      productName: supplier.products.get(sale.productCode)?.name ?? sale.productCode,
      quantity: 1,
      unitPrice: amount,
      totalPrice: amount,
      currencyCode: currency,
    },
  };
}

function topupTransaction(supplier: Supplier, sale: Sale): Record<string, unknown> {
  const currency = supplier.config.currency;
  const amount = toDecimal(sale.costMinor, currency);
  return {
    transactionId: sale.id,
    status: reloadlyStatus(sale),
    operatorTransactionId: `OP-${sale.id}`,
    customIdentifier: sale.reference,
    recipientPhone: sale.account,
    countryCode: sale.countryCode,
    requestedAmount: amount,
    requestedAmountCurrencyCode: currency,
    deliveredAmount: amount,
    deliveredAmountCurrencyCode: currency,
    discount: 0,
    operatorId: Number(sale.productCode),
    operatorName: supplier.products.get(sale.productCode)?.name ?? sale.productCode,
    transactionDate: reloadlyTime(sale.at),
  };
}

// ---------------------------------------------------------------------------------------
// Supplier state helpers
// ---------------------------------------------------------------------------------------

function newSupplier(name: string, config: SupplierConfig): Supplier {
  const products = new Map<string, Product>();
  for (const [code, p] of Object.entries(config.products)) {
    const product: Product = {
      code,
      name: p.name ?? `${name} ${code}`,
      costMinor: p.costMinor,
      stock: p.stock,
      kind: p.kind,
    };
    if (p.accountPattern !== undefined) product.accountPattern = new RegExp(p.accountPattern);
    products.set(code, product);
  }
  return {
    name,
    config,
    products,
    sales: [],
    byReference: new Map(),
    byId: new Map(),
    rules: [],
    stats: { orderRequests: 0, lookupRequests: 0, quoteRequests: 0, tokenIssued: 0, callbacksSent: 0 },
    tokens: new Map(),
    timers: new Set(),
  };
}

function setFaultPlan(supplier: Supplier, plan: FaultPlan): void {
  supplier.rules = plan.rules.map((r) => ({ ...r, remaining: r.times ?? Infinity }));
  if (plan.mix) {
    supplier.mix = plan.mix;
    supplier.rng = mulberry32(plan.mix.seed);
  } else {
    delete supplier.mix;
    delete supplier.rng;
  }
}

/** First rule with uses left wins; otherwise the seeded mix (order requests only). */
function drawFault(supplier: Supplier, endpoint: Endpoint): Fault | null {
  for (const rule of supplier.rules) {
    const on = rule.on ?? 'order';
    if ((on !== 'any' && on !== endpoint) || rule.remaining <= 0) continue;
    rule.remaining -= 1;
    return resolveFault(rule.kind, rule.latencyMs, rule.callbackDelayMs);
  }
  const { mix, rng } = supplier;
  if (endpoint !== 'order' || !mix || !rng) return null;
  let draw = rng();
  for (const kind of FAULT_KINDS) {
    const rate = mix.rates[kind] ?? 0;
    if (draw < rate) return resolveFault(kind, mix.latencyMs, mix.callbackDelayMs);
    draw -= rate;
  }
  return null;
}

function resolveFault(kind: FaultKind, latencyMs: number | undefined, callbackDelayMs: number | undefined): Fault {
  return {
    kind,
    latencyMs: latencyMs ?? (kind === 'latency' ? DEFAULT_LATENCY_MS : 0),
    callbackDelayMs: callbackDelayMs ?? DEFAULT_CALLBACK_DELAY_MS,
  };
}

function countRequest(supplier: Supplier, endpoint: Endpoint): void {
  if (endpoint === 'order') supplier.stats.orderRequests += 1;
  else if (endpoint === 'lookup') supplier.stats.lookupRequests += 1;
  else if (endpoint === 'quote') supplier.stats.quoteRequests += 1;
}

function salesReport(supplier: Supplier): SalesReport {
  const sales = supplier.sales.map((s): SaleRecord => {
    const record: SaleRecord = {
      reference: s.reference,
      transactionId: s.transactionId,
      productCode: s.productCode,
      costMinor: s.costMinor,
      currency: supplier.config.currency,
      status: s.status,
      at: s.at.toISOString(),
    };
    if (s.account !== undefined) record.account = s.account;
    return record;
  });
  return { sales, stats: { ...supplier.stats } };
}

function schedule(supplier: Supplier, ms: number, fn: () => void): void {
  const t = setTimeout(() => {
    supplier.timers.delete(t);
    fn();
  }, ms);
  supplier.timers.add(t);
}

function clearTimers(supplier: Supplier): void {
  for (const t of supplier.timers) clearTimeout(t);
  supplier.timers.clear();
}

// ---------------------------------------------------------------------------------------
// HTTP plumbing
// ---------------------------------------------------------------------------------------

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody<T extends z.ZodType>(schema: T, raw: string): z.infer<T> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ClientError('body is not JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new ClientError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendStatus(res: ServerResponse, status: number): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status);
  res.end();
}

// ---------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------

export async function startSupplierSim(options: SupplierSimOptions = {}): Promise<SupplierSim> {
  const host = options.host ?? '127.0.0.1';
  const sim = new Simulator();
  const server = createServer((req, res) => {
    sim.handle(req, res).catch(() => {
      // A bug here must not take the simulator (and the test run) down.
      if (!res.headersSent) sendJson(res, 500, { code: 'internal_error' });
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | null = null;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        sim.close();
        server.close(() => resolve());
        // Held 'timeout' requests and keep-alive sockets would otherwise block close forever.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
