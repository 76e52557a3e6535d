import { type FormEvent, useCallback, useEffect, useMemo, useState } from 'react';
import { RISK_NAMES } from '../../../src/safety/taxonomy-text.js';
import { api, type ActivityBreakdown, type ActivityReport } from '../api.js';
import { type ChartLine, TimeChart } from '../chart.js';
import { beijing, errorText, type Lang, type Messages } from '../i18n.js';
import { Link } from '../link.js';
import { useQuery } from '../router.js';

/**
 * Operations: the gateway's traffic over a range in the URL (`?range=1h`, or
 * `?from=2026-12-04T09:00&to=2026-12-04T12:00` in Beijing time): requests, blocks, errors by
 * HTTP status, latency percentiles, breakdowns by model and upstream, risk hits and (apart)
 * sanctions, and the recent blocks, each linking into the audit log.
 */
const PRESETS: Record<string, number> = { '15m': 15, '1h': 60, '6h': 360, '24h': 1440, '7d': 10080, '30d': 43200 };
const DEFAULT_RANGE = '1h';
const REFRESH_MS = 10_000;
const COLORS = { requests: '#1f5f99', blocks: '#c0392b', p50: '#2e7d32', p90: '#b8860b', p99: '#8e24aa' };
const STATUS_COLORS = ['#c0392b', '#e67e22', '#8e24aa', '#6d4c41', '#00838f', '#ad1457', '#455a64'];
const ZONELESS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;

type RiskName = keyof typeof RISK_NAMES;

function riskLabel(code: string, lang: Lang): string {
  const name = (RISK_NAMES as Record<string, { zh: string; en: string } | undefined>)[code as RiskName];
  return name ? name[lang] : code;
}

/** The Beijing day (YYYY-MM-DD) of an instant: what the audit log's date filters take. */
const beijingDay = (iso: string): string => beijing(iso).slice(0, 10);

function pct(v: number | null, t: Messages): string {
  return v === null ? '—' : t.ms(v);
}

function Statuses({ statuses, t }: { statuses: Record<string, number>; t: Messages }) {
  const entries = Object.entries(statuses).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <>—</>;
  return (
    <span>
      {entries.map(([status, n]) => (
        <span key={status} className="pill" title={t.statusName[status]}>
          {status}
          {t.colon}
          {n}
        </span>
      ))}
    </span>
  );
}

