// Sign-in with one's own API key (one per person: the audit log names the actor). The key is
// checked with GET /v1/me and kept in this tab's session storage only.
import { useState } from 'preact/hooks';
import { ApiError, get } from '../api';
import { LangSwitch } from '../app';
import { useT } from '../i18n';
import { type Me, session } from '../session';

export function SignInPage(props: { onSignedIn: (me: Me) => void }) {
  const t = useT();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (key: string) => {
    setBusy(true);
    setError(null);
    session.signIn(key);
    try {
      props.onSignedIn(await get<Me>('/v1/me'));
    } catch (err) {
      session.signOut();
      setError(err instanceof ApiError && err.status === 401 ? t('signin.bad') : t('signin.failed'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <div class="panel">
        <div class="row between">
          <h1>{t('app.title')}</h1>
          <LangSwitch />
        </div>
        <p>{t('signin.intro')}</p>
        <form
          class="stack"
          onSubmit={(e) => {
            e.preventDefault();
            const key = new FormData(e.currentTarget).get('apiKey');
            if (typeof key === 'string' && key.trim()) void submit(key.trim());
          }}
        >
          <label class="field">
            <span>{t('signin.key')}</span>
            <input name="apiKey" type="password" autoComplete="off" spellcheck={false} required />
          </label>
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" class="primary" disabled={busy}>
            {t('signin.submit')}
          </button>
        </form>
      </div>
    </main>
  );
}
