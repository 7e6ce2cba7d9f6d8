// Sales and margin (GET /v1/reports/sales?from=&to=&groupBy=product|channel): revenue, cost and
// margin per product or per channel as bars (one chart per currency: amounts in different
// currencies do not share an axis), every figure in a table with the totals, and the CSV.
// A platform whose API does not serve the report yet (404) says so instead of failing.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, downloadCsv, get } from '../api';
import { Notice, errorText } from '../components/messages';
import { formatCount, formatMoney, formatRate, majorUnits, shortId } from '../format';
import { useLang, useT } from '../i18n';
import { COLOURS, ChartFigure } from './chart';
import { rangeOf } from './range';

export type GroupBy = 'product' | 'channel';
export const GROUPS: readonly GroupBy[] = ['product', 'channel'];

interface Figures {
  currency: string;
  orders: number;
  unitsDelivered: number;
  unitsRefunded: number;
  revenueMinor: number;
  costMinor: number;
  marginMinor: number;
  marginRate: number | null;
}

interface SalesRow extends Figures {
  /** The product's SKU, or the channel's client id. */
  key: string;
  /** The product's name, or the channel's client name. */
  label: string;
  unitsWithoutCost: number;
}

/** What names a row first: a product by its SKU (names repeat across SKUs), a channel by its name. */
const nameOf = (groupBy: GroupBy, r: SalesRow) => (groupBy === 'product' ? r.key : r.label);
const otherNameOf = (groupBy: GroupBy, r: SalesRow) => (groupBy === 'product' ? r.label : shortId(r.key));

interface SalesReport {
  from: string;
  to: string;
  groupBy: GroupBy;
  rows: SalesRow[];
  totals: Figures[];
}

