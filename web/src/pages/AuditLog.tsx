import { useCallback, useEffect, useRef, useState } from 'react';
import type { Lang, Messages } from '../i18n.js';
import '../audit-gap.css';

interface AuditEvent {
  seq: number;
  at: string;
  type: string;
  actor: string;
  /** The operator's or user's name, when the actor is one that still exists (from the page's `names`). */
  actorName?: string;
  outcome: string | null;
  risks: string[];
  payload: Record<string, unknown>;
  hasContent: boolean;
  /** The tombstone when the content was redacted at a person's request. */
  redaction?: { request: string } | null;
  hash: string;
}

interface Subject {
  subject: string;
  kind: 'user' | 'operator';
  id: string;
  name: string;
  disabled: boolean;
}

interface SubjectDetail {
  subject: string;
  name: string;
  kind: string;
  sanctions: { id: string; action: string; reason: string; createdAt: string; until: string | null; liftedAt: string | null; liftedBy: string | null }[];
}

interface Filters {
  from: string;
  to: string;
  typePrefix: string;
  actorContains: string;
  requestId: string;
  risk: string;
  outcome: string;
  subject: string;
}

const EMPTY: Filters = { from: '', to: '', typePrefix: '', actorContains: '', requestId: '', risk: '', outcome: '', subject: '' };
const KEYS = Object.keys(EMPTY) as (keyof Filters)[];
const OUTCOMES = ['pass', 'block', 'redact', 'review', 'error', 'warn', 'limit', 'suspend', 'lift', 'fail', 'locked', 'changed'];
const DEBOUNCE_MS = 300;

