import { useCallback, useEffect, useState } from 'react';
import type { Messages } from '../i18n.js';

interface AuditEvent {
  seq: number;
  at: string;
  type: string;
  actor: string;
  outcome: string | null;
  risks: string[];
  payload: Record<string, unknown>;
  hasContent: boolean;
  /** The tombstone when the content was redacted at a person's request. */
  redaction?: { request: string } | null;
}

interface Filters {
  from: string;
  to: string;
  type: string;
  actor: string;
  risk: string;
  outcome: string;
}

const EMPTY: Filters = { from: '', to: '', type: '', actor: '', risk: '', outcome: '' };

function summary(e: AuditEvent): string {
  const p = e.payload;
  const parts = [p.endpoint, p.model, p.status, typeof p.latencyMs === 'number' ? `${p.latencyMs} ms` : undefined];
  return parts.filter((x) => x !== undefined && x !== null).join(' · ');
}

export function AuditLog({ t, actor }: { t: Messages; actor?: string }) {
  const [filters, setFilters] = useState<Filters>({ ...EMPTY, actor: actor ?? '' });
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(
    async (from: string | null) => {
      const params = new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== ''));
      if (from) params.set('cursor', from);
      const response = await fetch(`/api/audit/events?${params}`, { credentials: 'same-origin' });
      const body = (await response.json()) as { events?: AuditEvent[]; nextCursor?: string | null; error?: { message: string } };
      if (!response.ok || !body.events) throw new Error(body.error?.message ?? response.statusText);
      setEvents((old) => (from ? [...old, ...body.events!] : body.events!));
      setCursor(body.nextCursor ?? null);
    },
    [filters],
  );

  useEffect(() => {
    load(null).then(
      () => setError(null),
      (e: Error) => setError(e.message),
    );
  }, [load]);

  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));

  return (
    <section>
      <h1>{filters.actor ? `${t.history}: ${filters.actor}` : t.auditLog}</h1>
      <div className="toolbar">
        <label>
          {t.fromDate}
          <input type="date" name="from" value={filters.from} onChange={(e) => set({ from: e.target.value })} />
        </label>
        <label>
          {t.toDate}
          <input type="date" name="to" value={filters.to} onChange={(e) => set({ to: e.target.value })} />
        </label>
        <input name="type" placeholder={t.eventType} value={filters.type} onChange={(e) => set({ type: e.target.value })} />
        <input name="actor" placeholder={t.actor} value={filters.actor} onChange={(e) => set({ actor: e.target.value })} />
        <input name="risk" placeholder={t.risk} value={filters.risk} onChange={(e) => set({ risk: e.target.value })} />
        <select name="outcome" value={filters.outcome} onChange={(e) => set({ outcome: e.target.value })}>
          <option value="">{t.allOutcomes}</option>
          {['pass', 'block', 'redact', 'review', 'error'].map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      <table className="audit">
        <thead>
          <tr>
            <th>#</th>
            <th>{t.time}</th>
            <th>{t.eventType}</th>
            <th>{t.actor}</th>
            <th>{t.outcome}</th>
            <th>{t.risk}</th>
            <th>{t.detail}</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.seq} data-seq={e.seq}>
              <td>{e.seq}</td>
              <td>{e.at.replace('T', ' ').slice(0, 19)}</td>
              <td>{e.type}</td>
              <td>
                <button className="link" onClick={() => set({ actor: e.actor })}>
                  {e.actor}
                </button>
              </td>
              <td>{e.outcome ?? '—'}</td>
              <td>{e.risks.join(', ')}</td>
              <td>
                {summary(e)}
                {e.redaction && <em className="redacted"> {t.redactedBy(e.redaction.request)}</em>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {events.length === 0 && !error && <p>{t.noEvents}</p>}
      {cursor && (
        <button onClick={() => void load(cursor).catch((e: Error) => setError(e.message))}>{t.more}</button>
      )}
    </section>
  );
}