function Breakdown({ title, rows, t, name }: { title: string; rows: ActivityBreakdown[]; t: Messages; name: string }) {
  return (
    <article className="panel" data-breakdown={name}>
      <h2 id={`h-${name}`}>{title}</h2>
      {rows.length === 0 ? (
        <p className="empty">{t.noTraffic}</p>
      ) : (
        <div className="table-scroll" role="region" aria-labelledby={`h-${name}`} tabIndex={0}>
          <table className="stack">
            <thead>
              <tr>
                <th scope="col">{name === 'model' ? t.model : t.upstream}</th>
                <th scope="col">{t.requests}</th>
                <th scope="col">{t.blocked}</th>
                <th scope="col">{t.errorsLabel}</th>
                <th scope="col">{t.statuses}</th>
                <th scope="col">{t.upstreamStatuses}</th>
                <th scope="col">p50</th>
                <th scope="col">p90</th>
                <th scope="col">p99</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.key ?? ''} data-key={r.key ?? ''}>
                  <td data-label={name === 'model' ? t.model : t.upstream}>{r.key ?? t.noneValue}</td>
                  <td data-label={t.requests}>{r.requests}</td>
                  <td data-label={t.blocked}>{r.blocks}</td>
                  <td data-label={t.errorsLabel}>{r.errors}</td>
                  <td data-label={t.statuses}>
                    <Statuses statuses={r.statuses} t={t} />
                  </td>
                  <td data-label={t.upstreamStatuses}>
                    <Statuses statuses={r.upstreamStatuses} t={t} />
                  </td>
                  <td data-label="p50" className="nowrap">{pct(r.latencyMs.p50, t)}</td>
                  <td data-label="p90" className="nowrap">{pct(r.latencyMs.p90, t)}</td>
                  <td data-label="p99" className="nowrap">{pct(r.latencyMs.p99, t)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </article>
  );
}

export function Activity({ t, lang }: { t: Messages; lang: Lang }) {
  const [query, setQuery] = useQuery();
  const range = query.get('range') ?? '';
  const from = query.get('from') ?? '';
  const to = query.get('to') ?? '';
  const custom = range === 'custom' || (range === '' && ZONELESS.test(from) && ZONELESS.test(to));
  const preset = custom ? null : (PRESETS[range] !== undefined ? range : DEFAULT_RANGE);
  const apiQuery = preset ? `minutes=${PRESETS[preset]}` : `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  // The report is kept with the query it answers: one for another range never shows for this one.
  const [loaded, setLoaded] = useState<{ key: string; report: ActivityReport } | null>(null);
  const report = loaded?.key === apiQuery ? loaded.report : null;
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const [draft, setDraft] = useState({ from, to });
  useEffect(() => setDraft({ from, to }), [from, to]);

  useEffect(() => {
    if (custom && !(ZONELESS.test(from) && ZONELESS.test(to))) {
      setLoading(false);
      return;
    }
    let live = true;
    const load = () => {
      setLoading(true);
      api.activity(apiQuery).then(
        (r) => {
          if (!live) return;
          setLoaded({ key: apiQuery, report: r });
          setError(null);
          setLoading(false);
        },
        (e: unknown) => {
          if (!live) return;
          setError(e);
          setLoading(false);
        },
      );
    };
    load();
    // A preset range moves with the clock; a custom one is fixed, refreshed on request.
    const timer = preset ? setInterval(load, REFRESH_MS) : undefined;
    return () => {
      live = false;
      if (timer) clearInterval(timer);
    };
  }, [apiQuery, preset, custom, from, to, tick]);


  const chooseRange = (value: string) => {
    if (value === 'custom') {
      const end = report ? beijing(report.to, false).replace(' ', 'T') : beijing(Date.now(), false).replace(' ', 'T');
      const start = report ? beijing(report.from, false).replace(' ', 'T') : beijing(Date.now() - 3600_000, false).replace(' ', 'T');
      setQuery({ range: 'custom', from: start, to: end });
    } else setQuery({ range: value === DEFAULT_RANGE ? null : value, from: null, to: null });
  };

  const applyCustom = (event: FormEvent) => {
    event.preventDefault();
    setQuery({ range: 'custom', from: draft.from, to: draft.to });
  };

  const refresh = useCallback(() => setTick((n) => n + 1), []);

  const charts = useMemo(() => {
    if (!report) return null;
    const s = report.series;
    const traffic: ChartLine[] = [
      { label: t.requests, values: s.requests, color: COLORS.requests },
      { label: t.blocked, values: s.blocks, color: COLORS.blocks, bars: true },
    ];
    const statuses = Object.keys(s.byStatus).sort();
    const errors: ChartLine[] = statuses.map((status, i) => ({ label: `${status} ${t.statusName[status] ?? ''}`.trim(), values: s.byStatus[status]!, color: STATUS_COLORS[i % STATUS_COLORS.length]!, bars: statuses.length === 1 }));
    const latency: ChartLine[] = [
      { label: 'p50', values: s.p50, color: COLORS.p50, points: true },
      { label: 'p90', values: s.p90, color: COLORS.p90, dash: [6, 3], points: true },
      { label: 'p99', values: s.p99, color: COLORS.p99, dash: [2, 3], points: true },
    ];
    return { traffic, errors, latency };
  }, [report, t]);

  const rangeLinks = report ? `from=${beijingDay(report.from)}&to=${beijingDay(new Date(Date.parse(report.to) - 1).toISOString())}` : '';
  const blocked = report?.totals.byOutcome.block ?? 0;
  const errorCount = report ? Object.entries(report.totals.byStatus).reduce((n, [status, c]) => (Number(status) >= 400 ? n + c : n), 0) : 0;
  const riskRows = report ? [...report.risks].sort((a, b) => b.count - a.count || a.risk.localeCompare(b.risk)) : [];
  const summary = (title: string) => (report ? t.chartSummary(title, beijing(report.from, false), beijing(report.to, false)) : title);

  return (
    <section className="operations" aria-busy={loading}>
      <div className="toolbar">
        <h1>{t.operations}</h1>
        <label>
          {t.range}
          <select name="range" value={preset ?? 'custom'} onChange={(e) => chooseRange(e.target.value)}>
            {Object.entries(PRESETS).map(([key, minutes]) => (
              <option key={key} value={key}>
                {t.lastMinutes(minutes)}
              </option>
            ))}
            <option value="custom">{t.custom}</option>
          </select>
        </label>
        {custom && (
          <form className="custom-range" onSubmit={applyCustom}>
            <label>
              {t.rangeFrom}
              <input type="datetime-local" name="from" value={draft.from} max={draft.to || undefined} onChange={(e) => setDraft({ ...draft, from: e.target.value })} required />
            </label>
            <label>
              {t.rangeTo}
              <input type="datetime-local" name="to" value={draft.to} min={draft.from || undefined} onChange={(e) => setDraft({ ...draft, to: e.target.value })} required />
            </label>
            <button type="submit">{t.apply}</button>
          </form>
        )}
        <span className="spacer" />
        <button type="button" onClick={refresh} disabled={loading}>
          {t.refresh}
        </button>
        <p className="updated" role="status" aria-live="polite">
          {loading && !report ? t.loading : report ? <span className="nowrap" data-updated={report.generatedAt}>{t.updatedAt(beijing(report.generatedAt))}</span> : null}
          {preset && report ? (
            <>
              {' '}
              <span className="hint nowrap">· {t.autoRefresh}</span>
            </>
          ) : null}
        </p>
      </div>

      {Boolean(error) && (
        <p className="error" role="alert">
          {errorText(t, error)} <button onClick={refresh}>{t.retry}</button>
        </p>
      )}
      {!report && loading && (
        <div className="skeleton" aria-hidden="true">
          <div className="tiles">
            {[0, 1, 2, 3].map((i) => (
              <div key={i} className="tile placeholder" />
            ))}
          </div>
        </div>
      )}

      {report && charts && (
        <>
          {report.sampled && <p className="warning">{t.sampled(report.read)}</p>}
          <div className="tiles">
            <div className="tile" data-stat="requests">
              <span>{t.requests}</span>
              <strong>{report.totals.requests}</strong>
            </div>
            <div className="tile" data-stat="blocked">
              <span>{t.blocked}</span>
              <strong>{blocked}</strong>
            </div>
            <div className="tile" data-stat="errors">
              <span>{t.errorsLabel}</span>
              <strong>{errorCount}</strong>
            </div>
            <div className="tile" data-stat="sanctions">
              <span>{t.sanctions}</span>
              <strong>{report.sanctions.total}</strong>
            </div>
            {(['p50', 'p90', 'p99'] as const).map((p) => (
              <div className="tile" data-stat={p} key={p}>
                <span>
                  {t.latency} {p}
                </span>
                <strong className="nowrap">{pct(report.totals.latencyMs[p], t)}</strong>
              </div>
            ))}
          </div>
          {report.totals.requests === 0 && <p className="empty">{t.noTraffic}</p>}

          <div className="charts">
            <article className="panel">
              <h2>{t.chartTraffic}</h2>
              <TimeChart name="traffic" at={report.series.at} lines={charts.traffic} summary={summary(t.chartTraffic)} timeLabel={t.time} />
            </article>
            <article className="panel" data-panel="errors">
              <h2>{t.chartErrors}</h2>
              {charts.errors.length === 0 ? (
                <p className="empty">{t.noErrors}</p>
              ) : (
                <>
                  <TimeChart name="errors" at={report.series.at} lines={charts.errors} summary={summary(t.chartErrors)} timeLabel={t.time} />
                  <ul className="status-list">
                    {Object.entries(report.totals.byStatus)
                      .filter(([status]) => Number(status) >= 400)
                      .sort(([a], [b]) => a.localeCompare(b))
                      .map(([status, n]) => (
                        <li key={status} data-status={status}>
                          <strong>{t.httpStatus(status)}</strong> {t.statusName[status] ?? ''}
                          {t.colon}
                          {n}
                        </li>
                      ))}
                  </ul>
                </>
              )}
            </article>
            <article className="panel">
              <h2>{t.chartLatency}</h2>
              <TimeChart name="latency" at={report.series.at} lines={charts.latency} summary={summary(t.chartLatency)} unit="ms" timeLabel={t.time} />
            </article>
          </div>

          <Breakdown title={t.byModel} rows={report.byModel} t={t} name="model" />
          <Breakdown title={t.byUpstream} rows={report.byUpstream} t={t} name="upstream" />

          <article className="panel" data-panel="recent-blocks">
            <h2 id="h-recent">{t.recentBlocks}</h2>
            {report.recentBlocks.length === 0 ? (
              <p className="empty">{t.noBlocks}</p>
            ) : (
              <>
                <div className="table-scroll" role="region" aria-labelledby="h-recent" tabIndex={0}>
                  <table className="stack">
                    <thead>
                      <tr>
                        <th scope="col">{t.timeBeijing}</th>
                        <th scope="col">{t.actor}</th>
                        <th scope="col">{t.model}</th>
                        <th scope="col">{t.risk}</th>
                        <th scope="col">{t.detail}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {report.recentBlocks.map((b) => (
                        <tr key={b.seq} data-block={b.requestId ?? b.seq}>
                          <td data-label={t.time}>
                            <time className="nowrap" dateTime={b.at}>
                              {beijing(b.at)}
                            </time>
                          </td>
                          <td data-label={t.actor} className="break">
                            {b.actor}
                          </td>
                          <td data-label={t.model}>{b.model ?? t.noneValue}</td>
                          <td data-label={t.risk}>
                            <span>
                              {b.risks.map((r) => (
                                <span key={r} className="risk">
                                  <code>{r}</code> {riskLabel(r, lang)}
                                </span>
                              ))}
                            </span>
                          </td>
                          <td data-label={t.detail}>
                            <Link to={b.requestId ? `/audit?requestId=${encodeURIComponent(b.requestId)}` : `/audit?type=gateway.request&outcome=block&${rangeLinks}`} label={`${t.openInAudit}${t.colon}${b.requestId ?? b.seq}`}>
                              {t.openInAudit}
                            </Link>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <p>
                  <Link to={`/audit?type=gateway.request&outcome=block&${rangeLinks}`}>{t.allBlocksInAudit}</Link>
                </p>
              </>
            )}
          </article>

          <div className="two">
            <article className="panel" data-panel="risks">
              <h2 id="h-risks">{t.riskHits}</h2>
              {riskRows.length === 0 ? (
                <p className="empty">{t.noRisks}</p>
              ) : (
                <div className="table-scroll" role="region" aria-labelledby="h-risks" tabIndex={0}>
                  <table className="stack">
                    <thead>
                      <tr>
                        <th scope="col">{t.risk}</th>
                        <th scope="col">{t.riskName}</th>
                        <th scope="col">{t.outcome}</th>
                        <th scope="col">{t.times}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {riskRows.map((r) => (
                        <tr key={`${r.risk}-${r.outcome}`} data-risk={r.risk}>
                          <td data-label={t.risk}>
                            <Link to={`/audit?type=gateway.request&risk=${encodeURIComponent(r.risk)}${r.outcome ? `&outcome=${r.outcome}` : ''}&${rangeLinks}`}>
                              <code>{r.risk}</code>
                            </Link>
                          </td>
                          <td data-label={t.riskName}>{riskLabel(r.risk, lang)}</td>
                          <td data-label={t.outcome}>{r.outcome ? (t.outcomes[r.outcome] ?? r.outcome) : t.noneValue}</td>
                          <td data-label={t.times}>{r.count}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </article>
            <article className="panel" data-panel="sanctions">
              <h2>{t.sanctions}</h2>
              <p className="hint">{t.sanctionsNote}</p>
              {report.sanctions.total === 0 ? (
                <p className="empty">{t.noSanctions}</p>
              ) : (
                <ul className="status-list">
                  {Object.entries(report.sanctions.byAction).map(([action, n]) => (
                    <li key={action} data-sanction={action}>
                      <Link to={`/audit?type=user.sanction&outcome=${encodeURIComponent(action)}&${rangeLinks}`}>{t.outcomes[action] ?? action}</Link>
                      {t.colon}
                      {n}
                    </li>
                  ))}
                </ul>
              )}
            </article>
          </div>
        </>
      )}
    </section>
  );
}
