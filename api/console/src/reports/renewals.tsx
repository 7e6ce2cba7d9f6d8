// Subscriptions (GET /v1/reports/subscriptions): the renewals due on each of the next 30 days
// with the revenue expected (bars and a line), the day-of-month peak of next charges, the
// renewal rate by period number per product and dunning recovery as tables; one product's
// cohort or all; the report's CSV. Days are counted in the operator's own time zone.
import { useEffect, useState } from 'preact/hooks';
import { downloadCsv, get } from '../api';
import { Notice, errorText } from '../components/messages';
import { formatCount, formatMoney, formatRate, majorUnits } from '../format';
import { type Lang, useLang, useT } from '../i18n';
import { COLOURS, ChartFigure, type Series } from './chart';

interface RenewalsDue {
  date: string;
  currency: string;
  subscriptions: number;
  expectedRevenueMinor: number;
}

interface Figures {
  asOf: string;
  timeZone: string;
  renewalsDue: RenewalsDue[];
  retention: { sku: string; period: number; reached: number; renewed: number; rate: number }[];
  dunning: {
    sku: string;
    entered: number;
    recovered: number;
    lost: number;
    retrying: number;
    recoveryRate: number | null;
  }[];
  dayOfMonth: { day: number; subscriptions: number }[];
  peakDay?: { day: number; subscriptions: number };
}

/** How far ahead the report counts renewals (the route's window). */
const WINDOW_DAYS = 30;

/** The browser's IANA zone, when it names one the API can take. */
function operatorTimeZone(): string | null {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return zone && zone !== 'Etc/Unknown' ? zone : null;
}

/** `at`'s calendar date in `timeZone`, as YYYY-MM-DD (the report's own date format). */
function dateIn(timeZone: string, at: number): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(at)
    .reduce<Record<string, string>>((all, p) => ({ ...all, [p.type]: p.value }), {});
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/** Every date of the report's window, from the day of `asOf` to the day 30 days on (both included). */
export function windowDates(asOf: string, timeZone: string): string[] {
  const first = dateIn(timeZone, Date.parse(asOf));
  const last = dateIn(timeZone, Date.parse(asOf) + WINDOW_DAYS * 86_400_000);
  const dates: string[] = [];
  for (let day = Date.parse(`${first}T00:00:00Z`); ; day += 86_400_000) {
    const date = new Date(day).toISOString().slice(0, 10);
    dates.push(date);
    if (date >= last) return dates;
  }
}

const shortDate = (lang: Lang, date: string) =>
  new Date(`${date}T00:00:00Z`).toLocaleDateString(lang === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: 'UTC',
    month: 'short',
    day: 'numeric',
  });

export function RenewalsReport(props: { sku: string; onSku: (sku: string) => void }) {
  const t = useT();
  const { lang } = useLang();
  const [figures, setFigures] = useState<Figures | null>(null);
  const [products, setProducts] = useState<{ sku: string; name: string }[]>([]);
  const [error, setError] = useState<string | null>(null);
  const zone = operatorTimeZone();
  const query = new URLSearchParams({ ...(zone ? { timeZone: zone } : {}), ...(props.sku ? { sku: props.sku } : {}) });
  const path = `/v1/reports/subscriptions?${query}`;
  useEffect(() => {
    get<{ products: { sku: string; name: string }[] }>('/v1/products')
      .then((p) => setProducts(p.products))
      .catch(() => undefined);
  }, []);
  useEffect(() => {
    setError(null);
    get<Figures>(path)
      .then(setFigures)
      .catch((err: unknown) => setError(errorText(t, err)));
  }, [path]);

  const csv = () =>
    downloadCsv(path, `subscriptions-${props.sku || 'all'}-${new Date().toISOString().slice(0, 10)}.csv`).catch(
      (err: unknown) => setError(errorText(t, err)),
    );

  return (
    <section class="stack" aria-labelledby="renewals-title">
      <div class="row between wrap">
        <h2 id="renewals-title">{t('renewals.title')}</h2>
        <div class="row wrap">
          <div class="field inline">
            <label for="renewals-sku">{t('renewals.product')}</label>
            <select id="renewals-sku" value={props.sku} onChange={(e) => props.onSku(e.currentTarget.value)}>
              <option value="">{t('renewals.allProducts')}</option>
              {products.map((p) => (
                <option key={p.sku} value={p.sku}>
                  {p.sku}
                </option>
              ))}
            </select>
          </div>
          <button type="button" onClick={() => void csv()} disabled={!figures}>
            {t('reports.csv')}
          </button>
        </div>
      </div>
      {error && <Notice kind="error" text={error} />}
      {figures && <RenewalFigures figures={figures} lang={lang} />}
    </section>
  );
}