export function SalesReportView(props: { days: number; groupBy: GroupBy; onGroupBy: (g: GroupBy) => void }) {
  const t = useT();
  const { lang } = useLang();
  const [report, setReport] = useState<SalesReport | 'missing' | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const { from, to } = rangeOf(props.days);
    setError(null);
    get<SalesReport>(`/v1/reports/sales?from=${from}&to=${to}&groupBy=${props.groupBy}`)
      .then(setReport)
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) setReport('missing');
        else setError(errorText(t, err));
      });
  }, [props.days, props.groupBy]);

  const csv = () => {
    if (!report || report === 'missing') return;
    downloadCsv(
      `/v1/reports/sales?from=${report.from}&to=${report.to}&groupBy=${report.groupBy}`,
      `sales-by-${report.groupBy}-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}.csv`,
    ).catch((err: unknown) => setError(errorText(t, err)));
  };

  const money = (minor: number, currency: string) => formatMoney(lang, { minor, currency });
  const ready = report !== null && report !== 'missing' ? report : null;
  const currencies = ready ? [...new Set(ready.rows.map((r) => r.currency))] : [];
  return (
    <section class="stack" aria-labelledby="sales-title">
      <div class="row between wrap">
        <h2 id="sales-title">{t('sales.title')}</h2>
        <div class="row wrap">
          <fieldset class="toggle">
            <legend class="sr-only">{t('sales.groupBy')}</legend>
            {GROUPS.map((g) => (
              <label key={g} class={props.groupBy === g ? 'on' : ''}>
                <input
                  type="radio"
                  name="sales-group"
                  value={g}
                  checked={props.groupBy === g}
                  onChange={() => props.onGroupBy(g)}
                />
                {t(`sales.by.${g}`)}
              </label>
            ))}
          </fieldset>
          <button type="button" onClick={csv} disabled={!ready}>
            {t('reports.csv')}
          </button>
        </div>
      </div>
      {error && <Notice kind="error" text={error} />}
      {report === 'missing' && <p class="notice warn">{t('sales.missing')}</p>}
      {ready && (
        <>
          <dl class="totals">
            {ready.totals.map((tot) => (
              <div key={tot.currency} class="panel stat">
                <dt>{t('sales.revenue')}</dt>
                <dd>{money(tot.revenueMinor, tot.currency)}</dd>
                <dt>{t('sales.cost')}</dt>
                <dd>{money(tot.costMinor, tot.currency)}</dd>
                <dt>{t('sales.margin')}</dt>
                <dd class={tot.marginMinor < 0 ? 'error' : ''}>
                  {money(tot.marginMinor, tot.currency)} ({formatRate(lang, tot.marginRate)})
                </dd>
                <dt>{t('sales.orders')}</dt>
                <dd>{formatCount(lang, tot.orders)}</dd>
              </div>
            ))}
          </dl>
          {ready.rows.length === 0 ? (
            <p>{t('sales.noSales')}</p>
          ) : (
            <div class={currencies.length > 1 ? 'charts' : ''}>
              {currencies.map((currency) => {
                const rows = ready.rows.filter((r) => r.currency === currency);
                return (
                  <SalesChart
                    key={currency}
                    id={`sales-${currency}`}
                    title={t(`sales.chart.${ready.groupBy}`, { currency })}
                    currency={currency}
                    groupBy={ready.groupBy}
                    rows={rows}
                  />
                );
              })}
            </div>
          )}
          {ready.rows.length > 0 && (
            <div class="panel">
              <div class="table-wrap" tabIndex={0}>
                <table class="sales">
                  <caption class="sr-only">{t('sales.table')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t(`sales.by.${ready.groupBy}`)}</th>
                      <th scope="col" class="num">
                        {t('sales.orders')}
                      </th>
                      <th scope="col" class="num">
                        {t('sales.delivered')}
                      </th>
                      <th scope="col" class="num">
                        {t('sales.refunded')}
                      </th>
                      <th scope="col" class="num">
                        {t('sales.revenue')}
                      </th>
                      <th scope="col" class="num">
                        {t('sales.cost')}
                      </th>
                      <th scope="col" class="num">
                        {t('sales.margin')}
                      </th>
                      <th scope="col" class="num">
                        {t('sales.marginRate')}
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {ready.rows.map((r) => (
                      <tr key={`${r.key}-${r.currency}`} data-key={r.key}>
                        <th scope="row">
                          {nameOf(ready.groupBy, r)}
                          <div class="hint">{otherNameOf(ready.groupBy, r)}</div>
                          {r.unitsWithoutCost > 0 && (
                            <div class="hint warn-text">{t('sales.withoutCost', { n: r.unitsWithoutCost })}</div>
                          )}
                        </th>
                        <td class="num" data-figure="orders">
                          {formatCount(lang, r.orders)}
                        </td>
                        <td class="num" data-figure="delivered">
                          {formatCount(lang, r.unitsDelivered)}
                        </td>
                        <td class="num" data-figure="refunded">
                          {formatCount(lang, r.unitsRefunded)}
                        </td>
                        <td class="num" data-figure="revenue">
                          {money(r.revenueMinor, r.currency)}
                        </td>
                        <td class="num" data-figure="cost">
                          {money(r.costMinor, r.currency)}
                        </td>
                        <td class={`num ${r.marginMinor < 0 ? 'error' : ''}`} data-figure="margin">
                          {money(r.marginMinor, r.currency)}
                        </td>
                        <td class="num" data-figure="margin-rate">
                          {formatRate(lang, r.marginRate)}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                  <tfoot>
                    {ready.totals.map((tot) => (
                      <tr key={tot.currency}>
                        <th scope="row">{t('sales.total', { currency: tot.currency })}</th>
                        <td class="num">{formatCount(lang, tot.orders)}</td>
                        <td class="num">{formatCount(lang, tot.unitsDelivered)}</td>
                        <td class="num">{formatCount(lang, tot.unitsRefunded)}</td>
                        <td class="num">{money(tot.revenueMinor, tot.currency)}</td>
                        <td class="num">{money(tot.costMinor, tot.currency)}</td>
                        <td class={`num ${tot.marginMinor < 0 ? 'error' : ''}`}>
                          {money(tot.marginMinor, tot.currency)}
                        </td>
                        <td class="num">{formatRate(lang, tot.marginRate)}</td>
                      </tr>
                    ))}
                  </tfoot>
                </table>
              </div>
              {ready.rows.some((r) => r.unitsWithoutCost > 0) && <p class="hint">{t('sales.withoutCostHint')}</p>}
            </div>
          )}
        </>
      )}
    </section>
  );
}

/** The most a chart shows: past a dozen, bars are too thin to read (the table has every row). */
const CHART_ROWS = 12;

/**
 * Revenue and cost side by side per row, the margin beside them (red when below zero): the
 * rows with the most revenue, the figures in the table under the chart.
 */
function SalesChart(props: { id: string; title: string; currency: string; groupBy: GroupBy; rows: SalesRow[] }) {
  const t = useT();
  const rows = [...props.rows].sort((a, b) => b.revenueMinor - a.revenueMinor).slice(0, CHART_ROWS);
  const major = (minor: number) => majorUnits({ minor, currency: props.currency });
  return (
    <ChartFigure
      id={props.id}
      title={props.title}
      unit={props.currency}
      labels={rows.map((r) => nameOf(props.groupBy, r))}
      series={[
        { label: t('sales.revenue'), values: rows.map((r) => major(r.revenueMinor)), colour: COLOURS.primary },
        { label: t('sales.cost'), values: rows.map((r) => major(r.costMinor)), colour: COLOURS.cost },
        {
          label: t('sales.margin'),
          values: rows.map((r) => major(r.marginMinor)),
          colour: rows.map((r) => (r.marginMinor < 0 ? COLOURS.loss : COLOURS.margin)),
        },
      ]}
      empty={t('sales.noSales')}
      note={
        props.rows.length > CHART_ROWS ? t('sales.topRows', { n: CHART_ROWS, total: props.rows.length }) : undefined
      }
    />
  );
}
