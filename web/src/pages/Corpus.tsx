import { useEffect, useState } from 'react';
import type { Messages } from '../i18n.js';

interface Interval {
  rate: number | null;
  low: number;
  high: number;
}

interface CorpusReport {
  states: { candidate: number; approved: number; blocked: number };
  foreign: { sources: { share: number | null; unknown: number } };
  sources: {
    id: string;
    name: string;
    state: string;
    licence: string;
    piLegalBasis: string;
    scan: null | { id: string; sampled: number; population: number; harmful: Interval; usable: boolean; certain: boolean; reason: string };
  }[];
  attention: { source: string; problem: string }[];
  running: { id: string; source: string; mode: string; shards: number; done: number; leased: number; items: number; createdAt: string }[];
  annotation: { batches: { batch: string; items: number; doubleAnnotated: number; pairs: { annotators: [string, string]; kappa: number | null }[]; accuracy: Interval & { successes: number; total: number } }[] };
}

const REFRESH_MS = 5000;

const pct = (x: number | null): string => (x === null || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(2)} %`);

/** The corpus section of the self-assessment: sources, scans and their verdicts, running scans, annotation QA. */
export function Corpus({ t }: { t: Messages }) {
  const [report, setReport] = useState<CorpusReport | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const load = () =>
      fetch('/api/corpus/report', { credentials: 'same-origin' })
        .then(async (r) => {
          if (!r.ok) throw new Error(((await r.json()) as { error?: { message?: string } }).error?.message ?? r.statusText);
          return (await r.json()) as CorpusReport;
        })
        .then((data) => live && (setReport(data), setError(null)))
        .catch((e: Error) => live && setError(e.message));
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);

  return (
    <section>
      <div className="toolbar">
        <h1>{t.corpus}</h1>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {report && (
        <>
          <div className="tiles">
            <div className="tile" data-stat="sources">
              <span>{t.corpusSources}</span>
              <strong>{report.sources.length}</strong>
            </div>
            <div className="tile" data-stat="approved">
              <span>{t.corpusApproved}</span>
              <strong>{report.states.approved}</strong>
            </div>
            <div className="tile" data-stat="candidate">
              <span>{t.corpusCandidate}</span>
              <strong>{report.states.candidate}</strong>
            </div>
            <div className="tile" data-stat="blocked">
              <span>{t.corpusBlocked}</span>
              <strong>{report.states.blocked}</strong>
            </div>
            <div className="tile" data-stat="foreign">
              <span>{t.corpusForeignShare}</span>
              <strong>{report.foreign.sources.share === null ? t.corpusUnknown : pct(report.foreign.sources.share)}</strong>
            </div>
          </div>
          {report.sources.length === 0 ? (
            <p>{t.corpusNoSources}</p>
          ) : (
            <table className="corpus-sources">
              <thead>
                <tr>
                  <th>{t.corpusSource}</th>
                  <th>{t.corpusState}</th>
                  <th>{t.corpusLicence}</th>
                  <th>{t.corpusPiBasis}</th>
                  <th>{t.corpusSampled}</th>
                  <th>{t.corpusHarmful}</th>
                  <th>{t.corpusVerdict}</th>
                </tr>
              </thead>
              <tbody>
                {report.sources.map((s) => (
                  <tr key={s.id} data-source={s.id}>
                    <td title={s.name}>{s.id}</td>
                    <td>{s.state}</td>
                    <td>{s.licence === 'unknown' ? <em>{t.corpusUnknown}</em> : s.licence}</td>
                    <td>{s.piLegalBasis === 'unknown' ? <em>{t.corpusUnknown}</em> : s.piLegalBasis}</td>
                    <td>{s.scan ? `${s.scan.sampled} / ${s.scan.population}` : '—'}</td>
                    <td>{s.scan ? `${pct(s.scan.harmful.rate)} (${pct(s.scan.harmful.low)} – ${pct(s.scan.harmful.high)})` : '—'}</td>
                    <td title={s.scan?.reason} data-verdict={s.scan ? (s.scan.usable ? 'usable' : 'not-usable') : 'none'}>
                      {s.scan ? (s.scan.usable ? t.corpusUsable : t.corpusNotUsable) : t.corpusNoScan}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {report.attention.length > 0 && (
            <>
              <h2>{t.corpusAttention}</h2>
              <ul className="warning">
                {report.attention.map((a, i) => (
                  <li key={i}>
                    {a.source}: {a.problem}
                  </li>
                ))}
              </ul>
            </>
          )}
          {report.running.length > 0 && (
            <>
              <h2>{t.corpusRunning}</h2>
              {report.running.map((r) => (
                <div key={r.id} data-scan={r.id}>
                  <span>
                    {r.id} ({r.source}, {r.mode}): {r.done}/{r.shards} {t.corpusShards}, {r.items} {t.corpusItems}
                  </span>
                  <progress max={r.shards} value={r.done} />
                </div>
              ))}
            </>
          )}
          {report.annotation.batches.length > 0 && (
            <>
              <h2>{t.corpusAnnotation}</h2>
              <table>
                <thead>
                  <tr>
                    <th>{t.corpusBatch}</th>
                    <th>{t.corpusItems}</th>
                    <th>{t.corpusDouble}</th>
                    <th>{t.corpusKappa}</th>
                    <th>{t.corpusAccuracy}</th>
                  </tr>
                </thead>
                <tbody>
                  {report.annotation.batches.map((b) => (
                    <tr key={b.batch}>
                      <td>{b.batch}</td>
                      <td>{b.items}</td>
                      <td>{b.doubleAnnotated}</td>
                      <td>{b.pairs.map((p) => `${p.annotators.join('/')} ${p.kappa === null ? '—' : p.kappa.toFixed(2)}`).join(', ') || '—'}</td>
                      <td>
                        {b.accuracy.successes}/{b.accuracy.total} {pct(b.accuracy.rate)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </section>
  );
}
