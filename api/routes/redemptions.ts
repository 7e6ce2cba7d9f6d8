// POST /v1/redemptions: a rights owner marks the platform's delivered keys redeemed (核销),
// `{sku, code}` or `{sku, codes: [...]}` (up to 1,000). Codes are normalised as imports
// normalise them and matched by fingerprint; the plaintext is not stored, logged or audited.
//
// Who may: `admin` (any key of the product), and `order-system` clients for the keys
// delivered in their own orders only — a key of another client's order, or one never sold,
// answers `not_found` to them, exactly like a code the platform never had. Clients carry no
// scopes (a schema change this slice does not make), so "redemption scope" is this ownership
// rule: an order system can only confirm what it sold. Support and risk analysts may not.
//
// Also the shape of GET /v1/reports/redemptions (JSON or CSV), served by the reports router.
import { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import { CardKeySchema } from '../../domain/card-key';
import { roleFromDb } from '../../domain/roles';
import type { RedemptionFigures } from '../../store/redemption-report';
import { countOutcomes, markRedeemedByCodes, type RedemptionResult } from '../../store/redemptions';
import type { ApiDeps } from '../deps';
import { actorOf, callerOf, requireRole } from '../middleware/auth';
import { parseOr422, Problem } from '../problem';
import { SkuSchema } from './products';

export const MAX_CODES_PER_REQUEST = 1000;

export const RedemptionBody = z
  .strictObject({
    sku: SkuSchema,
    code: CardKeySchema.optional(),
    codes: z.array(CardKeySchema).min(1).max(MAX_CODES_PER_REQUEST).optional(),
  })
  .refine((b) => (b.code === undefined) !== (b.codes === undefined), { message: 'send either code or codes' });

const resultView = (r: RedemptionResult) => ({
  outcome: r.outcome,
  ...(r.redeemedAt ? { redeemedAt: r.redeemedAt.toISOString() } : {}),
});

export function redemptionsRouter({ db, config }: ApiDeps): Router {
  const router = Router();
  router.post('/', requireRole('admin', 'order-system'), async (req, res) => {
    const body = parseOr422(RedemptionBody, req.body);
    const product = await db.product.findUnique({
      where: { sku: body.sku },
      select: { id: true, sku: true, kind: true },
    });
    if (!product) throw new Problem(422, 'unknown_sku', `unknown sku ${body.sku}`);
    if (product.kind !== 'card_key') {
      throw new Problem(422, 'not_a_card_key_product', `${body.sku} is not delivered as card keys`);
    }
    const caller = callerOf(req);
    const results = await markRedeemedByCodes(db, config.KEY_FINGERPRINT_SECRET, {
      product,
      codes: body.codes ?? [body.code!],
      ownerClientId: roleFromDb(caller.role) === 'order-system' ? caller.id : null,
      actor: actorOf(req),
    });
    const counts = countOutcomes(results);
    req.log.info({ sku: product.sku, counts }, 'redemptions marked');
    res.json({ sku: product.sku, results: results.map(resultView), counts });
  });
  return router;
}

const figuresView = (f: RedemptionFigures) => ({
  delivered: f.delivered,
  redeemed: f.redeemed,
  redemptionRate: f.redemptionRate,
  medianSecondsToRedeem: f.medianSecondsToRedeem,
  unredeemed: f.unredeemed,
  bad: f.bad,
  badKeyRate: f.badKeyRate,
});
const sourceView = (f: RedemptionFigures) => ({ kind: f.sourceKind, name: f.source });

/** The report as JSON: one list per grouping. */
export function redemptionReportView(range: { from: Date; to: Date; asOf: Date }, rows: RedemptionFigures[]) {
  const of = (g: RedemptionFigures['grouping']) => rows.filter((r) => r.grouping === g);
  return {
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    asOf: range.asOf.toISOString(),
    byProduct: of('product').map((f) => ({ sku: f.sku, ...figuresView(f) })),
    bySource: of('source').map((f) => ({ source: sourceView(f), ...figuresView(f) })),
    byProductAndSource: of('product_source').map((f) => ({ sku: f.sku, source: sourceView(f), ...figuresView(f) })),
    byBatch: of('batch').map((f) => ({
      batchId: f.batchId,
      sku: f.sku,
      source: sourceView(f),
      quarantinedAt: f.batchQuarantinedAt?.toISOString() ?? null,
      ...figuresView(f),
    })),
  };
}

const CSV_COLUMNS = [
  'grouping',
  'sku',
  'source_kind',
  'source',
  'batch_id',
  'delivered',
  'redeemed',
  'redemption_rate',
  'median_seconds_to_redeem',
  'unredeemed_under_1d',
  'unredeemed_1d_7d',
  'unredeemed_7d_30d',
  'unredeemed_over_30d',
  'bad',
  'bad_key_rate',
] as const;

/**
 * One CSV field: quoted when it holds a separator, quote or line break; a text that a
 * spreadsheet would run as a formula (a batch label is free text) gets a leading apostrophe.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The report as CSV: one line per row of every grouping, the grouping named in the first column. */
export function redemptionReportCsv(rows: RedemptionFigures[]): string {
  const lines = rows.map((f) =>
    [
      f.grouping,
      f.sku,
      f.sourceKind,
      f.source,
      f.batchId,
      f.delivered,
      f.redeemed,
      f.redemptionRate,
      f.medianSecondsToRedeem,
      f.unredeemed.under1d,
      f.unredeemed.from1dTo7d,
      f.unredeemed.from7dTo30d,
      f.unredeemed.over30d,
      f.bad,
      f.badKeyRate,
    ]
      .map(csvField)
      .join(','),
  );
  return [CSV_COLUMNS.join(','), ...lines].map((l) => `${l}\n`).join('');
}

/** Answers with JSON, or CSV when the caller prefers `text/csv` (as GET /v1/balance/statement does). */
export function sendRedemptionReport(
  req: Request,
  res: Response,
  range: { from: Date; to: Date; asOf: Date },
  rows: RedemptionFigures[],
): void {
  if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
    res.setHeader('content-type', 'text/csv; charset=utf-8');
    res.send(redemptionReportCsv(rows));
    return;
  }
  res.json(redemptionReportView(range, rows));
}
