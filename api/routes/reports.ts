// Reports for operators. GET /v1/reports/reconciliation?from=&to= (admin): every mismatch
// between the ledger and what was delivered, each naming its order, transaction or account.
// GET /v1/reports/redemptions?from=&to= (admin): redemption and bad-key figures of the keys
// delivered in the range, as JSON or (Accept: text/csv) CSV.
// GET /v1/reports/supplier-reconciliation?from=&to= (admin): what supplier reconciliation found.
// GET /v1/reports/subscriptions?timeZone=&sku= (admin): subscription figures (api/routes/subscription-reports.ts).
// GET /v1/reports/sales?from=&to=&groupBy=product|channel (admin): sales and margin (api/routes/sales-report.ts).
import { Router } from 'express';
import { salesReport } from '../../store/orders/sales-report';
import { reconcile } from '../../store/reconciliation';
import { redemptionReport } from '../../store/redemption-report';
import { findingsFound } from '../../store/suppliers/reconciliation';
import { DateRange } from '../date-range';
import type { ApiDeps } from '../deps';
import { requireRole } from '../middleware/auth';
import { parseOr422 } from '../problem';
import { sendRedemptionReport } from './redemptions';
import { SalesReportQuery, sendSalesReport } from './sales-report';
import { sendSubscriptionReport } from './subscription-reports';
import { sendSupplierReconciliationReport } from './supplier-reconciliation-report';

/** `from` and `to` of every report: the one date rule (api/date-range.ts). */
const Range = DateRange;

export function reportsRouter({ db }: ApiDeps): Router {
  const router = Router();
  router.get('/reconciliation', requireRole('admin'), async (req, res) => {
    const range = parseOr422(Range, req.query);
    const from = new Date(range.from);
    const to = new Date(range.to);
    const result = await reconcile(db, { from, to });
    res.json({ from: from.toISOString(), to: to.toISOString(), ...result });
  });
  router.get('/redemptions', requireRole('admin'), async (req, res) => {
    const query = parseOr422(Range, req.query);
    const range = { from: new Date(query.from), to: new Date(query.to), asOf: new Date() };
    sendRedemptionReport(req, res, range, await redemptionReport(db, range));
  });
  router.get('/supplier-reconciliation', requireRole('admin'), async (req, res) => {
    const query = parseOr422(Range, req.query);
    const range = { from: new Date(query.from), to: new Date(query.to) };
    sendSupplierReconciliationReport(req, res, range, await findingsFound(db, range));
  });
  router.get('/sales', requireRole('admin'), async (req, res) => {
    const range = parseOr422(SalesReportQuery, req.query);
    const { rows, totals } = await salesReport(db, range);
    sendSalesReport(req, res, { range, rows, totals });
  });
  router.get('/subscriptions', requireRole('admin'), (req, res) => sendSubscriptionReport(db, req, res));
  return router;
}
