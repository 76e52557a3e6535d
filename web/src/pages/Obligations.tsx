import { useEffect, useMemo, useState } from 'react';
import { BINDING, CHECK, citation, describeAssumption, formatFigure } from '../../../src/rules/render.js';
import { api, type InstrumentInfo, type Obligation, type ObligationsResponse } from '../api.js';
import type { Lang, Messages } from '../i18n.js';
import '../audit-gap.css';

function today(): string {
  // The date in Beijing, as the server reckons it.
  return new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
}

function initialDate(): string {
  const on = new URLSearchParams(location.search).get('on');
  return on && /^\d{4}-\d{2}-\d{2}$/.test(on) ? on : today();
}

interface Filters {
  text: string;
  role: string;
  control: string;
  instrument: string;
}

function matches(o: Obligation, f: Filters, lang: Lang): boolean {
  if (f.role && o.role !== f.role) return false;
  if (f.control && o.control !== f.control) return false;
  if (f.instrument && o.instrument !== f.instrument) return false;
  if (f.text) {
    const needle = f.text.toLowerCase();
    const hay = `${o.id} ${o.summary.zh} ${o.summary.en} ${o.evidence[lang]}`.toLowerCase();
    if (!hay.includes(needle)) return false;
  }
  return true;
}

function groupByInstrument<T extends { instrument: string }>(items: T[]): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(item.instrument, [...(groups.get(item.instrument) ?? []), item]);
  return [...groups];
}

function Row({ o, instrument, lang, lead }: { o: Obligation; instrument: InstrumentInfo | undefined; lang: Lang; lead?: string }) {
  return (
    <tr data-obligation={o.id}>
      {lead !== undefined && <td>{lead}</td>}
      <td className="cite">{citation(o, instrument, lang)}</td>
      <td className={`binding binding-${o.binding}`}>{BINDING[o.binding][lang]}</td>
      <td className={`check check-${o.citationCheck}`}>{CHECK[o.citationCheck][lang]}</td>
      <td>
        {o.summary[lang]}
        {o.assumed && <small className="assumed"> [{describeAssumption(o.assumed, lang)}]</small>}
      </td>
      <td>{o.role}</td>
      <td>{formatFigure(o.deadline as Parameters<typeof formatFigure>[0], lang)}</td>
      <td>
        <span className={`control control-${o.control}`}>{o.control}</span>
      </td>
      <td className="evidence">{o.evidence[lang]}</td>
    </tr>
  );
}

