// Redemptions and stock: redemption rate and median time to redeem per product, bad-key rate
// per source (GET /v1/reports/redemptions over the range), stock cover per SKU (the
// inventory's available keys over the range's daily deliveries); the report's CSV.
import { useEffect, useState } from 'preact/hooks';
import { downloadCsv, get } from '../api';
import { Notice, errorText } from '../components/messages';
import { useT } from '../i18n';
import { BarChart } from './chart';
import { rangeOf } from './range';

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

export function RedemptionReport(props: { days: number }) {
  const t = useT();
  const [report, setReport] = useState<Report | null>(null);
  const [cover, setCover] = useState<{ sku: string; days: number | null; available: number }[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const { from, to } = rangeOf(props.days);
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
              const perDay = (delivered.get(s.sku) ?? 0) / props.days;
              const available = s.counts.available ?? 0;
              return { sku: s.sku, available, days: perDay > 0 ? Math.round((available / perDay) * 10) / 10 : null };
            }),
        );
      })
      .catch((err: unknown) => setError(errorText(t, err)));
  }, [props.days]);

  const csv = () => {
    if (!report) return;
    downloadCsv(
      `/v1/reports/redemptions?from=${report.from}&to=${report.to}`,
      `redemptions-${report.from.slice(0, 10)}-${report.to.slice(0, 10)}.csv`,
    ).catch((err: unknown) => setError(errorText(t, err)));
  };

  const pct = (n: number | null) => (n === null ? null : Math.round(n * 1000) / 10);
  return (
    <section class="stack" aria-labelledby="redemptions-title">
      <div class="row between wrap">
        <h2 id="redemptions-title">{t('reports.redemptions')}</h2>
        <button type="button" onClick={csv} disabled={!report}>
          {t('reports.csv')}
        </button>
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
    </section>
  );
}
