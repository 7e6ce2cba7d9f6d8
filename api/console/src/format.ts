// How the console writes times, money and durations, in the operator's language.
import type { Lang } from './i18n';

const locale = (lang: Lang) => (lang === 'zh' ? 'zh-CN' : 'en-GB');

export function formatTime(lang: Lang, iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(locale(lang), {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export interface Money {
  minor: number;
  currency: string;
}

export function formatMoney(lang: Lang, money: Money | null | undefined): string {
  if (!money) return '—';
  const format = new Intl.NumberFormat(locale(lang), { style: 'currency', currency: money.currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(money.minor / 10 ** digits);
}

/** "1 d 2 h", "12 min 3 s", "45 s": the two largest units, for ages and countdowns. */
export function formatDuration(lang: Lang, ms: number): string {
  const zh = lang === 'zh';
  const units: [number, string, string][] = [
    [86_400_000, zh ? '天' : ' d', ''],
    [3_600_000, zh ? '小时' : ' h', ''],
    [60_000, zh ? '分' : ' min', ''],
    [1_000, zh ? '秒' : ' s', ''],
  ];
  let rest = Math.max(0, Math.floor(ms / 1000) * 1000);
  const parts: string[] = [];
  for (const [size, name] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || (parts.length === 0 && size === 1_000)) parts.push(`${n}${name}`);
    if (parts.length === 2) break;
  }
  return parts.join(zh ? '' : ' ');
}

export const shortId = (id: string) => id.slice(0, 8);

/** Minor units as a number of major units (yuan, dollars) for a chart's axis: 1500 CNY → 15. */
export function majorUnits(money: Money): number {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency: money.currency }).resolvedOptions()
    .maximumFractionDigits;
  return money.minor / 10 ** (digits ?? 2);
}

/** A rate (0.1234) as a percentage with one decimal ("12.3 %"), or "—". */
export function formatRate(lang: Lang, rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return '—';
  return new Intl.NumberFormat(locale(lang), { style: 'percent', maximumFractionDigits: 1 }).format(rate);
}

export function formatCount(lang: Lang, n: number): string {
  return new Intl.NumberFormat(locale(lang)).format(n);
}
