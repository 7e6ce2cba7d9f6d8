// Reports (admin), one at a time under /reports/<name>: sales and margin per product or channel,
// subscriptions (renewals due, retention, dunning), redemptions and stock. Each is charts where
// people would rather look than read, the numbers in tables, and the report's CSV. The choices
// (range, grouping, product) live in the URL, so a report can be linked and reloaded as it was.
// This module and Chart.js load only when an admin opens the reports (a chunk of their own).
import { useEffect } from 'preact/hooks';
import { useT } from '../i18n';
import { RedemptionReport } from '../reports/redemptions';
import { RANGES, daysOf } from '../reports/range';
import { RenewalsReport } from '../reports/renewals';
import { GROUPS, type GroupBy, SalesReportView } from '../reports/sales';
import { BASE, navigate, useLocation } from '../router';

const REPORTS = ['sales', 'renewals', 'redemptions'] as const;
type Report = (typeof REPORTS)[number];
/** The reports that cover a date range (the range control is theirs). */
const DATED: ReadonlySet<Report> = new Set(['sales', 'redemptions']);

export function ReportsPage() {
  const t = useT();
  const { path, query } = useLocation();
  const report = REPORTS.find((r) => path === `/reports/${r}`);
  useEffect(() => {
    if (!report) navigate(`/reports/${REPORTS[0]}${location.search}`, true);
  }, [report]);
  if (!report) return null;

  const days = daysOf(query);
  const groupBy: GroupBy = (GROUPS as readonly string[]).includes(query.get('by') ?? '')
    ? (query.get('by') as GroupBy)
    : 'product';
  /** The same report with one choice changed (replacing the history entry: a choice is not a page). */
  const choose = (name: string, value: string) => {
    const next = new URLSearchParams(query);
    if (value) next.set(name, value);
    else next.delete(name);
    navigate(`/reports/${report}?${next}`, true);
  };
  const linkTo = (r: Report) => `/reports/${r}${query.toString() ? `?${query}` : ''}`;

  return (
    <div class="stack">
      <div class="row between wrap">
        <h1>{t('reports.title')}</h1>
        {DATED.has(report) && (
          <div class="field inline">
            <label for="report-range">{t('reports.range')}</label>
            <select id="report-range" value={days} onChange={(e) => choose('days', e.currentTarget.value)}>
              {RANGES.map((d) => (
                <option key={d} value={d}>
                  {t('reports.lastDays', { n: d })}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      <nav aria-label={t('reports.which')}>
        <ul class="tabs">
          {REPORTS.map((r) => (
            <li key={r}>
              <a
                href={`${BASE}${linkTo(r)}`}
                aria-current={r === report ? 'page' : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(linkTo(r));
                }}
              >
                {t(`reports.tab.${r}`)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {report === 'sales' ? (
        <SalesReportView days={days} groupBy={groupBy} onGroupBy={(g) => choose('by', g)} />
      ) : report === 'renewals' ? (
        <RenewalsReport sku={query.get('sku') ?? ''} onSku={(sku) => choose('sku', sku)} />
      ) : (
        <RedemptionReport days={days} />
      )}
    </div>
  );
}