/** A UTC time as Beijing time, `YYYY-MM-DD HH:MM:SS` (the convention the server reads days in). */
export function beijing(at: string): string {
  return new Date(Date.parse(at) + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

function fromUrl(): Filters {
  const params = new URLSearchParams(location.search);
  return Object.fromEntries(KEYS.map((k) => [k, params.get(k) ?? ''])) as unknown as Filters;
}

function toUrl(filters: Filters): void {
  const url = new URL(location.href);
  for (const k of KEYS) {
    if (filters[k]) url.searchParams.set(k, filters[k]);
    else url.searchParams.delete(k);
  }
  history.replaceState(history.state, '', url);
}

/** `value`, once it has stopped changing for `ms`. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

async function getJson<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(path, { credentials: 'same-origin', ...init });
  const body = (await response.json().catch(() => null)) as (T & { error?: { message: string } }) | null;
  if (!response.ok || body === null) throw new Error(body?.error?.message ?? response.statusText);
  return body;
}

function summary(e: AuditEvent): string {
  const p = e.payload;
  const parts = [p.endpoint, p.model, p.status, typeof p.latencyMs === 'number' ? `${p.latencyMs} ms` : undefined, p.requestId, p.obligation, p.action, p.from && p.to ? `${beijing(String(p.from)).slice(0, 10)} – ${beijing(new Date(Date.parse(String(p.to)) - 1).toISOString()).slice(0, 10)}` : undefined, typeof p.events === 'number' ? `#${p.events}` : undefined];
  return parts.filter((x) => x !== undefined && x !== null && x !== '').join(' · ');
}

function UserSearch({ t, onPick }: { t: Messages; onPick: (s: Subject) => void }) {
  const [text, setText] = useState('');
  const q = useDebounced(text.trim(), DEBOUNCE_MS);
  const [found, setFound] = useState<Subject[] | null>(null);
  useEffect(() => {
    if (q === '') return setFound(null);
    let live = true;
    getJson<{ subjects: Subject[] }>(`/api/audit/subjects?q=${encodeURIComponent(q)}`).then(
      (r) => live && setFound(r.subjects),
      () => live && setFound([]),
    );
    return () => {
      live = false;
    };
  }, [q]);
  return (
    <div className="user-search">
      <label>
        {t.findUser}
        <input type="search" name="user" placeholder={t.findUserPlaceholder} value={text} onChange={(e) => setText(e.target.value)} autoComplete="off" />
      </label>
      {found && (
        <ul className="found" aria-label={t.findUser}>
          {found.length === 0 && <li>{t.noUsersFound}</li>}
          {found.map((s) => (
            <li key={s.subject}>
              <button
                className="link"
                onClick={() => {
                  onPick(s);
                  setText('');
                }}
              >
                {s.name}
              </button>{' '}
              <small>
                {s.kind === 'operator' ? 'operator' : ''} {s.id.slice(0, 8)}
              </small>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Drawer({ t, event, canSeeContent, onClose }: { t: Messages; event: AuditEvent; canSeeContent: boolean; onClose: () => void }) {
  const close = useRef<HTMLButtonElement>(null);
  const [content, setContent] = useState<{ text?: string; error?: string } | null>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    close.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      opener?.focus();
    };
  }, [onClose]);
  const outcome = event.outcome ? (t.outcomeNames[event.outcome] ?? event.outcome) : '—';
  return (
    <div className="drawer-backdrop" onClick={onClose}>
      <aside className="drawer" role="dialog" aria-modal="true" aria-labelledby="drawer-title" onClick={(e) => e.stopPropagation()}>
        <header>
          <h2 id="drawer-title">
            {t.eventDetail} #{event.seq}
          </h2>
          <button ref={close} onClick={onClose}>
            {t.close}
          </button>
        </header>
        <dl>
          <dt>{t.time}</dt>
          <dd>
            {beijing(event.at)} <small>{t.beijingTime}</small>
          </dd>
          <dt>{t.eventType}</dt>
          <dd>{event.type}</dd>
          <dt>{t.actor}</dt>
          <dd>
            {event.actorName && <>{event.actorName} </>}
            <span className="mono">{event.actor}</span>
          </dd>
          <dt>{t.outcome}</dt>
          <dd>{outcome}</dd>
          <dt>{t.risk}</dt>
          <dd>{event.risks.join(', ') || '—'}</dd>
          <dt>{t.hash}</dt>
          <dd className="mono">{event.hash}</dd>
        </dl>
        <h3>{t.payload}</h3>
        <pre className="payload">{JSON.stringify(event.payload, null, 2)}</pre>
        {event.redaction && <p className="hint redacted">{t.redactedBy(event.redaction.request)}</p>}
        {!event.hasContent && !event.redaction && <p className="hint">{t.noContent}</p>}
        {event.hasContent && !canSeeContent && <p className="hint">{t.contentHidden}</p>}
        {event.hasContent && canSeeContent && !content && (
          <button
            onClick={() =>
              getJson<{ content: unknown }>(`/api/audit/events/${event.seq}/content`).then(
                (r) => setContent({ text: JSON.stringify(r.content, null, 2) }),
                (e: Error) => setContent({ error: e.message }),
              )
            }
          >
            {t.showContent}
          </button>
        )}
        {content?.text && <pre className="payload" data-testid="content">{content.text}</pre>}
        {content?.error && (
          <p className="error" role="alert">
            {content.error}
          </p>
        )}
      </aside>
    </div>
  );
}

export function AuditLog({ t, lang, role }: { t: Messages; lang: Lang; role: 'admin' | 'reviewer' | 'auditor' }) {
  const [filters, setFilters] = useState<Filters>(fromUrl);
  const settled = useDebounced(filters, DEBOUNCE_MS);
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [subject, setSubject] = useState<SubjectDetail | null>(null);
  const [open, setOpen] = useState<AuditEvent | null>(null);
  const [verify, setVerify] = useState<{ busy: boolean; text?: string; ok?: boolean; findings?: string[] }>({ busy: false });
  const [exportState, setExportState] = useState<{ busy: boolean; text?: string; error?: boolean }>({ busy: false });
  const [withContent, setWithContent] = useState(false);
  const auditor = role === 'admin' || role === 'auditor';

  const load = useCallback(async (f: Filters, from: string | null) => {
    const params = new URLSearchParams(Object.entries(f).filter(([, v]) => v !== ''));
    if (from) params.set('cursor', from);
    setLoading(true);
    try {
      const body = await getJson<{ events: AuditEvent[]; nextCursor: string | null; names?: Record<string, string> }>(`/api/audit/events?${params}`);
      const named = body.events.map((e) => (body.names?.[e.actor] ? { ...e, actorName: body.names[e.actor] } : e));
      setEvents((old) => (from ? [...old, ...named] : named));
      setCursor(body.nextCursor);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
      if (!from) setEvents([]);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    toUrl(settled);
    void load(settled, null);
  }, [settled, load]);

  useEffect(() => {
    if (!settled.subject) return setSubject(null);
    let live = true;
    getJson<SubjectDetail>(`/api/audit/subjects/${encodeURIComponent(settled.subject)}`).then(
      (s) => live && setSubject(s),
      () => live && setSubject(null),
    );
    return () => {
      live = false;
    };
  }, [settled.subject]);

  useEffect(() => {
    document.title = `${subject ? t.historyOf(subject.name) : t.auditLog} · hegui`;
  }, [subject, t]);

  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));

  async function runVerify() {
    setVerify({ busy: true });
    try {
      const r = await getJson<{ ok: boolean; events: number; head: { seq: number }; findings: { kind?: string; seq?: number; message?: string }[] }>('/api/audit/verify', { method: 'POST' });
      setVerify({ busy: false, ok: r.ok, text: r.ok ? t.chainOk(r.events, r.head.seq) : t.chainDamaged(r.findings.length), findings: r.findings.map((f) => JSON.stringify(f)) });
    } catch (e) {
      setVerify({ busy: false, ok: false, text: (e as Error).message });
    }
  }

  async function runExport() {
    const from = filters.from || filters.to;
    const to = filters.to || filters.from;
    if (!from || !to) return setExportState({ busy: false, text: t.exportNeedsDates, error: true });
    setExportState({ busy: true });
    try {
      const response = await fetch('/api/audit/export', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from, to, ...(filters.subject ? { user: filters.subject } : {}), withContent }),
      });
      if (!response.ok) {
        const body = (await response.json().catch(() => null)) as { error?: { message: string } } | null;
        throw new Error(body?.error?.message ?? response.statusText);
      }
      const blob = await response.blob();
      const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'hegui-audit.tar';
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      setExportState({ busy: false, text: `${t.exported(Number(response.headers.get('x-hegui-events') ?? 0))}${lang === 'zh' ? '：' : ': '}${name}` });
    } catch (e) {
      setExportState({ busy: false, text: (e as Error).message, error: true });
    }
  }

  return (
    <section className="audit-page">
      <h1>{filters.subject ? `${t.history}${lang === 'zh' ? '：' : ': '}${subject?.name ?? filters.subject}` : t.auditLog}</h1>
      <p className="hint" data-testid="time-note">
        {t.timeNote}
      </p>
      <UserSearch t={t} onPick={(s) => set({ subject: s.subject, actorContains: '' })} />
      {filters.subject && (
        <div className="subject" data-testid="subject">
          <p>
            <strong>{subject?.name ?? filters.subject}</strong> <code>{filters.subject}</code> <button onClick={() => set({ subject: '' })}>{t.clearUser}</button>
          </p>
          <p className="hint">{t.historyRule}</p>
          {subject && subject.sanctions.length > 0 && (
            <>
              <h2>{t.sanctions}</h2>
              <ul>
                {subject.sanctions.map((s) => (
                  <li key={s.id}>
                    {beijing(s.createdAt)} · {t.outcomeNames[s.action] ?? s.action} · {s.reason}
                    {s.liftedAt ? ` · ${t.outcomeNames.lift}: ${beijing(s.liftedAt)}` : ''}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
      <form className="toolbar" onSubmit={(e) => e.preventDefault()} aria-label={t.auditLog}>
        <label>
          {t.fromDate} <small>({t.beijingTime})</small>
          <input type="date" name="from" value={filters.from} max={filters.to || undefined} onChange={(e) => set({ from: e.target.value })} />
        </label>
        <label>
          {t.toDate} <small>({t.beijingTime})</small>
          <input type="date" name="to" value={filters.to} min={filters.from || undefined} onChange={(e) => set({ to: e.target.value })} />
        </label>
        <label>
          {t.typePrefix}
          <input name="typePrefix" value={filters.typePrefix} onChange={(e) => set({ typePrefix: e.target.value })} />
        </label>
        <label>
          {t.actorContains}
          <input name="actorContains" value={filters.actorContains} onChange={(e) => set({ actorContains: e.target.value })} />
        </label>
        <label>
          {t.requestId}
          <input name="requestId" value={filters.requestId} onChange={(e) => set({ requestId: e.target.value })} />
        </label>
        <label>
          {t.risk}
          <input name="risk" value={filters.risk} onChange={(e) => set({ risk: e.target.value })} />
        </label>
        <label>
          {t.outcome}
          <select name="outcome" value={filters.outcome} onChange={(e) => set({ outcome: e.target.value })}>
            <option value="">{t.allOutcomes}</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {t.outcomeNames[o] ?? o}
              </option>
            ))}
          </select>
        </label>
      </form>
      {auditor && (
        <div className="toolbar actions">
          <button onClick={() => void runVerify()} disabled={verify.busy}>
            {verify.busy ? t.verifying : t.verifyChain}
          </button>
          <label className="inline">
            <input type="checkbox" checked={withContent} onChange={(e) => setWithContent(e.target.checked)} /> {t.exportWithContent}
          </label>
          <button onClick={() => void runExport()} disabled={exportState.busy}>
            {t.exportForAuthority}
          </button>
        </div>
      )}
      {verify.text && (
        <p className={verify.ok ? 'ok' : 'error'} role="status" data-testid="verify">
          {verify.text}
        </p>
      )}
      {exportState.text && (
        <p className={exportState.error ? 'error' : 'ok'} role="status" data-testid="export">
          {exportState.text}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {t.error}
          {lang === 'zh' ? '：' : ': '}
          {error}
        </p>
      )}
      <div className="table-scroll" tabIndex={0} role="region" aria-label={t.auditLog}>
        <table className="audit" aria-busy={loading}>
          <caption className="sr-only">
            {t.auditLog} · {t.beijingTime}
          </caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">
                {t.time} <small>({t.beijingTime})</small>
              </th>
              <th scope="col">{t.eventType}</th>
              <th scope="col">{t.actor}</th>
              <th scope="col">{t.outcome}</th>
              <th scope="col">{t.risk}</th>
              <th scope="col">{t.detail}</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.seq} data-seq={e.seq} data-type={e.type}>
                <td data-label="#">{e.seq}</td>
                <td data-label={t.time} className="nowrap">
                  {beijing(e.at)}
                </td>
                <td data-label={t.eventType}>{e.type}</td>
                <td data-label={t.actor} className="mono">
                  {/^(user|operator):/.test(e.actor) ? (
                    <button className="link" title={e.actor} data-actor={e.actor} onClick={() => set({ subject: e.actor, actorContains: '' })}>
                      {e.actorName ?? e.actor}
                    </button>
                  ) : (
                    e.actor
                  )}
                </td>
                <td data-label={t.outcome}>{e.outcome ? (t.outcomeNames[e.outcome] ?? e.outcome) : '—'}</td>
                <td data-label={t.risk}>{e.risks.join(', ')}</td>
                <td data-label={t.detail}>
                  <button className="link" onClick={() => setOpen(e)}>
                    {summary(e) || t.detail}
                    <span className="sr-only">
                      {' '}
                      ({t.eventDetail} #{e.seq})
                    </span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {loading && events.length === 0 && <p role="status">{t.loading}</p>}
      {!loading && events.length === 0 && !error && <p>{t.noEvents}</p>}
      {cursor && (
        <button onClick={() => void load(settled, cursor)} disabled={loading}>
          {t.more}
        </button>
      )}
      {open && <Drawer t={t} event={open} canSeeContent={auditor} onClose={() => setOpen(null)} />}
    </section>
  );
}
