import type React from 'react';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { citation, formatFigure } from '../../../src/rules/render.js';
import type { Bilingual, Figure } from '../api.js';
import type { Lang, Messages } from '../i18n.js';
import '../audit-gap.css';

type State = 'compliant' | 'non-compliant' | 'not-applicable';
type Basis = 'evidence' | 'control' | 'alternative' | 'profile' | 'missing';

interface Entry {
  id: string;
  instrument: string;
  article: number;
  clause?: string;
  summary: Bilingual;
  control: string;
  state: State;
  basis: Basis;
  evidence: string[];
  reason?: string;
  plan?: string;
  due?: string;
  justification?: string | Bilingual;
  figure: Figure | null;
  startDate: string | null;
  deadline: { start: string; date: string; estimated: boolean } | null;
  version: number;
  updatedAt: string | null;
  updatedBy: string | null;
}

interface Tally {
  compliant: number;
  'non-compliant': number;
  'not-applicable': number;
  total: number;
}

interface GapResponse {
  date: string;
  conclusion: 'compliant' | 'non-compliant';
  counts: Record<State, number>;
  entries: Entry[];
  progress: { byInstrument: (Tally & { instrument: string })[]; byControl: (Tally & { control: string })[] };
  instruments: { id: string; name: Bilingual; short: Bilingual }[];
}

interface Change {
  id: string;
  at: string;
  actorName: string;
  before: { entry: Record<string, unknown>; startDate: string | null } | null;
  after: { entry: Record<string, unknown>; startDate: string | null } | null;
}

function beijing(at: string): string {
  return new Date(Date.parse(at) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
}

async function getJson<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(path, { credentials: 'same-origin', ...init });
  const body = (await response.json().catch(() => null)) as (T & { error?: { message: string } }) | null;
  if (!response.ok || body === null) throw new Error(body?.error?.message ?? response.statusText);
  return body;
}

function stateName(t: Messages, state: State): string {
  return state === 'compliant' ? t.stateCompliant : state === 'non-compliant' ? t.stateNonCompliant : t.stateNotApplicable;
}

function basisName(t: Messages, basis: Basis): string {
  return { evidence: t.basisEvidence, control: t.basisControl, alternative: t.basisAlternative, profile: t.basisProfile, missing: t.basisMissing }[basis];
}

/** Share of duties with a decided state: recorded, met by a control or alternative, or ruled out. */
function assessed(entries: Entry[]): number {
  return entries.filter((e) => e.basis !== 'missing').length;
}

function Bar({ tally, label }: { tally: Tally; label: string }) {
  const pct = (n: number) => `${tally.total === 0 ? 0 : (100 * n) / tally.total}%`;
  return (
    <div className="bar" role="img" aria-label={label}>
      <span className="bar-ok" style={{ width: pct(tally.compliant) }} />
      <span className="bar-na" style={{ width: pct(tally['not-applicable']) }} />
      <span className="bar-bad" style={{ width: pct(tally['non-compliant']) }} />
    </div>
  );
}

