// Reports (admin): the redemption report as charts — redemption rate and median time to redeem
// per product, bad-key rate per source — and stock cover per SKU, each chart with its numbers
// in a table for screen readers and for copying; the report's CSV for download.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  Legend,
  LinearScale,
  Tooltip,
} from 'chart.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { downloadCsv, get } from '../api';
import { Notice, errorText } from '../components/messages';
import { useT } from '../i18n';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

interface Figures {
  delivered: number;
  redeemed: number;
  redemptionRate: number | null;
  medianSecondsToRedeem: number | null;
  badKeyRate: number | null;
}

interface Report {
  from: string;
  to: string;
  byProduct: (Figures & { sku: string })[];
  bySource: (Figures & { source: { kind: string; name: string | null } })[];
}

const RANGES = [7, 30, 90] as const;

function rangeOf(days: number) {
  const to = new Date();
  return { from: new Date(to.getTime() - days * 86_400_000).toISOString(), to: to.toISOString() };
}

export function ReportsPage() {
  const t = useT();
  const [days, setDays] = useState<number>(30);
  const [report, setReport] = useState<Report | null>(null);
  const [cover, setCover] = useState<{ sku: string; days: number | null; available: number }[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const { from, to } = rangeOf(days);
    setError(null);
    Promise.all([
      get<Report>(`/v1/reports/redemptions?from=${from}&to=${to}`),
      get<{ inventory: { sku: string; counts: Partial<Record<string, number>> }[] }>('/v1/inventory'),
    ])
      .then(([r, inv]) => {
        setReport(r);
        const delivered = new Map(r.byProduct.map((p) => [p.sku, p.delivered]));
        setCover(
          inv.inventory
            .filter((s) => Object.keys(s.counts).length > 0)
            .map((s) => {
              const perDay = (delivered.get(s.sku) ?? 0) / days;
              const available = s.counts.available ?? 0;
              return { sku: s.sku, available, days: perDay > 0 ? Math.round((available / perDay) * 10) / 10 : null };
            }),
        );
      })
      .catch((err: unknown) => setError(errorText(t, err)));
  }, [days]);

  const csv = () => {
    const { from, to } = rangeOf(days);
    downloadCsv(
      `/v1/reports/redemptions?from=${from}&to=${to}`,
      `redemptions-${from.slice(0, 10)}-${to.slice(0, 10)}.csv`,
    ).catch((err: unknown) => setError(errorText(t, err)));
  };

  const pct = (n: number | null) => (n === null ? null : Math.round(n * 1000) / 10);
  return (
    <div class="stack">
      <div class="row between wrap">
        <h1>{t('reports.title')}</h1>
        <div class="row wrap">
          <div class="field inline">
            <label for="report-range">{t('reports.range')}</label>
            <select id="report-range" value={days} onChange={(e) => setDays(Number(e.currentTarget.value))}>
              {RANGES.map((d) => (
                <option key={d} value={d}>
                  {t('reports.lastDays', { n: d })}
                </option>
              ))}
            </select>
          </div>
          <button type="button" onClick={csv}>
            {t('reports.csv')}
          </button>
        </div>
      </div>
      {error && <Notice kind="error" text={error} />}
      {report && (
        <div class="charts">
          <BarChart
            id="redemption-rate"
            title={t('reports.redemptionRate')}
            unit="%"
            rows={report.byProduct.map((p) => ({ label: p.sku, value: pct(p.redemptionRate) }))}
          />
          <BarChart
            id="time-to-redeem"
            title={t('reports.timeToRedeem')}
            unit="h"
            rows={report.byProduct.map((p) => ({
              label: p.sku,
              value: p.medianSecondsToRedeem === null ? null : Math.round(p.medianSecondsToRedeem / 36) / 100,
            }))}
          />
          <BarChart
            id="bad-keys"
            title={t('reports.badKeys')}
            unit="%"
            rows={report.bySource.map((s) => ({
              label: s.source.name ?? s.source.kind,
              value: pct(s.badKeyRate),
            }))}
          />
          <BarChart
            id="stock-cover"
            title={t('reports.cover')}
            unit={t('reports.daysUnit')}
            rows={cover.map((c) => ({ label: c.sku, value: c.days }))}
          />
        </div>
      )}
      <p class="hint">{t('reports.notYet')}</p>
    </div>
  );
}

function BarChart(props: { id: string; title: string; unit: string; rows: { label: string; value: number | null }[] }) {
  const t = useT();
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const config: ChartConfiguration<'bar'> = {
      type: 'bar',
      data: {
        labels: props.rows.map((r) => r.label),
        datasets: [
          {
            label: `${props.title} (${props.unit})`,
            data: props.rows.map((r) => r.value ?? 0),
            backgroundColor: '#2f5fb3',
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, title: { display: true, text: props.unit } } },
      },
    };
    const chart = new Chart(canvas.current, config);
    return () => chart.destroy();
  }, [props.rows.map((r) => `${r.label}:${r.value}`).join('|')]);
  return (
    <figure class="panel chart" aria-labelledby={`${props.id}-title`}>
      <figcaption id={`${props.id}-title`}>{props.title}</figcaption>
      {props.rows.length === 0 ? (
        <p>{t('reports.noData')}</p>
      ) : (
        <>
          <div class="canvas">
            <canvas ref={canvas} role="img" aria-label={props.title} />
          </div>
          <details>
            <summary>{t('reports.numbers')}</summary>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('reports.label')}</th>
                  <th scope="col" class="num">
                    {props.unit}
                  </th>
                </tr>
              </thead>
              <tbody>
                {props.rows.map((r) => (
                  <tr key={r.label}>
                    <td>{r.label}</td>
                    <td class="num">{r.value ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </figure>
  );
}
