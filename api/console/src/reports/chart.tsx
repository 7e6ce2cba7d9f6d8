// A chart and its numbers: Chart.js draws bars (and lines) on a canvas, and the same figures
// sit in a table under a disclosure, for screen readers and for copying. Chart.js is
// tree-shaken to what the reports draw; it lives in the reports' chunk only.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  type ChartDataset,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { useT } from '../i18n';

Chart.register(
  BarController,
  BarElement,
  LineController,
  LineElement,
  PointElement,
  CategoryScale,
  LinearScale,
  Tooltip,
  Legend,
);

export const COLOURS = {
  primary: '#2f5fb3',
  cost: '#8c95a3',
  margin: '#1f6f3f',
  loss: '#b3261e',
  line: '#b35c00',
};

export interface Series {
  label: string;
  values: (number | null)[];
  /** One colour, or one per bar (a negative margin in red). */
  colour: string | string[];
  /** A line on the right-hand axis (`y1`), e.g. revenue over a count's bars. */
  line?: boolean;
}

/**
 * A chart of `series` over `labels`, titled, with its axes named; `children` is the table of
 * its numbers, shown under "The numbers". With no labels, `empty` instead of a chart.
 */
export function ChartFigure(props: {
  id: string;
  title: string;
  labels: string[];
  series: Series[];
  /** What the left axis counts (its title). */
  unit: string;
  /** The left axis counts whole things (renewals, subscriptions): no 0.5 on its ticks. */
  whole?: boolean;
  /** The right axis's title, when a series is a line. */
  lineUnit?: string;
  empty: string;
  /** A line under the chart (what it leaves out). */
  note?: string | undefined;
  /** The numbers as a table, under a disclosure (left out when a table beside the chart has them). */
  children?: ComponentChildren;
}) {
  const t = useT();
  const canvas = useRef<HTMLCanvasElement>(null);
  const signature = JSON.stringify([props.labels, props.series, props.unit, props.lineUnit, props.whole]);
  useEffect(() => {
    if (!canvas.current) return;
    const datasets = props.series.map((s): ChartDataset<'bar' | 'line', (number | null)[]> =>
      s.line
        ? {
            type: 'line',
            label: s.label,
            data: s.values,
            borderColor: s.colour,
            backgroundColor: s.colour,
            yAxisID: 'y1',
            pointRadius: 2,
          }
        : { type: 'bar', label: s.label, data: s.values, backgroundColor: s.colour, yAxisID: 'y' },
    );
    const config: ChartConfiguration<'bar' | 'line', (number | null)[], string> = {
      type: 'bar',
      data: { labels: props.labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: props.series.length > 1 } },
        scales: {
          y: {
            beginAtZero: true,
            title: { display: true, text: props.unit },
            ...(props.whole ? { ticks: { precision: 0 } } : {}),
          },
          ...(props.series.some((s) => s.line)
            ? {
                y1: {
                  beginAtZero: true,
                  position: 'right' as const,
                  grid: { drawOnChartArea: false },
                  title: { display: true, text: props.lineUnit ?? '' },
                },
              }
            : {}),
        },
      },
    };
    const chart = new Chart(canvas.current, config);
    return () => chart.destroy();
  }, [signature]);
  return (
    <figure class="panel chart" aria-labelledby={`${props.id}-title`} data-chart={props.id}>
      <figcaption id={`${props.id}-title`}>{props.title}</figcaption>
      {props.labels.length === 0 ? (
        <p>{props.empty}</p>
      ) : (
        <>
          <div class="canvas">
            <canvas ref={canvas} role="img" aria-label={props.title} />
          </div>
          {props.note && <p class="hint">{props.note}</p>}
          {props.children && (
            <details>
              <summary>{t('reports.numbers')}</summary>
              <div class="table-wrap" tabIndex={0}>
                {props.children}
              </div>
            </details>
          )}
        </>
      )}
    </figure>
  );
}

/** One series of bars with a two-column table: the redemption and stock charts. */
export function BarChart(props: {
  id: string;
  title: string;
  unit: string;
  rows: { label: string; value: number | null }[];
}) {
  const t = useT();
  return (
    <ChartFigure
      id={props.id}
      title={props.title}
      unit={props.unit}
      labels={props.rows.map((r) => r.label)}
      series={[
        {
          label: `${props.title} (${props.unit})`,
          values: props.rows.map((r) => r.value ?? 0),
          colour: COLOURS.primary,
        },
      ]}
      empty={t('reports.noData')}
    >
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
    </ChartFigure>
  );
}
