/**
 * The reviewer's side of the desk: the queue (filtered, in due-date order, paged) and a case
 * (history, internal notes, assignment, state changes, replies from templates, carrying out a
 * personal-information request). Auditors see everything and change nothing.
 */
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { CATEGORY_NAMES, KIND_NAMES, STATE_NAMES } from '../../../src/desk/model.js';
import type { OperatorInfo } from '../api.js';
import { type CaseDetail, type CaseSummary, deskApi } from '../desk-api.js';
import type { Lang, Messages } from '../i18n.js';

const name = (table: Record<string, { zh: string; en: string }>, key: string, lang: Lang): string => table[key]?.[lang] ?? key;

export function DeskQueue({ t, lang, onOpen }: { t: Messages; lang: Lang; onOpen: (reference: string) => void }) {
  const d = t.desk;
  const [filters, setFilters] = useState({ open: 'true', kind: '', state: '', assignee: '' });
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<{ cases: CaseSummary[]; total: number; totalCapped: boolean; nextCursor: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const cursor = cursors.at(-1) ?? null;

  useEffect(() => {
    const params = new URLSearchParams(Object.entries(filters).filter(([k, v]) => v !== '' && !(k === 'open' && filters.state !== '')));
    params.set('limit', '25');
    if (cursor) params.set('cursor', cursor);
    deskApi.queue(params).then(
      (p) => {
        setPage(p);
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  }, [filters, cursor]);

  const set = (patch: Partial<typeof filters>) => {
    setFilters((f) => ({ ...f, ...patch }));
    setCursors([null]);
  };

  return (
    <section data-desk-queue>
      <h1>{d.queue}</h1>
      <div className="toolbar">
        <label>
          {d.state}
          <select value={filters.state} onChange={(e) => set({ state: e.target.value })} name="state">
            <option value="">{d.all}</option>
            {Object.keys(STATE_NAMES).map((s) => (
              <option key={s} value={s}>
                {name(STATE_NAMES, s, lang)}
              </option>
            ))}
          </select>
        </label>
        <label>
          &nbsp;
          <select value={filters.open} onChange={(e) => set({ open: e.target.value })} name="open" disabled={filters.state !== ''}>
            <option value="true">{d.openCases}</option>
            <option value="false">{d.closedCases}</option>
          </select>
        </label>
        <label>
          {d.kind}
          <select value={filters.kind} onChange={(e) => set({ kind: e.target.value })} name="kind">
            <option value="">{d.all}</option>
            {Object.keys(KIND_NAMES).map((k) => (
              <option key={k} value={k}>
                {name(KIND_NAMES, k, lang)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {d.assignee}
          <select value={filters.assignee} onChange={(e) => set({ assignee: e.target.value })} name="assignee">
            <option value="">{d.all}</option>
            <option value="me">{d.mine}</option>
            <option value="none">{d.unassigned}</option>
          </select>
        </label>
        {page && <span className="hint">{d.total(page.total)}{page.totalCapped && '+'}</span>}
      </div>
      {error && <p className="error">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>{d.reference}</th>
            <th>{d.due}</th>
            <th>{d.state}</th>
            <th>{d.kind}</th>
            <th>{d.category}</th>
            <th>{d.assignee}</th>
          </tr>
        </thead>
        <tbody>
          {page?.cases.map((c) => (
            <tr key={c.reference} data-case={c.reference}>
              <td>
                <a
                  href={`#case=${encodeURIComponent(c.reference)}`}
                  onClick={(e) => {
                    e.preventDefault();
                    onOpen(c.reference);
                  }}
                >
                  {c.reference}
                </a>
              </td>
              <td>
                {c.dueDate}
                {c.dueEstimated && '~'} {c.paused && <span className="status">{d.paused}</span>} {c.escalation === 2 && <span className="status overdue">{d.overdue}</span>}
                {c.escalation === 1 && <span className="status">{d.escalated}</span>}
              </td>
              <td>{name(STATE_NAMES, c.state, lang)}</td>
              <td>{name(KIND_NAMES, c.kind, lang)}</td>
              <td>{name(CATEGORY_NAMES, c.category, lang)}</td>
              <td>{c.assigneeId ? c.assigneeId.slice(0, 8) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {page?.cases.length === 0 && <p>{d.none}</p>}
      <p>
        {cursors.length > 1 && <button onClick={() => setCursors([null])}>{d.first}</button>}{' '}
        {page?.nextCursor && (
          <button onClick={() => setCursors((c) => [...c, page.nextCursor])} data-next>
            {d.next}
          </button>
        )}
      </p>
    </section>
  );
}

export function DeskCase({ t, lang, reference, operator, onBack }: { t: Messages; lang: Lang; reference: string; operator: OperatorInfo; onBack: () => void }) {
  const d = t.desk;
  const [detail, setDetail] = useState<CaseDetail | null>(null);
  const [operators, setOperators] = useState<{ id: string; name: string }[]>([]);
  const [templates, setTemplates] = useState<{ id: string; title: { zh: string; en: string }; text: { zh: string; en: string } }[]>([]);
  const [replyText, setReplyText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const canAct = operator.role !== 'auditor';

  const load = useCallback(() => {
    deskApi.detail(reference).then(setDetail, (e: Error) => setError(e.message));
    deskApi.templates(reference).then((r) => setTemplates(r.templates), () => undefined);
  }, [reference]);
  useEffect(() => {
    load();
    deskApi.operators().then((r) => setOperators(r.operators), () => undefined);
  }, [load]);

  const act = (work: (data: FormData) => Promise<unknown>) => async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    setError(null);
    setNotice(null);
    try {
      const result = await work(new FormData(formElement));
      if (result && typeof result === 'object' && 'summary' in result) setNotice((result as { summary: { zh: string; en: string } }).summary[lang]);
      formElement.reset();
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  if (!detail) return error ? <p className="error">{error}</p> : <p>{t.loading}</p>;
  const who = (id: string | null) => operators.find((o) => o.id === id)?.name ?? (id ? id.slice(0, 8) : d.nobody);
  const replyLang = detail.language;
  return (
    <section data-desk-case={detail.reference}>
      <p>
        <button onClick={onBack}>{d.back}</button>
      </p>
      <h1>
        {detail.reference} <small>{name(KIND_NAMES, detail.kind, lang)} · {name(CATEGORY_NAMES, detail.category, lang)}</small>
      </h1>
      <p>
        {d.state}: <strong data-state>{name(STATE_NAMES, detail.state, lang)}</strong> · {d.due} <strong data-due>{detail.dueDate}</strong>
        {detail.dueEstimated && d.estimated} {detail.paused && <span className="status">{d.paused}</span>} · {d.assignee}: {who(detail.assigneeId)} · {detail.contactVerified ? d.verified : d.unverified}
        {detail.account && ` · ${detail.account}`}
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {notice && <p className="warning" data-notice>{notice}</p>}
      <div className="card wide">
        {detail.subject && <p className="pre" data-subject>{detail.subject}</p>}
        <p className="pre" data-text>
          {detail.text}
        </p>
        {detail.resolution && (
          <p className="pre">
            <strong>{d.outcome}:</strong> {detail.resolution}
          </p>
        )}
        {detail.files.length > 0 && (
          <ul>
            {detail.files.map((f) => (
              <li key={f.id}>
                <a href={`/api/desk/cases/${encodeURIComponent(detail.reference)}/files/${encodeURIComponent(f.id)}`} download={f.filename}>
                  {f.filename}
                </a>{' '}
                ({f.kind}, {f.contentType}, {f.size} B)
              </li>
            ))}
          </ul>
        )}
      </div>
      {canAct && detail.allowed.length > 0 && (
        <form className="toolbar" onSubmit={(e) => void act((f) => deskApi.transition(detail.reference, { to: String(f.get('to')), reason: String(f.get('reason') ?? ''), resolution: String(f.get('resolution') ?? '') || undefined }))(e)} data-transition>
          <label>
            {d.moveTo}
            <select name="to">
              {detail.allowed.map((s) => (
                <option key={s} value={s}>
                  {name(STATE_NAMES, s, lang)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {d.reason}
            <input name="reason" maxLength={2000} />
          </label>
          <label>
            {d.resolution}
            <textarea name="resolution" rows={2} maxLength={10000} />
          </label>
          <button type="submit">{d.apply}</button>
        </form>
      )}
      {canAct && detail.kind === 'pi' && detail.state === 'in-progress' && (
        <form onSubmit={(e) => void act(() => deskApi.carryOut(detail.reference))(e)} data-carry-out>
          <button type="submit">{d.carryOut}</button>
        </form>
      )}
      {canAct && detail.closedAt === null && (
        <form className="toolbar" onSubmit={(e) => void act((f) => deskApi.assign(detail.reference, String(f.get('operator')) || null))(e)} data-assign>
          <label>
            {d.assignee}
            <select name="operator" defaultValue={detail.assigneeId ?? ''}>
              <option value="">{d.nobody}</option>
              {operators.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">{d.assign}</button>
        </form>
      )}
      {canAct && detail.erasedAt === null && (
        <form
          className="card wide"
          onSubmit={(e) =>
            void act(async () => {
              await deskApi.reply(detail.reference, replyText);
              setReplyText('');
            })(e)
          }
          data-reply
        >
          <h2>{d.reply}</h2>
          <label>
            {d.template}
            <select onChange={(e) => setReplyText(templates.find((tpl) => tpl.id === e.target.value)?.text[replyLang] ?? '')} defaultValue="" name="template">
              <option value="">—</option>
              {templates.map((tpl) => (
                <option key={tpl.id} value={tpl.id}>
                  {tpl.title[lang]}
                </option>
              ))}
            </select>
          </label>
          <textarea name="reply" rows={4} value={replyText} onChange={(e) => setReplyText(e.target.value)} maxLength={10000} required />
          <button type="submit">{d.send}</button>
        </form>
      )}
      <h2>{d.messages}</h2>
      <ul className="messages">
        {detail.messages.map((m, i) => (
          <li key={i} className={m.direction}>
            <small>
              {m.direction === 'in' ? d.fromYou : d.fromUs} · {new Date(m.at).toLocaleString()}
            </small>
            <p className="pre">{m.text}</p>
          </li>
        ))}
      </ul>
      <h2>{d.notes}</h2>
      <ul data-notes>
        {detail.notes.map((n, i) => (
          <li key={i}>
            <small>
              {who(n.authorId)} · {new Date(n.at).toLocaleString()}
            </small>
            <p className="pre">{n.text}</p>
          </li>
        ))}
      </ul>
      {canAct && (
        <form className="toolbar" onSubmit={(e) => void act((f) => deskApi.note(detail.reference, String(f.get('note'))))(e)} data-note>
          <textarea name="note" rows={2} maxLength={10000} required />
          <button type="submit">{d.addNote}</button>
        </form>
      )}
      <h2>{d.history}</h2>
      <table data-history>
        <thead>
          <tr>
            <th>{t.time}</th>
            <th>{d.actor}</th>
            <th>{d.action}</th>
            <th>{d.reason}</th>
          </tr>
        </thead>
        <tbody>
          {detail.history.map((h, i) => (
            <tr key={i}>
              <td>{new Date(h.at).toLocaleString()}</td>
              <td>{h.actor.startsWith('operator:') ? who(h.actor.slice(9)) : h.actor}</td>
              <td>
                {h.action}
                {h.to ? ` → ${h.to}` : ''} {!h.public && <span className="hint">({d.internal})</span>}
              </td>
              <td className="pre">{h.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
