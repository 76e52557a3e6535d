import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, onUnauthorized, type OperatorInfo, watchUnauthorized } from './api.js';
import { errorText, type Lang, messages, type Messages } from './i18n.js';
import { Account } from './pages/Account.js';
import { AuditLog } from './pages/AuditLog.js';
import { Labels } from './pages/Labels.js';
import { Obligations } from './pages/Obligations.js';
import { Profile } from './pages/Profile.js';
import { Corpus } from './pages/Corpus.js';
import { DeskCase, DeskQueue } from './pages/DeskCases.js';
import { DeskIntake, DeskStatus } from './pages/DeskPublic.js';
import { Evaluation } from './pages/Evaluation.js';
import { Gap } from './pages/Gap.js';
import { Incidents } from './pages/Incidents.js';
import { Review } from './pages/Review.js';
import { SignIn } from './pages/SignIn.js';
import { navigate, useLocation } from './router.js';

/** The pages, by path. `/` is the obligations page. */
const PAGES = ['obligations', 'gap', 'profile', 'activity', 'audit', 'labels', 'desk', 'incidents', 'evaluation', 'review', 'corpus', 'account'] as const;
type Page = (typeof PAGES)[number];

function pageOf(path: string): Page | null {
  const name = path.replace(/^\/+|\/+$/g, '') || 'obligations';
  return (PAGES as readonly string[]).includes(name) ? (name as Page) : null;
}

const hrefOf = (page: Page): string => (page === 'obligations' ? '/' : `/${page}`);

function pageName(t: Messages, page: Page): string {
  return { obligations: t.obligations, gap: t.gap, profile: t.profileForm, activity: t.operations, audit: t.auditLog, labels: t.labels, desk: t.desk.nav, incidents: t.incidents.nav, evaluation: t.evaluation, review: t.reviewNav, corpus: t.corpus, account: t.account }[page];
}

/** The desk's public pages answer without sign-in. */
const PUBLIC_PAGE = window.location.pathname === '/desk/new' ? 'intake' : window.location.pathname === '/desk/status' ? 'status' : null;

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
  const [deskCase, setDeskCase] = useState<string | null>(null);
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
    // The desk's public pages need no session.
    if (!PUBLIC_PAGE) void start();
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
      data-nav={target}
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

  if (PUBLIC_PAGE) {
    return (
      <div className="shell">
        <header>
          <strong className="brand">{t.title}</strong>
          <span className="spacer" />
          <div className="tools">
            <button type="button" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>
              {t.otherLanguage}
            </button>
          </div>
        </header>
        <main id="main">{PUBLIC_PAGE === 'intake' ? <DeskIntake t={t} lang={lang} /> : <DeskStatus t={t} lang={lang} />}</main>
      </div>
    );
  }

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
            {link('gap', t.gap)}
            {link('profile', t.profileForm)}
            {link('activity', t.operations)}
            {link('audit', t.auditLog)}
            {link('labels', t.labels)}
            {link('desk', t.desk.nav)}
            {link('incidents', t.incidents.nav)}
            {link('evaluation', t.evaluation)}
            {link('review', t.reviewNav)}
            {link('corpus', t.corpus)}
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
        {operator && page === 'gap' && <Gap t={t} lang={lang} role={operator.role} />}
        {operator && page === 'audit' && <AuditLog t={t} lang={lang} role={operator.role} />}
        {operator && page === 'labels' && <Labels t={t} lang={lang} />}
        {operator && page === 'desk' && !deskCase && <DeskQueue t={t} lang={lang} onOpen={setDeskCase} />}
        {operator && page === 'desk' && deskCase && <DeskCase t={t} lang={lang} reference={deskCase} operator={operator} onBack={() => setDeskCase(null)} />}
        {operator && page === 'incidents' && <Incidents t={t} lang={lang} canAct={operator.role !== 'auditor'} />}
        {operator && page === 'evaluation' && <Evaluation t={t} lang={lang} />}
        {operator && page === 'corpus' && <Corpus t={t} />}
        {operator && page === 'review' && <Review t={t} canReview={operator.role === 'reviewer' || operator.role === 'admin'} />}
        {operator && page === 'account' && <Account t={t} who={t.accountOf(operator.name, t.roles[operator.role] ?? operator.role)} hasPassword={operator.hasPassword} onSaved={() => setOperator({ ...operator, hasPassword: true })} />}
      </main>
    </div>
  );
}
