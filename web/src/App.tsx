import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, onUnauthorized, type OperatorInfo, watchUnauthorized } from './api.js';
import { errorText, type Lang, messages, type Messages } from './i18n.js';
import { Account } from './pages/Account.js';
import { AuditLog } from './pages/AuditLog.js';
import { Labels } from './pages/Labels.js';
import { Obligations } from './pages/Obligations.js';
import { Profile } from './pages/Profile.js';
import { SignIn } from './pages/SignIn.js';
import { navigate, useLocation } from './router.js';

/** The pages, by path. `/` is the obligations page. */
const PAGES = ['obligations', 'profile', 'activity', 'audit', 'labels', 'account'] as const;
type Page = (typeof PAGES)[number];

function pageOf(path: string): Page | null {
  const name = path.replace(/^\/+|\/+$/g, '') || 'obligations';
  return (PAGES as readonly string[]).includes(name) ? (name as Page) : null;
}

const hrefOf = (page: Page): string => (page === 'obligations' ? '/' : `/${page}`);

function pageName(t: Messages, page: Page): string {
  return { obligations: t.obligations, profile: t.profileForm, activity: t.operations, audit: t.auditLog, labels: t.labels, account: t.account }[page];
}

/** Set when a sign-out could not reach the server: the next start ends that session first. */
const SIGN_OUT_PENDING = 'hegui.signOutPending';

function initialLang(): Lang {
  const saved = localStorage.getItem('hegui.lang');
  return saved === 'en' || saved === 'zh' ? saved : 'zh';
}

watchUnauthorized();

// The operations page and its chart library load when first opened.
const Activity = lazy(() => import('./pages/Activity.js').then((m) => ({ default: m.Activity })));

export function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const [operator, setOperator] = useState<OperatorInfo | null | undefined>(undefined);
  const [notice, setNotice] = useState<'expired' | null>(null);
  const [startError, setStartError] = useState<unknown>(null);
  const [menuOpen, setMenuOpen] = useState(false);
  const { path } = useLocation();
  const page = pageOf(path);
  const t = messages[lang];
  const signedIn = useRef(false);
  signedIn.current = Boolean(operator);

  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    localStorage.setItem('hegui.lang', lang);
  }, [lang]);

  useEffect(() => {
    const name = operator ? (page ? pageName(t, page) : t.notFound) : t.signIn;
    document.title = `${name} · ${t.title}`;
  }, [t, page, operator]);

  const start = useCallback(async () => {
    setStartError(null);
    try {
      if (localStorage.getItem(SIGN_OUT_PENDING)) {
        await api.signOut().catch((e: unknown) => {
          if (!(e instanceof ApiError)) throw e;
        });
        localStorage.removeItem(SIGN_OUT_PENDING);
        setOperator(null);
        return;
      }
      setOperator((await api.session()).operator);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setOperator(null);
      else if (localStorage.getItem(SIGN_OUT_PENDING)) setOperator(null);
      else setStartError(e);
    }
  }, []);

  useEffect(() => {
    void start();
  }, [start]);

  // Any 401 while signed in: back to sign-in on the same URL, so signing in returns to this page.
  useEffect(
    () =>
      onUnauthorized(() => {
        if (!signedIn.current) return;
        setOperator(null);
        setNotice('expired');
      }),
    [],
  );

  // The menu closes on every navigation.
  useEffect(() => setMenuOpen(false), [path]);

  const signOut = useCallback(() => {
    // Local state goes first and always; the server is told when it can be reached.
    localStorage.setItem(SIGN_OUT_PENDING, '1');
    setOperator(null);
    setNotice(null);
    navigate('/', { replace: true });
    api.signOut().then(
      () => localStorage.removeItem(SIGN_OUT_PENDING),
      (e: unknown) => {
        if (e instanceof ApiError) localStorage.removeItem(SIGN_OUT_PENDING);
      },
    );
  }, []);

  const onSignedIn = useCallback((o: OperatorInfo) => {
    localStorage.removeItem(SIGN_OUT_PENDING);
    setNotice(null);
    setOperator(o);
  }, []);

  const link = (target: Page, label: string) => (
    <a
      key={target}
      href={hrefOf(target)}
      aria-current={page === target ? 'page' : undefined}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(hrefOf(target));
      }}
    >
      {label}
    </a>
  );

  return (
    <div className="shell">
      <a className="skip" href="#main">
        {lang === 'zh' ? '跳到正文' : 'Skip to content'}
      </a>
      <header className={menuOpen ? 'open' : ''}>
        <strong className="brand">{t.title}</strong>
        {operator && (
          <button type="button" className="menu" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
            {t.menu}
          </button>
        )}
        {operator && (
          <nav id="nav" aria-label={t.mainNav}>
            {link('obligations', t.obligations)}
            {link('profile', t.profileForm)}
            {link('activity', t.operations)}
            {link('audit', t.auditLog)}
            {link('labels', t.labels)}
            {link('account', t.accountOf(operator.name, t.roles[operator.role] ?? operator.role))}
          </nav>
        )}
        <span className="spacer" />
        <div className="tools">
          <button type="button" lang={t.otherLang === 'en' ? 'en' : 'zh-CN'} onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>
            {t.otherLanguage}
          </button>
          {operator && (
            <button type="button" onClick={signOut}>
              {t.signOut}
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {operator === undefined && !startError && (
          <p className="loading" role="status">
            {t.loading}
          </p>
        )}
        {operator === undefined && Boolean(startError) && (
          <p className="error" role="alert">
            {errorText(t, startError)} <button onClick={() => void start()}>{t.retry}</button>
          </p>
        )}
        {operator === null && <SignIn t={t} notice={notice === 'expired' ? t.sessionExpired : null} onSignedIn={onSignedIn} />}
        {operator && !operator.hasPassword && page !== 'account' && (
          <p className="warning" role="alert">
            {t.noPasswordWarning} <button onClick={() => navigate('/account')}>{t.setPassword}</button>
          </p>
        )}
        {operator && page === null && (
          <p className="error" role="alert">
            {t.notFound} {link('obligations', t.obligations)}
          </p>
        )}
        {operator && page === 'obligations' && <Obligations t={t} lang={lang} />}
        {operator && page === 'profile' && <Profile t={t} lang={lang} />}
        {operator && page === 'activity' && (
          <Suspense
            fallback={
              <p className="loading" role="status">
                {t.loading}
              </p>
            }
          >
            <Activity t={t} lang={lang} />
          </Suspense>
        )}
        {operator && page === 'audit' && <AuditLog t={t} />}
        {operator && page === 'labels' && <Labels t={t} lang={lang} />}
        {operator && page === 'account' && <Account t={t} who={t.accountOf(operator.name, t.roles[operator.role] ?? operator.role)} hasPassword={operator.hasPassword} onSaved={() => setOperator({ ...operator, hasPassword: true })} />}
      </main>
    </div>
  );
}