function RenewalFigures(props: { figures: Figures; lang: Lang }) {
  const t = useT();
  const { figures, lang } = props;
  const dates = windowDates(figures.asOf, figures.timeZone);
  const currencies = [...new Set(figures.renewalsDue.map((r) => r.currency))];
  const due = (date: string, currency?: string) =>
    figures.renewalsDue.filter((r) => r.date === date && (currency === undefined || r.currency === currency));
  const count = (rows: RenewalsDue[]) => rows.reduce((n, r) => n + r.subscriptions, 0);
  const revenue = (rows: RenewalsDue[], currency: string) =>
    rows.filter((r) => r.currency === currency).reduce((n, r) => n + r.expectedRevenueMinor, 0);
  const revenueText = (rows: RenewalsDue[]) =>
    currencies
      .filter((c) => rows.some((r) => r.currency === c))
      .map((c) => formatMoney(lang, { minor: revenue(rows, c), currency: c }))
      .join(' + ') || '—';

  const series: Series[] = [
    { label: t('renewals.renewals'), values: dates.map((d) => count(due(d))), colour: COLOURS.primary },
    ...currencies.map((c) => ({
      label: t('renewals.expected', { currency: c }),
      values: dates.map((d) => majorUnits({ minor: revenue(due(d, c), c), currency: c })),
      colour: COLOURS.line,
      line: true,
    })),
  ];
  const peak = figures.peakDay;
  const days = Array.from({ length: 31 }, (_, i) => i + 1);
  const onDay = (day: number) => figures.dayOfMonth.find((d) => d.day === day)?.subscriptions ?? 0;

  return (
    <>
      <dl class="totals">
        <div class="panel stat">
          <dt>{t('renewals.dueTotal', { n: WINDOW_DAYS })}</dt>
          <dd data-figure="due">{formatCount(lang, count(figures.renewalsDue))}</dd>
          <dt>{t('renewals.expectedTotal')}</dt>
          <dd data-figure="expected">{revenueText(figures.renewalsDue)}</dd>
        </div>
        <div class="panel stat">
          <dt>{t('renewals.peak')}</dt>
          <dd data-figure="peak">
            {peak ? t('renewals.peakDay', { day: peak.day, n: formatCount(lang, peak.subscriptions) }) : '—'}
          </dd>
        </div>
      </dl>
      <ChartFigure
        id="renewals-due"
        title={t('renewals.dueChart', { n: WINDOW_DAYS })}
        labels={figures.renewalsDue.length === 0 ? [] : dates.map((d) => shortDate(lang, d))}
        series={series}
        unit={t('renewals.renewals')}
        whole
        lineUnit={currencies.join(', ')}
        empty={t('renewals.noneDue', { n: WINDOW_DAYS })}
        note={t('renewals.zone', { zone: figures.timeZone })}
      >
        <table>
          <thead>
            <tr>
              <th scope="col">{t('renewals.date')}</th>
              <th scope="col" class="num">
                {t('renewals.renewals')}
              </th>
              <th scope="col" class="num">
                {t('renewals.expectedRevenue')}
              </th>
            </tr>
          </thead>
          <tbody>
            {dates
              .filter((d) => due(d).length > 0)
              .map((d) => (
                <tr key={d} data-date={d}>
                  <td>{d}</td>
                  <td class="num" data-figure="renewals">
                    {formatCount(lang, count(due(d)))}
                  </td>
                  <td class="num" data-figure="expected">
                    {revenueText(due(d))}
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      </ChartFigure>
      <div class="charts">
        <ChartFigure
          id="day-of-month"
          title={t('renewals.dayOfMonth')}
          labels={figures.dayOfMonth.length === 0 ? [] : days.map(String)}
          series={[
            {
              label: t('renewals.subscriptions'),
              values: days.map(onDay),
              colour: days.map((d) => (peak && d === peak.day ? COLOURS.line : COLOURS.primary)),
            },
          ]}
          unit={t('renewals.subscriptions')}
          whole
          empty={t('renewals.noOpen')}
          note={t('renewals.ownCalendar')}
        >
          <table>
            <thead>
              <tr>
                <th scope="col">{t('renewals.day')}</th>
                <th scope="col" class="num">
                  {t('renewals.subscriptions')}
                </th>
              </tr>
            </thead>
            <tbody>
              {figures.dayOfMonth.map((d) => (
                <tr key={d.day}>
                  <td>{d.day}</td>
                  <td class="num">{formatCount(lang, d.subscriptions)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ChartFigure>
        <section class="panel" aria-labelledby="dunning-title">
          <h3 id="dunning-title">{t('renewals.dunning')}</h3>
          {figures.dunning.length === 0 ? (
            <p>{t('renewals.noDunning')}</p>
          ) : (
            <div class="table-wrap" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">SKU</th>
                    <th scope="col" class="num">
                      {t('renewals.entered')}
                    </th>
                    <th scope="col" class="num">
                      {t('renewals.recovered')}
                    </th>
                    <th scope="col" class="num">
                      {t('renewals.lost')}
                    </th>
                    <th scope="col" class="num">
                      {t('renewals.retrying')}
                    </th>
                    <th scope="col" class="num">
                      {t('renewals.recoveryRate')}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {figures.dunning.map((d) => (
                    <tr key={d.sku}>
                      <th scope="row">{d.sku}</th>
                      <td class="num">{formatCount(lang, d.entered)}</td>
                      <td class="num">{formatCount(lang, d.recovered)}</td>
                      <td class="num">{formatCount(lang, d.lost)}</td>
                      <td class="num">{formatCount(lang, d.retrying)}</td>
                      <td class="num">{formatRate(lang, d.recoveryRate)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <p class="hint">{t('renewals.dunningHint')}</p>
        </section>
      </div>
      <section class="panel" aria-labelledby="retention-title">
        <h3 id="retention-title">{t('renewals.retention')}</h3>
        {figures.retention.length === 0 ? (
          <p>{t('renewals.noRetention')}</p>
        ) : (
          <div class="table-wrap" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">SKU</th>
                  <th scope="col" class="num">
                    {t('renewals.period')}
                  </th>
                  <th scope="col" class="num">
                    {t('renewals.reached')}
                  </th>
                  <th scope="col" class="num">
                    {t('renewals.renewed')}
                  </th>
                  <th scope="col" class="num">
                    {t('renewals.rate')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {figures.retention.map((r) => (
                  <tr key={`${r.sku}-${r.period}`}>
                    <th scope="row">{r.sku}</th>
                    <td class="num">{r.period}</td>
                    <td class="num">{formatCount(lang, r.reached)}</td>
                    <td class="num">{formatCount(lang, r.renewed)}</td>
                    <td class="num">{formatRate(lang, r.rate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <p class="hint">{t('renewals.retentionHint')}</p>
      </section>
    </>
  );
}
