/**
 * The desk's public pages, open without sign-in: the intake form (/desk/new) and the private
 * status page (/desk/status#TOKEN; the token stays in the fragment, which browsers never send).
 */
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { CATEGORY_NAMES, KIND_NAMES } from '../../../src/desk/model.js';
import { deskApi, type DeskForm, type RequesterView } from '../desk-api.js';
import type { Lang, Messages } from '../i18n.js';

const name = (table: Record<string, { zh: string; en: string }>, key: string, lang: Lang): string => table[key]?.[lang] ?? key;

export function DeskIntake({ t, lang }: { t: Messages; lang: Lang }) {
  const d = t.desk;
  const [form, setForm] = useState<DeskForm | null>(null);
  const [kind, setKind] = useState('complaint');
  const [category, setCategory] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    deskApi.form().then(setForm, (e: Error) => setError(e.message));
  }, []);

  const categories = form ? (kind === 'pi' ? form.piRights : form.complaintCategories) : [];
  const firstCategory = categories[0] ?? '';
  useEffect(() => setCategory(firstCategory), [firstCategory]);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!form) return;
    const data = new FormData(event.currentTarget);
    const files = (data.getAll('evidence') as File[]).filter((f) => f.size > 0);
    setError(null);
    try {
      setBusy(form.powBits > 0 ? d.working : d.submitting);
      const apiKey = String(data.get('apiKey') ?? '');
      const filed = await deskApi.file(
        { kind, category, subject: String(data.get('subject') ?? ''), text: String(data.get('text') ?? ''), contact: String(data.get('contact') ?? ''), language: String(data.get('language') ?? lang), ...(apiKey ? { apiKey } : {}) },
        form.powBits,
      );
      for (const file of files) await deskApi.upload(filed.token, file);
      window.location.assign(`/desk/status#${filed.token}`);
    } catch (e) {
      setError((e as Error).message);
      setBusy(null);
    }
  }

  return (
    <section className="desk-public">
      <h1>{d.publicTitle}</h1>
      <p>
        <a href={`/desk/rules?lang=${lang}`}>{d.rules}</a>
        {form && ` · ${name(KIND_NAMES, 'complaint', lang)} ${form.limits.complaint} / ${name(KIND_NAMES, 'pi', lang)} ${form.limits.pi}`}
      </p>
      <form className="card wide" onSubmit={(e) => void submit(e)} data-intake>
        <label>
          {d.kind}
          <select name="kind" value={kind} onChange={(e) => setKind(e.target.value)}>
            {(form?.kinds ?? ['complaint', 'report', 'pi']).map((k) => (
              <option key={k} value={k}>
                {name(KIND_NAMES, k, lang)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {d.category}
          <select name="category" value={category} onChange={(e) => setCategory(e.target.value)}>
            {categories.map((c) => (
              <option key={c} value={c}>
                {name(CATEGORY_NAMES, c, lang)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {d.subject}
          <input name="subject" maxLength={2000} />
        </label>
        <label>
          {d.text}
          <textarea name="text" required maxLength={10000} rows={6} />
        </label>
        <label>
          {d.contact}
          <input name="contact" type="email" required maxLength={254} autoComplete="email" />
        </label>
        <label>
          {d.language}
          <select name="language" defaultValue={lang}>
            <option value="zh">中文</option>
            <option value="en">English</option>
          </select>
        </label>
        {kind === 'pi' && (
          <label>
            {d.apiKey}
            <input name="apiKey" type="password" autoComplete="off" maxLength={200} />
          </label>
        )}
        <label>
          {d.evidence} {form && <span className="hint">≤ {form.uploadMaxFiles} × {Math.round(form.uploadMaxBytes / 1024)} KiB · PNG JPEG GIF WebP PDF TXT</span>}
          <input name="evidence" type="file" multiple accept={form?.evidenceTypes.join(',')} />
        </label>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy !== null || !form}>
          {busy ?? d.submit}
        </button>
      </form>
    </section>
  );
}

export function DeskStatus({ t, lang }: { t: Messages; lang: Lang }) {
  const d = t.desk;
  const token = window.location.hash.slice(1);
  const [view, setView] = useState<RequesterView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);

  const load = useCallback(() => {
    deskApi.status(token).then(
      (v) => {
        setView(v);
        setMissing(false);
      },
      () => setMissing(true),
    );
  }, [token]);
  useEffect(load, [load]);

  const act = (work: () => Promise<unknown>) => async (event?: FormEvent<HTMLFormElement>) => {
    event?.preventDefault();
    setError(null);
    try {
      await work();
      event?.currentTarget?.reset?.();
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  if (missing) return <p role="alert" className="error">{d.notFound}</p>;
  if (!view) return <p>{t.loading}</p>;
  const closed = view.closedAt !== null;
  return (
    <section className="desk-public" data-status={view.state}>
      <h1>
        {d.reference} <span data-reference>{view.reference}</span>
      </h1>
      <p>
        {name(KIND_NAMES, view.kind, lang)} · {name(CATEGORY_NAMES, view.category, lang)} · {d.state}: <strong data-state>{view.stateName[lang]}</strong>
      </p>
      <p>
        {d.received} {new Date(view.receivedAt).toLocaleString()} · {d.due} <strong data-due>{view.dueDate}</strong>
        {view.dueEstimated && d.estimated}
        {view.paused && ` (${d.paused})`}
      </p>
      {!view.contactVerified && !closed && (
        <form className="card" onSubmit={(e) => void act(() => deskApi.verify(token, String(new FormData(e.currentTarget).get('code'))))(e)} data-verify>
          <p>{d.unverified}</p>
          <label>
            {d.code}
            <input name="code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} required />
          </label>
          <button type="submit">{d.verify}</button>
          <button type="button" onClick={() => void act(() => deskApi.resend(token))()}>
            {d.resend}
          </button>
        </form>
      )}
      {view.contactVerified && <p data-verified>{d.verified}</p>}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {view.resolution && (
        <div className="card wide" data-outcome>
          <h2>{d.outcome}</h2>
          <p className="pre">{view.resolution}</p>
        </div>
      )}
      <h2>{d.text}</h2>
      <p className="pre" data-text>
        {view.text}
      </p>
      {view.subject && <p className="pre">{view.subject}</p>}
      {view.files.length > 0 && (
        <>
          <h2>{d.files}</h2>
          <ul>
            {view.files.map((f) => (
              <li key={f.id}>
                {f.filename} ({Math.ceil(f.size / 1024)} KiB){' '}
                {f.kind === 'export' && (
                  <button onClick={() => void act(() => deskApi.download(token, f.id, f.filename))()} data-download={f.kind}>
                    {d.download}
                  </button>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
      <h2>{d.messages}</h2>
      <ul className="messages">
        {view.messages.map((m, i) => (
          <li key={i} className={m.direction} data-message={m.direction}>
            <small>
              {m.direction === 'in' ? d.fromYou : d.fromUs} · {new Date(m.at).toLocaleString()}
            </small>
            <p className="pre">{m.text}</p>
          </li>
        ))}
      </ul>
      {!closed && (
        <form className="card wide" onSubmit={(e) => void act(() => deskApi.message(token, String(new FormData(e.currentTarget).get('text'))))(e)}>
          <label>
            {d.yourMessage}
            <textarea name="text" required maxLength={10000} rows={3} />
          </label>
          <button type="submit">{d.send}</button>
        </form>
      )}
      <h2>{d.history}</h2>
      <ol data-history>
        {view.history.map((h, i) => (
          <li key={i}>
            {new Date(h.at).toLocaleString()} · {h.action}
            {h.toState ? ` → ${h.toState}` : ''}
            {h.text ? ` · ${h.text}` : ''}
          </li>
        ))}
      </ol>
      {!closed && (
        <button onClick={() => void act(() => deskApi.withdraw(token))()} data-withdraw>
          {d.withdraw}
        </button>
      )}
    </section>
  );
}
