// When the buyer must be told. The renewal notice goes out a little earlier than the notice
// period requires (a tenth of it, at most an hour), so a timer firing late or a slow webhook
// does not make it short; a price change takes effect no sooner than that lead after it is
// announced, so every renewal charged at the new price was announced in time.
export function noticeLeadMs(noticeSeconds: number): number {
  const noticeMs = noticeSeconds * 1000;
  return noticeMs + Math.min(Math.round(noticeMs / 10), 3_600_000);
}
