import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, type OperatorInfo } from './api.js';
import { type Lang, messages } from './i18n.js';
import { Account } from './pages/Account.js';
import { Activity } from './pages/Activity.js';
import { AuditLog } from './pages/AuditLog.js';
import { DeskCase, DeskQueue } from './pages/DeskCases.js';
import { DeskIntake, DeskStatus } from './pages/DeskPublic.js';
import { Incidents } from './pages/Incidents.js';
import { Evaluation } from './pages/Evaluation.js';
import { Labels } from './pages/Labels.js';
import { Obligations } from './pages/Obligations.js';
import { Profile } from './pages/Profile.js';
import { Review } from './pages/Review.js';
import { SignIn } from './pages/SignIn.js';

type Page = 'obligations' | 'profile' | 'activity' | 'audit' | 'labels' | 'desk' | 'incidents' | 'evaluation' | 'review' | 'account';

/** The desk's public pages answer without sign-in. */
const PUBLIC_PAGE = window.location.pathname === '/desk/new' ? 'intake' : window.location.pathname === '/desk/status' ? 'status' : null;

function initialLang(): Lang {
  const saved = localStorage.getItem('hegui.lang');
  return saved === 'en' || saved === 'zh' ? saved : 'zh';
}

export function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const [operator, setOperator] = useState<OperatorInfo | null | undefined>(undefined);
  const [page, setPage] = useState<Page>('obligations');
  const [deskCase, setDeskCase] = useState<string | null>(null);
  const t = messages[lang];

  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    localStorage.setItem('hegui.lang', lang);
  }, [lang]);

  useEffect(() => {
    if (PUBLIC_PAGE) return;
    api
      .session()
      .then((s) => setOperator(s.operator))
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 401) setOperator(null);
        else throw e;
      });
  }, []);

  const signOut = useCallback(async () => {
    await api.signOut();
    setOperator(null);
    setPage('obligations');
  }, []);

  if (PUBLIC_PAGE) {
    return (
      <div className="shell">
        <header>
          <strong>{t.title}</strong>
          <span className="spacer" />
          <button onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>{lang === 'zh' ? 'English' : '中文'}</button>
        </header>
        <main>{PUBLIC_PAGE === 'intake' ? <DeskIntake t={t} lang={lang} /> : <DeskStatus t={t} lang={lang} />}</main>
      </div>
    );
  }

  return (
    <div className="shell">
      <header>
        <strong>{t.title}</strong>
        {operator && (
          <nav>
            <button className={page === 'obligations' ? 'active' : ''} onClick={() => setPage('obligations')}>
              {t.obligations}
            </button>
            <button className={page === 'profile' ? 'active' : ''} onClick={() => setPage('profile')}>
              {t.profileForm}
            </button>
            <button className={page === 'activity' ? 'active' : ''} onClick={() => setPage('activity')}>
              {t.activity}
            </button>
            <button className={page === 'audit' ? 'active' : ''} onClick={() => setPage('audit')}>
              {t.auditLog}
            </button>
            <button className={page === 'labels' ? 'active' : ''} onClick={() => setPage('labels')}>
              {t.labels}
            </button>
            <button className={page === 'desk' ? 'active' : ''} onClick={() => setPage('desk')} data-nav="desk">
              {t.desk.nav}
            </button>
            <button className={page === 'incidents' ? 'active' : ''} onClick={() => setPage('incidents')}>
              {t.incidents.nav}
            </button>
            <button className={page === 'review' ? 'active' : ''} onClick={() => setPage('review')}>
              {t.reviewNav}
            </button>
            <button className={page === 'evaluation' ? 'active' : ''} onClick={() => setPage('evaluation')}>
              {t.evaluation}
            </button>
            <button className={page === 'account' ? 'active' : ''} onClick={() => setPage('account')}>
              {operator.name} ({operator.role})
            </button>
          </nav>
        )}
        <span className="spacer" />
        <button onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>
          {lang === 'zh' ? 'English' : '中文'}
        </button>
        {operator && <button onClick={() => void signOut()}>{t.signOut}</button>}
      </header>
      <main>
        {operator === undefined && <p>{t.loading}</p>}
        {operator === null && <SignIn t={t} onSignedIn={setOperator} />}
        {operator && !operator.hasPassword && page !== 'account' && (
          <p className="warning" role="alert">
            {t.noPasswordWarning} <button onClick={() => setPage('account')}>{t.setPassword}</button>
          </p>
        )}
        {operator && page === 'obligations' && <Obligations t={t} lang={lang} />}
        {operator && page === 'profile' && <Profile t={t} lang={lang} />}
        {operator && page === 'activity' && <Activity t={t} />}
        {operator && page === 'audit' && <AuditLog t={t} />}
        {operator && page === 'labels' && <Labels t={t} lang={lang} />}
        {operator && page === 'desk' && !deskCase && <DeskQueue t={t} lang={lang} onOpen={setDeskCase} />}
        {operator && page === 'desk' && deskCase && <DeskCase t={t} lang={lang} reference={deskCase} operator={operator} onBack={() => setDeskCase(null)} />}
        {operator && page === 'incidents' && <Incidents t={t} lang={lang} canAct={operator.role !== 'auditor'} />}
        {operator && page === 'review' && <Review t={t} canReview={operator.role === 'reviewer' || operator.role === 'admin'} />}
        {operator && page === 'evaluation' && <Evaluation t={t} lang={lang} />}
        {operator && page === 'account' && <Account t={t} hasPassword={operator.hasPassword} onSaved={() => setOperator({ ...operator, hasPassword: true })} />}
      </main>
    </div>
  );
}