/** One table of the progress by instrument or by control: a row per group, its duties counted by state. */
function ProgressTable({ t, caption, heading, kind, rows }: { t: Messages; caption: string; heading: string; kind: 'instrument' | 'control'; rows: (Tally & { id: string; label: string })[] }) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{heading}</th>
          <th scope="col">{t.stateCompliant}</th>
          <th scope="col">{t.stateNonCompliant}</th>
          <th scope="col">{t.stateNotApplicable}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id} {...{ [`data-progress-${kind}`]: r.id }}>
            <th scope="row">{r.label}</th>
            <td>{r.compliant}</td>
            <td>{r['non-compliant']}</td>
            <td>{r['not-applicable']}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Editor({ t, lang, entry, onSaved, onCancel }: { t: Messages; lang: Lang; entry: Entry; onSaved: () => void; onCancel: () => void }) {
  const [status, setStatus] = useState<State>(entry.basis === 'evidence' ? entry.state : 'compliant');
  const [evidence, setEvidence] = useState(entry.basis === 'evidence' ? entry.evidence.join('\n') : '');
  const [reason, setReason] = useState(entry.basis === 'evidence' ? (entry.reason ?? '') : '');
  const [plan, setPlan] = useState(entry.plan && entry.basis === 'evidence' ? entry.plan : '');
  const [due, setDue] = useState(entry.due ?? '');
  const [justification, setJustification] = useState(typeof entry.justification === 'string' ? entry.justification : '');
  const [start, setStart] = useState(entry.startDate ?? '');
  const [preview, setPreview] = useState<Entry['deadline']>(entry.deadline);
  const [error, setError] = useState<string | null>(null);
  const within = entry.figure?.kind === 'within';
  const key = entry.id.replace(/[^a-z0-9]/gi, '-');

  useEffect(() => {
    if (!within || !/^\d{4}-\d{2}-\d{2}$/.test(start)) return setPreview(null);
    let live = true;
    getJson<{ deadline: Entry['deadline'] }>(`/api/gap/deadline?id=${encodeURIComponent(entry.id)}&start=${start}`).then(
      (r) => live && setPreview(r.deadline),
      () => live && setPreview(null),
    );
    return () => {
      live = false;
    };
  }, [start, within, entry.id]);

  async function save(clear: boolean) {
    const lines = evidence.split('\n').map((l) => l.trim()).filter(Boolean);
    const value =
      status === 'compliant'
        ? { status, evidence: lines }
        : status === 'non-compliant'
          ? { status, reason: reason.trim(), plan: plan.trim(), ...(due ? { due } : {}), ...(lines.length > 0 ? { evidence: lines } : {}) }
          : { status, justification: justification.trim() };
    try {
      await getJson(`/api/gap/duties/${encodeURIComponent(entry.id)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ entry: clear ? null : value, startDate: start || null, expectedVersion: entry.version }),
      });
      onSaved();
    } catch (e) {
      setError((e as Error).message);
    }
  }

  return (
    <form
      className="editor"
      onSubmit={(e) => {
        e.preventDefault();
        void save(false);
      }}
    >
      <label>
        {t.state}
        <select name="status" value={status} onChange={(e) => setStatus(e.target.value as State)}>
          <option value="compliant">{t.stateCompliant}</option>
          <option value="non-compliant">{t.stateNonCompliant}</option>
          <option value="not-applicable">{t.stateNotApplicable}</option>
        </select>
      </label>
      {status !== 'not-applicable' && (
        <label>
          {t.evidenceLines}
          <textarea name="evidence" rows={2} value={evidence} onChange={(e) => setEvidence(e.target.value)} required={status === 'compliant'} />
        </label>
      )}
      {status === 'non-compliant' && (
        <>
          <label>
            {t.reason}
            <input name="reason" value={reason} onChange={(e) => setReason(e.target.value)} required />
          </label>
          <label>
            {t.plan}
            <input name="plan" value={plan} onChange={(e) => setPlan(e.target.value)} required />
          </label>
          <label>
            {t.dueDate}
            <input type="date" name="due" value={due} onChange={(e) => setDue(e.target.value)} />
          </label>
        </>
      )}
      {status === 'not-applicable' && (
        <label>
          {t.justification}
          <input name="justification" value={justification} onChange={(e) => setJustification(e.target.value)} required />
        </label>
      )}
      {within && (
        <label>
          {t.startDate} ({formatFigure(entry.figure as Parameters<typeof formatFigure>[0], lang)})
          <input type="date" name="start" value={start} onChange={(e) => setStart(e.target.value)} aria-describedby={`due-${key}`} />
        </label>
      )}
      {within && preview && (
        <p className="hint" id={`due-${key}`} data-testid="due-preview">
          {t.dueFromStart(formatFigure(entry.figure as Parameters<typeof formatFigure>[0], lang), preview.start, preview.date)}
          {preview.estimated ? t.estimated : ''}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="buttons">
        <button type="submit">{t.save}</button>
        <button type="button" onClick={onCancel}>
          {t.cancel}
        </button>
        {entry.basis === 'evidence' && (
          <button type="button" onClick={() => void save(true)}>
            {t.clearState}
          </button>
        )}
      </div>
    </form>
  );
}

function describe(state: Change['after'], t: Messages): string {
  if (!state) return '—';
  const e = state.entry;
  const status = stateName(t, e.status as State);
  const parts = [status, ...(Array.isArray(e.evidence) ? (e.evidence as string[]) : []), e.reason, e.plan, e.due, e.justification, state.startDate ? `${t.startDate} ${state.startDate}` : undefined];
  return parts.filter((p) => typeof p === 'string' && p !== '').join(' · ');
}

function History({ t, id }: { t: Messages; id: string }) {
  const [changes, setChanges] = useState<Change[] | null>(null);
  useEffect(() => {
    void getJson<{ changes: Change[] }>(`/api/gap/duties/${encodeURIComponent(id)}/history`).then((r) => setChanges(r.changes));
  }, [id]);
  if (!changes) return <p role="status">{t.loading}</p>;
  if (changes.length === 0) return <p className="hint">{t.noChanges}</p>;
  return (
    <ol className="changes">
      {changes.map((c) => (
        <li key={c.id}>
          <strong>{beijing(c.at)}</strong> · {c.actorName}
          <br />
          <small>
            {t.before}: {describe(c.before, t)}
          </small>
          <br />
          <small>
            {t.after}: {describe(c.after, t)}
          </small>
        </li>
      ))}
    </ol>
  );
}

function Duty({ t, lang, entry, instrument, canEdit, onSaved }: { t: Messages; lang: Lang; entry: Entry; instrument: GapResponse['instruments'][number] | undefined; canEdit: boolean; onSaved: () => void }) {
  const [editing, setEditing] = useState(false);
  const [showHistory, setShowHistory] = useState(false);
  const justification = typeof entry.justification === 'string' ? entry.justification : entry.justification?.[lang];
  const figure = formatFigure(entry.figure as Parameters<typeof formatFigure>[0], lang);
  return (
    <li className={`duty duty-${entry.state}`} data-duty={entry.id} data-state={entry.state} data-basis={entry.basis}>
      <div className="duty-head">
        <span className={`state state-${entry.state}`}>{stateName(t, entry.state)}</span>
        <span className="cite">{citation(entry as Parameters<typeof citation>[0], instrument, lang)}</span>
        <small className="basis">{basisName(t, entry.basis)}</small>
      </div>
      <p className="duty-summary">{entry.summary[lang]}</p>
      {(figure || entry.deadline) && (
        <p className="hint">
          {t.deadline}
          {lang === 'zh' ? '：' : ': '}
          {entry.deadline ? t.dueFromStart(figure, entry.deadline.start, entry.deadline.date) + (entry.deadline.estimated ? t.estimated : '') : figure}
        </p>
      )}
      {entry.basis === 'evidence' && entry.evidence.length > 0 && <p className="hint">{entry.evidence.join(' · ')}</p>}
      {entry.state === 'non-compliant' && entry.basis === 'evidence' && (
        <p className="hint">
          {t.reason}
          {lang === 'zh' ? '：' : ': '}
          {entry.reason} · {t.plan}
          {lang === 'zh' ? '：' : ': '}
          {entry.plan}
          {entry.due ? ` · ${t.dueDate}${lang === 'zh' ? '：' : ': '}${entry.due}` : ''}
        </p>
      )}
      {justification && entry.state === 'not-applicable' && <p className="hint">{justification}</p>}
      {entry.updatedBy && entry.updatedAt && <p className="hint">{t.updated(entry.updatedBy, beijing(entry.updatedAt))}</p>}
      <div className="buttons">
        {canEdit && !editing && (
          <button onClick={() => setEditing(true)} aria-label={`${t.edit} ${entry.id}`}>
            {t.edit}
          </button>
        )}
        <button onClick={() => setShowHistory((v) => !v)} aria-expanded={showHistory} aria-label={`${t.changeHistory} ${entry.id}`}>
          {t.changeHistory}
        </button>
      </div>
      {editing && (
        <Editor
          t={t}
          lang={lang}
          entry={entry}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            onSaved();
          }}
        />
      )}
      {showHistory && <History t={t} id={entry.id} />}
    </li>
  );
}

export function Gap({ t, lang, role }: { t: Messages; lang: Lang; role: 'admin' | 'reviewer' | 'auditor' }) {
  const [data, setData] = useState<GapResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [openIds, setOpenIds] = useState<Set<string>>(() => new Set(new URLSearchParams(location.search).get('open')?.split(',').filter(Boolean) ?? []));
  const canEdit = role !== 'auditor';

  const load = useCallback(() => {
    getJson<GapResponse>('/api/gap').then(
      (d) => (setData(d), setError(null)),
      (e: Error) => setError(e.message),
    );
  }, []);
  useEffect(load, [load]);
  useEffect(() => {
    document.title = `${t.gapTitle} · hegui`;
  }, [t]);
  useEffect(() => {
    const url = new URL(location.href);
    if (openIds.size > 0) url.searchParams.set('open', [...openIds].join(','));
    else url.searchParams.delete('open');
    history.replaceState(history.state, '', url);
  }, [openIds]);

  const instruments = useMemo(() => new Map((data?.instruments ?? []).map((i) => [i.id, i])), [data]);
  const groups = useMemo(() => {
    const map = new Map<string, Entry[]>();
    for (const e of data?.entries ?? []) map.set(e.instrument, [...(map.get(e.instrument) ?? []), e]);
    return [...map];
  }, [data]);
  const colon = lang === 'zh' ? '：' : ': ';
  const [exportError, setExportError] = useState<string | null>(null);

  /** Fetches the export, so a server error (no Chromium for PDF) is shown instead of saved as a file. */
  async function download(e: React.MouseEvent<HTMLAnchorElement>, format: string) {
    e.preventDefault();
    const href = e.currentTarget.href;
    try {
      const response = await fetch(href, { credentials: 'same-origin' });
      if (!response.ok) {
        const body = (await response.json().catch(() => null)) as { error?: { message: string } } | null;
        throw new Error(body?.error?.message ?? response.statusText);
      }
      const link = document.createElement('a');
      link.href = URL.createObjectURL(await response.blob());
      link.download = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `hegui-gap.${format}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      setExportError(null);
    } catch (error) {
      setExportError(`${t.error}${colon}${(error as Error).message}`);
    }
  }

  if (error) {
    return (
      <p className="error" role="alert">
        {t.error}
        {colon}
        {error}
      </p>
    );
  }
  if (!data) return <p role="status">{t.loading}</p>;
  const total = data.entries.length;
  const all: Tally = { ...data.counts, total };
  return (
    <section className="gap-page">
      <h1>{t.gapTitle}</h1>
      <div className="gap-summary" data-testid="gap-summary">
        <div className="tiles">
          <div className="tile">
            <span>{t.stateCompliant}</span>
            <strong data-testid="count-compliant">{data.counts.compliant}</strong>
          </div>
          <div className="tile">
            <span>{t.stateNonCompliant}</span>
            <strong data-testid="count-non-compliant">{data.counts['non-compliant']}</strong>
          </div>
          <div className="tile">
            <span>{t.stateNotApplicable}</span>
            <strong>{data.counts['not-applicable']}</strong>
          </div>
          <div className="tile">
            <span>{t.conclusion}</span>
            <strong className={`state state-${data.conclusion}`}>{stateName(t, data.conclusion)}</strong>
          </div>
        </div>
        <p data-testid="progress">
          {t.progressTotal(assessed(data.entries), total)} · {t.date}
          {colon}
          <span className="nowrap">{data.date}</span>
        </p>
        <Bar tally={all} label={t.progressTotal(assessed(data.entries), total)} />
        <nav className="exports" aria-label={t.exportAs}>
          <span>{t.exportAs}</span>
          {(['md', 'docx', 'pdf'] as const).map((f) => (
            <a key={f} className="button" href={`/api/gap/export?format=${f}&lang=${lang}&on=${data.date}`} download data-format={f} onClick={(e) => void download(e, f)}>
              {f === 'md' ? 'Markdown' : f.toUpperCase()}
            </a>
          ))}
        </nav>
        {exportError && (
          <p className="error" role="alert">
            {exportError}
          </p>
        )}
        {!canEdit && <p className="hint">{t.readOnly}</p>}
        <details className="progress-tables">
          <summary>
            {t.byInstrument} / {t.byControl}
          </summary>
          <div className="progress-grid">
            <ProgressTable
              t={t}
              caption={t.byInstrument}
              heading={t.citation}
              kind="instrument"
              rows={data.progress.byInstrument.map((r) => ({ ...r, id: r.instrument, label: instruments.get(r.instrument)?.short[lang] ?? r.instrument }))}
            />
            <ProgressTable t={t} caption={t.byControl} heading={t.control} kind="control" rows={data.progress.byControl.map((r) => ({ ...r, id: r.control, label: r.control }))} />
          </div>
        </details>
      </div>
      {groups.map(([id, entries]) => {
        const tally: Tally = { compliant: 0, 'non-compliant': 0, 'not-applicable': 0, total: entries.length };
        for (const e of entries) tally[e.state] += 1;
        return (
          <details
            key={id}
            className="gap-instrument"
            data-instrument={id}
            open={openIds.has(id)}
            onToggle={(e) => {
              const isOpen = (e.currentTarget as HTMLDetailsElement).open;
              setOpenIds((old) => {
                if (old.has(id) === isOpen) return old;
                const next = new Set(old);
                if (isOpen) next.add(id);
                else next.delete(id);
                return next;
              });
            }}
          >
            <summary>
              <span className="gap-instrument-name">{instruments.get(id)?.name[lang] ?? id}</span>
              <span className="gap-instrument-count">
                {stateName(t, 'compliant')} {tally.compliant} · {stateName(t, 'non-compliant')} {tally['non-compliant']} · {stateName(t, 'not-applicable')} {tally['not-applicable']}
              </span>
              <Bar tally={tally} label={`${instruments.get(id)?.short[lang] ?? id}: ${tally.compliant}/${tally.total}`} />
            </summary>
            {openIds.has(id) && (
              <ul className="duties">
                {entries.map((e) => (
                  <Duty key={e.id} t={t} lang={lang} entry={e} instrument={instruments.get(id)} canEdit={canEdit} onSaved={load} />
                ))}
              </ul>
            )}
          </details>
        );
      })}
    </section>
  );
}
