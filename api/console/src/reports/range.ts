// The date ranges the dated reports (sales, redemptions) offer: the last 7, 30 or 90 days up to
// now, named in the URL (`?days=`) so a report can be linked and reloaded as it was.
export const RANGES = [7, 30, 90] as const;
export const DEFAULT_DAYS = 30;

export function daysOf(query: URLSearchParams): number {
  const days = Number(query.get('days'));
  return (RANGES as readonly number[]).includes(days) ? days : DEFAULT_DAYS;
}

export function rangeOf(days: number, now = Date.now()): { from: string; to: string } {
  return { from: new Date(now - days * 86_400_000).toISOString(), to: new Date(now).toISOString() };
}
