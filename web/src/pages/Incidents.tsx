import { useCallback, useEffect, useState } from 'react';
import type { Lang, Messages } from '../i18n.js';

interface IncidentSummary {
  ref: string;
  title: string;
  grade: string;
  gradeName: { zh: string; en: string };
  state: string;
  report: { hours: number | null; dueAt: string | null; basis: { zh: string; en: string }; reportedAt: string | null; overdue: boolean; reportedInTime: boolean | null };
  optimisationDue: string | null;
}

interface Incident extends IncidentSummary {
  description: string;
  source: string;
  sourceRef: string | null;
  risks: string[];
  users: string[];
  detectedAt: string;
  actions: { kind: string; at: string; actor: string; detail: Record<string, unknown> }[];
  stopGenerationReachesGateway?: boolean | null;
}

async function request<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const data = (await response.json().catch(() => null)) as (T & { error?: { message: string } }) | null;
  if (!response.ok || data === null) throw new Error(data?.error?.message ?? response.statusText);
  return data;
}

function clock(t: Messages['incidents'], r: IncidentSummary['report']): string {
  if (r.dueAt === null) return t.noClock;
  if (r.reportedAt) return `${t.reported} ${r.reportedAt.replace('T', ' ').slice(0, 16)}${r.reportedInTime === false ? ` (${t.late})` : ''}`;
  return `${t.due} ${r.dueAt.replace('T', ' ').slice(0, 16)}${r.overdue ? ` (${t.overdue})` : ''}`;
}

/** One action form: a few text fields posted as JSON to `/api/incidents/:ref/:action`. */
function ActionForm({ t, incident, action, fields, onDone }: { t: Messages['incidents']; incident: string; action: string; fields: { name: string; label: string; kind?: 'list' | 'number' | 'select'; options?: string[] }[]; onDone: (i: Incident) => void }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const submit = async (): Promise<void> => {
    const body: Record<string, unknown> = {};
    for (const f of fields) {
      const v = (values[f.name] ?? (f.kind === 'select' ? (f.options?.[0] ?? '') : '')).trim();
      if (v === '') continue;
      body[f.name] = f.kind === 'list' ? v.split(/[,，\n]/).map((s) => s.trim()).filter(Boolean) : f.kind === 'number' ? Number(v) : v;
    }
    try {
      onDone(await request<Incident>(`/api/incidents/${encodeURIComponent(incident)}/${action}`, body));
      setValues({});
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <form className="toolbar" data-action={action} onSubmit={(e) => (e.preventDefault(), void submit())}>
      <strong>{t.actions[action as keyof Messages['incidents']['actions']]}</strong>
      {fields.map((f) =>
        f.kind === 'select' ? (
          <select key={f.name} name={f.name} aria-label={f.label} value={values[f.name] ?? f.options?.[0]} onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}>
            {f.options?.map((o) => <option key={o}>{o}</option>)}
          </select>
        ) : (
          <input key={f.name} name={f.name} placeholder={f.label} value={values[f.name] ?? ''} onChange={(e) => setValues({ ...values, [f.name]: e.target.value })} />
        ),
      )}
      <button type="submit">{t.submit}</button>
      {error && <span className="error" role="alert">{error}</span>}
    </form>
  );
}

