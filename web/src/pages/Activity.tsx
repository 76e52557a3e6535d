import { useEffect, useState } from 'react';
import type { Messages } from '../i18n.js';

interface Stats {
  minutes: number;
  total: number;
  byType: { type: string; outcome: string | null; count: number }[];
  byRisk: { risk: string; outcome: string | null; count: number }[];
  latencyMs: { sample: number; p50: number | null; p90: number | null; p99: number | null };
}

const REFRESH_MS = 5000;

function sum<T extends { count: number }>(rows: T[], keep: (r: T) => boolean): number {
  return rows.filter(keep).reduce((n, r) => n + r.count, 0);
}

export function Activity({ t }: { t: Messages }) {
  const [minutes, setMinutes] = useState(60);
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const load = () =>
      fetch(`/api/audit/stats?minutes=${minutes}`, { credentials: 'same-origin' })
        .then(async (r) => {
          if (!r.ok) throw new Error(((await r.json()) as { error?: { message?: string } }).error?.message ?? r.statusText);
          return (await r.json()) as Stats;
        })
        .then((s) => live && (setStats(s), setError(null)))
        .catch((e: Error) => live && setError(e.message));
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [minutes]);

  const requests = stats ? sum(stats.byType, (r) => r.type === 'gateway.request') : 0;
  const blocked = stats ? sum(stats.byType, (r) => r.type === 'gateway.request' && r.outcome === 'block') : 0;
  const risks = stats ? [...new Set(stats.byRisk.map((r) => r.risk))].sort() : [];
  const ms = (v: number | null) => (v === null ? '—' : `${v.toFixed(1)} ms`);

  return (
    <section>
      <div className="toolbar">
        <h1>{t.activity}</h1>
        <select name="window" value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}>
          {[15, 60, 24 * 60, 7 * 24 * 60].map((m) => (
            <option key={m} value={m}>
              {t.lastMinutes(m)}
            </option>
          ))}
        </select>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {stats && (
        <>
          <div className="tiles">
            <div className="tile" data-stat="requests">
              <span>{t.requests}</span>
              <strong>{requests}</strong>
            </div>
            <div className="tile" data-stat="blocked">
              <span>{t.blocked}</span>
              <strong>{blocked}</strong>
            </div>
            <div className="tile" data-stat="p50">
              <span>p50</span>
              <strong>{ms(stats.latencyMs.p50)}</strong>
            </div>
            <div className="tile" data-stat="p99">
              <span>p99</span>
              <strong>{ms(stats.latencyMs.p99)}</strong>
            </div>
          </div>
          <article className="instrument">
            <h2>{t.blocksByRisk}</h2>
            {risks.length === 0 ? (
              <p>{t.noRisks}</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th>{t.risk}</th>
                    <th>{t.outcome}</th>
                    <th>{t.times}</th>
                  </tr>
                </thead>
                <tbody>
                  {stats.byRisk.map((r) => (
                    <tr key={`${r.risk}-${r.outcome}`} data-risk={r.risk}>
                      <td>{r.risk}</td>
                      <td>{r.outcome ?? '—'}</td>
                      <td>{r.count}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </article>
        </>
      )}
    </section>
  );
}