export function Obligations({ t, lang }: { t: Messages; lang: Lang }) {
  const [date, setDate] = useState(initialDate);
  const [data, setData] = useState<ObligationsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filters, setFilters] = useState<Filters>({ text: '', role: '', control: '', instrument: '' });

  useEffect(() => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return;
    let live = true;
    api
      .obligations(date)
      .then((d) => live && (setData(d), setError(null)))
      .catch((e: Error) => live && setError(e.message));
    const url = new URL(location.href);
    url.searchParams.set('on', date);
    history.replaceState(null, '', url);
    return () => {
      live = false;
    };
  }, [date]);

  const instruments = useMemo(() => new Map((data?.instruments ?? []).map((i) => [i.id, i])), [data]);
  const shown = useMemo(() => (data ? data.obligations.filter((o) => matches(o, filters, lang)) : []), [data, filters, lang]);
  const upcoming = useMemo(() => (data ? data.upcoming.filter((o) => matches(o, filters, lang)) : []), [data, filters, lang]);
  const options = (key: 'role' | 'control' | 'instrument') => [...new Set((data?.obligations ?? []).map((o) => o[key]))].sort();
  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));
  const head = [t.citation, t.force, t.citationCheck, t.duty, t.role, t.deadline, t.control, t.evidence];

  return (
    <section>
      <div className="toolbar">
        <label>
          {t.date}
          <input type="date" name="on" value={date} onChange={(e) => setDate(e.target.value)} />
        </label>
        <input type="search" name="q" aria-label={t.search} placeholder={t.search} value={filters.text} onChange={(e) => set({ text: e.target.value })} />
        <select name="instrument" aria-label={t.allInstruments} value={filters.instrument} onChange={(e) => set({ instrument: e.target.value })}>
          <option value="">{t.allInstruments}</option>
          {options('instrument').map((id) => (
            <option key={id} value={id}>
              {instruments.get(id)?.short[lang] ?? id}
            </option>
          ))}
        </select>
        <select name="role" aria-label={t.allRoles} value={filters.role} onChange={(e) => set({ role: e.target.value })}>
          <option value="">{t.allRoles}</option>
          {options('role').map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
        <select name="control" aria-label={t.allControls} value={filters.control} onChange={(e) => set({ control: e.target.value })}>
          <option value="">{t.allControls}</option>
          {options('control').map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </div>
      {error && <p className="error" role="alert">{t.error}: {error}</p>}
      {!data && !error && <p>{t.loading}</p>}
      {data && (
        <>
          <p className="profile">
            {t.profile}: {data.profile.provider}
            {data.profile.service ? ` · ${data.profile.service}` : ''} · <code>{data.profile.source.split(/[\\/]/).pop()}</code>
          </p>
          <h1>
            {t.obligations} <small data-testid="count">{t.count(shown.length)}</small>
          </h1>
          {shown.length === 0 && <p>{t.none}</p>}
          {shown.length > 0 && (
            <nav className="jump" aria-label={t.allInstruments}>
              {groupByInstrument(shown).map(([id, items]) => (
                <a key={id} href={`#instrument-${id}`}>
                  {instruments.get(id)?.short[lang] ?? id} <small>{items.length}</small>
                </a>
              ))}
            </nav>
          )}
          {groupByInstrument(shown).map(([id, items]) => (
            <article key={id} className="instrument" data-instrument={id} id={`instrument-${id}`}>
              <h2>
                {instruments.get(id)?.name[lang] ?? id} <span className="status">{instruments.get(id)?.status}</span>
              </h2>
              <table>
                <thead>
                  <tr>{head.map((h) => <th key={h}>{h}</th>)}</tr>
                </thead>
                <tbody>
                  {items.map((o) => (
                    <Row key={o.id} o={o} instrument={instruments.get(id)} lang={lang} />
                  ))}
                </tbody>
              </table>
            </article>
          ))}
          {upcoming.length > 0 && (
            <article className="upcoming" data-section="upcoming">
              <h2>{t.upcoming}</h2>
              <table>
                <thead>
                  <tr>{[t.from, ...head].map((h) => <th key={h}>{h}</th>)}</tr>
                </thead>
                <tbody>
                  {upcoming.map((o) => (
                    <Row key={o.id} o={o} instrument={instruments.get(o.instrument)} lang={lang} lead={o.effective} />
                  ))}
                </tbody>
              </table>
            </article>
          )}
          {data.withoutItemisedDuties.length > 0 && (
            <article className="without-itemised" data-section="without-itemised">
              <h2>{t.withoutItemised}</h2>
              <ul>
                {data.withoutItemisedDuties.map((w) => (
                  <li key={w.instrument} data-instrument={w.instrument}>
                    <strong>{instruments.get(w.instrument)?.name[lang] ?? w.instrument}</strong> ({BINDING[w.binding][lang]}): {w.reason[lang]}
                  </li>
                ))}
              </ul>
            </article>
          )}
          {data.unknownFacts.length > 0 && (
            <article className="unknown-facts" data-section="unknown-facts">
              <h2>{t.unknownFacts}</h2>
              <ul>
                {data.unknownFacts.map((f) => (
                  <li key={f}>
                    <code>{f}</code>
                  </li>
                ))}
              </ul>
            </article>
          )}
          {data.excluded.length > 0 && (
            <article className="excluded" data-section="excluded">
              <h2>{t.excluded}</h2>
              <ul>
                {data.excluded.map((e) => (
                  <li key={e.instrument} data-instrument={e.instrument}>
                    <strong>{instruments.get(e.instrument)?.name[lang] ?? e.instrument}</strong>: {e.reason[lang]}
                  </li>
                ))}
              </ul>
            </article>
          )}
        </>
      )}
    </section>
  );
}