export function Incidents({ t: all, lang, canAct }: { t: Messages; lang: Lang; canAct: boolean }) {
  const t = all.incidents;
  const [list, setList] = useState<IncidentSummary[]>([]);
  // Who acted, by name: an action's actor is `operator:<id>`.
  const [operators, setOperators] = useState<Record<string, string>>({});
  useEffect(() => {
    request<{ operators: { id: string; name: string }[] }>('/api/desk/operators').then(
      (r) => setOperators(Object.fromEntries(r.operators.map((o) => [`operator:${o.id}`, o.name]))),
      () => undefined,
    );
  }, []);
  const [open, setOpen] = useState<Incident | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState({ title: '', description: '', grade: 'significant', caseRef: '' });

  const reload = useCallback(async () => {
    const page = await request<{ incidents: IncidentSummary[] }>('/api/incidents?limit=100');
    setList(page.incidents);
  }, []);
  useEffect(() => {
    reload().then(() => setError(null), (e: Error) => setError(e.message));
  }, [reload]);

  const show = async (ref: string): Promise<void> => setOpen(await request<Incident>(`/api/incidents/${encodeURIComponent(ref)}`));
  const updated = (i: Incident): void => {
    setOpen(i);
    void reload();
  };
  const create = async (): Promise<void> => {
    try {
      const source = draft.caseRef.trim() ? { kind: 'complaint', caseRef: draft.caseRef.trim() } : { kind: 'manual' };
      updated(await request<Incident>('/api/incidents', { title: draft.title, description: draft.description, grade: draft.grade, source }));
      setDraft({ title: '', description: '', grade: 'significant', caseRef: '' });
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <section>
      <h1>{t.title}</h1>
      {error && <p className="error" role="alert">{error}</p>}
      {canAct && (
        <form className="toolbar" data-action="open" onSubmit={(e) => (e.preventDefault(), void create())}>
          <input name="title" placeholder={t.fields.title} value={draft.title} onChange={(e) => setDraft({ ...draft, title: e.target.value })} />
          <input name="description" placeholder={t.fields.description} value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} />
          <select name="grade" aria-label={t.fields.grade} value={draft.grade} onChange={(e) => setDraft({ ...draft, grade: e.target.value })}>
            {['especially-major', 'major', 'significant', 'general'].map((g) => <option key={g} value={g}>{t.grades[g as keyof Messages['incidents']['grades']]}</option>)}
          </select>
          <input name="caseRef" placeholder={t.fields.caseRef} value={draft.caseRef} onChange={(e) => setDraft({ ...draft, caseRef: e.target.value })} />
          <button type="submit">{t.openIncident}</button>
        </form>
      )}
      <table className="audit incidents">
        <thead>
          <tr>
            <th>{t.ref}</th>
            <th>{t.state}</th>
            <th>{t.fields.grade}</th>
            <th>{t.clock}</th>
            <th>{t.fields.title}</th>
          </tr>
        </thead>
        <tbody>
          {list.map((i) => (
            <tr key={i.ref} data-ref={i.ref} className={i.report.overdue ? 'overdue' : ''}>
              <td>
                <button className="link" onClick={() => void show(i.ref).catch((e: Error) => setError(e.message))}>{i.ref}</button>
              </td>
              <td>{t.states[i.state as keyof Messages['incidents']['states']] ?? i.state}</td>
              <td>{i.gradeName[lang]}</td>
              <td>{clock(t, i.report)}</td>
              <td>{i.title}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.length === 0 && !error && <p>{t.none}</p>}
      {open && (
        <article className="incident" data-ref={open.ref}>
          <h2>
            {open.ref} · {open.title}
          </h2>
          <p>{open.description}</p>
          <p>
            {open.gradeName[lang]} · {clock(t, open.report)} · {open.report.basis[lang]}
          </p>
          {open.optimisationDue && <p>{t.optimisationDue}: {open.optimisationDue}</p>}
          {open.stopGenerationReachesGateway === false && <p className="warning">{t.libraryNotLoaded}</p>}
          <ol>
            {open.actions.map((a, i) => (
              <li key={i}>
                {a.at.replace('T', ' ').slice(0, 19)} · {t.actions[a.kind as keyof Messages['incidents']['actions']] ?? a.kind} · <span title={a.actor} data-actor={a.actor}>{operators[a.actor] ?? a.actor}</span>
              </li>
            ))}
          </ol>
          <a href={`/api/incidents/${encodeURIComponent(open.ref)}/export?format=md`}>{t.exportMd}</a> · <a href={`/api/incidents/${encodeURIComponent(open.ref)}/export`}>{t.exportJson}</a>
          {canAct && open.state !== 'closed' && (
            <>
              <ActionForm t={t} incident={open.ref} action="stop-generation" onDone={updated} fields={[{ name: 'terms', label: t.fields.terms, kind: 'list' }, { name: 'risk', label: t.fields.risk }]} />
              <ActionForm t={t} incident={open.ref} action="remove-outputs" onDone={updated} fields={[{ name: 'users', label: t.fields.users, kind: 'list' }]} />
              <ActionForm t={t} incident={open.ref} action="optimisation" onDone={updated} fields={[{ name: 'task', label: t.fields.task }, { name: 'workingDays', label: t.fields.workingDays, kind: 'number' }]} />
              <ActionForm t={t} incident={open.ref} action="user-measure" onDone={updated} fields={[{ name: 'user', label: t.fields.user }, { name: 'action', label: t.fields.measure, kind: 'select', options: ['warn', 'limit', 'suspend'] }, { name: 'minutes', label: t.fields.minutes, kind: 'number' }, { name: 'reason', label: t.fields.reason }]} />
              <ActionForm t={t} incident={open.ref} action="report" onDone={updated} fields={[{ name: 'authority', label: t.fields.authority }, { name: 'note', label: t.fields.note }]} />
              <ActionForm t={t} incident={open.ref} action="close" onDone={updated} fields={[{ name: 'summary', label: t.fields.summary }]} />
            </>
          )}
        </article>
      )}
    </section>
  );
}
