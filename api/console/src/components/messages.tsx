// What the console says about itself: a polite live region for results, an alert for errors.
import { ApiError } from '../api';
import { type Translate, hasMessage } from '../i18n';

/** An API error in the operator's language when its code is known, with the API's own words. */
export function errorText(t: Translate, err: unknown): string {
  if (err instanceof ApiError) {
    const key = `error.${err.code}`;
    const known = hasMessage(key) ? t(key) : null;
    const detail = err.errors.length > 0 ? err.errors.map((e) => `${e.path}: ${e.message}`).join('; ') : err.message;
    return known ? `${known} (${detail})` : detail;
  }
  return err instanceof Error ? err.message : String(err);
}

export function Notice(props: { text: string | null; kind?: 'ok' | 'error' }) {
  if (props.kind === 'error') {
    return props.text ? (
      <p class="notice error" role="alert">
        {props.text}
      </p>
    ) : null;
  }
  return (
    <p class="notice ok" role="status" aria-live="polite">
      {props.text ?? ''}
    </p>
  );
}
