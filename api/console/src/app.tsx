// The console's shell: sign-in, the role's navigation, the language switch, and the view the
// path names. Who the operator is comes from GET /v1/me with the key in session storage.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get } from './api';
import { type Lang, LangContext, initialLang, rememberLang, translate, useLang, useT } from './i18n';
import { OperationsPage } from './pages/operations';
import { ReviewsPage } from './pages/reviews';
import { SignInPage } from './pages/signin';
import { SupportPage } from './pages/support';
import { type View, VIEWS_OF, mayOpen } from './roles';
import { BASE, navigate, useLocation } from './router';
import { type Me, session } from './session';

export function App() {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = (next: Lang) => {
    rememberLang(next);
    setLangState(next);
  };
  useEffect(() => rememberLang(lang), []);
  useEffect(() => {
    document.title = translate(lang, 'app.title');
  }, [lang]);
  return (
    <LangContext.Provider value={{ lang, setLang }}>
      <Shell />
    </LangContext.Provider>
  );
}

function Shell() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(session.key() !== null);
  useEffect(() => {
    if (!session.key()) return;
    get<Me>('/v1/me')
      .then(setMe)
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 401) session.signOut();
      })
      .finally(() => setChecking(false));
  }, []);
  if (checking) return null;
  if (!me) return <SignInPage onSignedIn={setMe} />;
  return <Signed me={me} onSignOut={() => (session.signOut(), setMe(null), navigate('/', true))} />;
}

const PATHS: Record<View, string> = {
  reviews: '/reviews',
  support: '/support',
  operations: '/operations',
  reports: '/reports',
};

function Signed(props: { me: Me; onSignOut: () => void }) {
  const t = useT();
  const { path } = useLocation();
  const views = VIEWS_OF[props.me.role];
  const view = (Object.keys(PATHS) as View[]).find((v) => path === PATHS[v] || path.startsWith(`${PATHS[v]}/`));
  useEffect(() => {
    if (!view && views[0]) navigate(PATHS[views[0]], true);
  }, [view]);
  return (
    <div class="layout">
      <a class="skip" href="#main">
        {t('app.skip')}
      </a>
      <header class="top">
        <span class="brand">{t('app.title')}</span>
        <nav aria-label={t('app.nav')}>
          <ul>
            {views.map((v) => (
              <li key={v}>
                <a
                  href={`${BASE}${PATHS[v]}`}
                  aria-current={v === view ? 'page' : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(PATHS[v]);
                  }}
                >
                  {t(`nav.${v}`)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <LangSwitch />
          <span class="me">
            {props.me.name} · {t(`role.${props.me.role}`)}
          </span>
          <button type="button" class="ghost" onClick={props.onSignOut}>
            {t('app.signOut')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {views.length === 0 ? (
          <Refused message={t('app.noViews')} />
        ) : !view ? null : !mayOpen(props.me.role, view) ? (
          <Refused message={t('app.refused', { role: t(`role.${props.me.role}`) })} />
        ) : view === 'reviews' ? (
          <ReviewsPage me={props.me} />
        ) : view === 'support' ? (
          <SupportPage me={props.me} />
        ) : view === 'operations' ? (
          <OperationsPage />
        ) : (
          <LazyReports />
        )}
      </main>
    </div>
  );
}

/** The reports and their chart library load only when an admin opens them (a chunk of its own). */
function LazyReports() {
  const t = useT();
  const [Page, setPage] = useState<ComponentType | null>(null);
  useEffect(() => {
    void import('./pages/reports').then((m) => setPage(() => m.ReportsPage));
  }, []);
  return Page ? <Page /> : <p>{t('common.loading')}</p>;
}

function Refused(props: { message: string }) {
  const t = useT();
  return (
    <section class="panel refused">
      <h1>{t('app.refusedTitle')}</h1>
      <p>{props.message}</p>
    </section>
  );
}

export function LangSwitch() {
  const { lang, setLang } = useLang();
  const t = useT();
  const other: Lang = lang === 'zh' ? 'en' : 'zh';
  return (
    <button type="button" class="ghost lang" onClick={() => setLang(other)}>
      <span class="sr-only" lang={lang === 'zh' ? 'zh-CN' : 'en'}>
        {t('app.switchLanguage')}:{' '}
      </span>
      {other === 'zh' ? '中文' : 'English'}
    </button>
  );
}
