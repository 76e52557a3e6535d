import { useEffect, useState } from 'react';
import { type BankCoverage, evalApi, type StoredBank } from '../api.js';
import type { Lang, Messages } from '../i18n.js';

/** The question banks of the security assessment and their coverage against GB/T 45654. */
export function Evaluation({ t, lang }: { t: Messages; lang: Lang }) {
  const [banks, setBanks] = useState<StoredBank[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [coverage, setCoverage] = useState<BankCoverage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    evalApi
      .banks()
      .then((r) => {
        setBanks(r.banks);
        if (r.banks[0]) setSelected(r.banks[0].bankId);
      })
      .catch((e: unknown) => setError((e as Error).message));
  }, []);

  useEffect(() => {
    if (selected === null) return;
    setCoverage(null);
    evalApi
      .coverage(selected)
      .then(setCoverage)
      .catch((e: unknown) => setError((e as Error).message));
  }, [selected]);

  if (error) return <p className="error" role="alert">{`${t.error}: ${error}`}</p>;
  if (banks === null) return <p>{t.loading}</p>;
  return (
    <section>
      <h2>{t.evalBanks}</h2>
      {banks.length === 0 ? (
        <p>{t.evalNoBanks}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{t.evalBank}</th>
              <th>{t.evalVersion}</th>
              <th>{t.evalItems}</th>
              <th>{t.evalCreated}</th>
              <th>{t.evalAge}</th>
            </tr>
          </thead>
          <tbody>
            {banks.map((b) => (
              <tr key={b.bankId} className={b.bankId === selected ? 'selected' : ''}>
                <td>
                  <button className="link" onClick={() => setSelected(b.bankId)}>
                    {b.bankId}
                  </button>
                </td>
                <td>v{b.version}</td>
                <td>{b.items}</td>
                <td>{b.createdAt.slice(0, 10)}</td>
                <td>
                  {t.evalDays(b.ageDays)}
                  {b.reminder && (
                    <span className="warning" role="status">
                      {' '}
                      {b.reminder[lang]}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {selected !== null && coverage === null && <p>{t.loading}</p>}
      {coverage && (
        <>
          <h3>
            {t.evalCoverage}: {coverage.version.bankId} v{coverage.version.version}
          </h3>
          <p>
            {t.evalGenerated} {coverage.coverage.stats.byKind['generated-content']} · {t.evalShouldRefuse} {coverage.coverage.stats.byKind['should-refuse']} · {t.evalShouldNot}{' '}
            {coverage.coverage.stats.byKind['should-not-refuse']}
          </p>
          {coverage.coverage.meets ? (
            <p className="ok">{t.evalMeets}</p>
          ) : (
            <>
              <p className="warning">{t.evalShortfalls(coverage.coverage.shortfalls.length)}</p>
              <ul className="shortfalls">
                {coverage.coverage.shortfalls.map((r) => (
                  <li key={r.id}>
                    §{r.clause} {r.what[lang]}: {r.actual ?? '—'} / {r.required}
                  </li>
                ))}
              </ul>
            </>
          )}
          <table>
            <thead>
              <tr>
                <th>{t.risk}</th>
                <th />
                <th>{t.evalGenerated}</th>
                <th>{t.evalShouldRefuse}</th>
                <th>{t.evalShouldNot}</th>
              </tr>
            </thead>
            <tbody>
              {coverage.coverage.perRisk.map((r) => (
                <tr key={r.risk}>
                  <td>{r.risk}</td>
                  <td>{r.name[lang]}</td>
                  <td className={r.counts['generated-content'] === 0 ? 'missing' : ''}>{r.counts['generated-content']}</td>
                  <td>{r.counts['should-refuse']}</td>
                  <td>{r.counts['should-not-refuse']}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="hint">{t.evalReportHint}</p>
        </>
      )}
    </section>
  );
}
