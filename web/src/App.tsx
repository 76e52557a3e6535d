import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, type OperatorInfo } from './api.js';
import { type Lang, messages } from './i18n.js';
import { Account } from './pages/Account.js';
import { Activity } from './pages/Activity.js';
import { AuditLog } from './pages/AuditLog.js';
import { Corpus } from './pages/Corpus.js';
import { Labels } from './pages/Labels.js';
import { Obligations } from './pages/Obligations.js';
import { Profile } from './pages/Profile.js';
import { SignIn } from './pages/SignIn.js';

type Page = 'obligations' | 'profile' | 'activity' | 'audit' | 'labels' | 'corpus' | 'account';

function initialLang(): Lang {
  const saved = localStorage.getItem('hegui.lang');
  return saved === 'en' || saved === 'zh' ? saved : 'zh';
}

export function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const [operator, setOperator] = useState<OperatorInfo | null | undefined>(undefined);
  const [page, setPage] = useState<Page>('obligations');
  const t = messages[lang];

  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    localStorage.setItem('hegui.lang', lang);
  }, [lang]);

  useEffect(() => {
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
            <button className={page === 'corpus' ? 'active' : ''} onClick={() => setPage('corpus')}>
              {t.corpus}
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
        {operator && page === 'corpus' && <Corpus t={t} />}
        {operator && page === 'account' && <Account t={t} hasPassword={operator.hasPassword} onSaved={() => setOperator({ ...operator, hasPassword: true })} />}
      </main>
    </div>
  );
}
