import { useCallback, useEffect, useState } from 'react';
import type { Messages } from '../i18n.js';

interface RunRow {
  id: string;
  name: string;
  model: string;
  status: string;
  items: number;
  done: number;
  error: number;
  reviewOpen: number;
  reviewDisputed: number;
}

interface Proportion {
  successes: number;
  total: number;
  rate: number | null;
  low: number;
  high: number;
}

interface Figure {
  proportion: Proportion;
  threshold: number;
  direction: 'atLeast' | 'atMost';
  verdict: string;
  unresolved: number;
}

interface RunDetail {
  summary: { passRate: Figure; refusalRate: Figure; overRefusalRate: Figure; errors: number; uncertain: number };
  agreement: { kappa: number | null; reviewed: number };
}

interface Task {
  runId: string;
  seq: number;
  itemId: string;
  kind: string;
  risk: string | null;
  prompt: string;
  answer: string | null;
  judges: { refusal?: { reason?: string }; safety?: { risks?: string[] }; disagreement?: string } | null;
  stage: 'first' | 'decide';
}

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { credentials: 'same-origin' });
  const body = (await response.json()) as T & { error?: { message: string } };
  if (!response.ok) throw new Error(body.error?.message ?? response.statusText);
  return body;
}

const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);

function FigureRow({ label, f, t }: { label: string; f: Figure; t: Messages }) {
  return (
    <tr>
      <td>{label}</td>
      <td>{pct(f.proportion.rate)}</td>
      <td>
        [{pct(f.proportion.low)}, {pct(f.proportion.high)}]
      </td>
      <td>
        {f.proportion.successes}/{f.proportion.total}
      </td>
      <td>
        {f.direction === 'atLeast' ? '≥' : '≤'} {pct(f.threshold)}
      </td>
      <td>{t.reviewVerdicts[f.verdict as keyof Messages['reviewVerdicts']] ?? f.verdict}</td>
      <td>{f.unresolved > 0 ? t.reviewUnresolved(f.unresolved) : ''}</td>
    </tr>
  );
}

export function Review({ t, canReview }: { t: Messages; canReview: boolean }) {
  const [runs, setRuns] = useState<RunRow[]>([]);
  const [run, setRun] = useState<string>('');
  const [detail, setDetail] = useState<RunDetail | null>(null);
  const [tasks, setTasks] = useState<Task[]>([]);
  const [notes, setNotes] = useState<Record<number, string>>({});
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    getJson<{ runs: RunRow[] }>('/api/eval/runs')
      .then((r) => {
        setRuns(r.runs);
        if (r.runs[0]) setRun(r.runs[0].id);
      })
      .catch((e: Error) => setError(e.message));
  }, []);

  const load = useCallback(async () => {
    if (!run) return;
    setError(null);
    try {
      setDetail(await getJson<RunDetail>(`/api/eval/runs/${encodeURIComponent(run)}`));
      if (canReview) setTasks((await getJson<{ tasks: Task[] }>(`/api/eval/review?run=${encodeURIComponent(run)}`)).tasks);
    } catch (e) {
      setError((e as Error).message);
    }
  }, [run, canReview]);

  useEffect(() => {
    void load();
  }, [load]);

  async function judge(task: Task, judgement: 'refused' | 'safe' | 'unsafe') {
    const response = await fetch(`/api/eval/review/${encodeURIComponent(task.runId)}/${task.seq}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ judgement, ...(notes[task.seq] ? { note: notes[task.seq] } : {}) }),
    });
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { error?: { message: string } };
      setError(body.error?.message ?? response.statusText);
    }
    await load();
  }

  return (
    <section>
      <h1>{t.reviewTitle}</h1>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {runs.length === 0 ? (
        <p>{t.reviewNoRuns}</p>
      ) : (
        <label>
          {t.reviewRun}{' '}
          <select value={run} onChange={(e) => setRun(e.target.value)}>
            {runs.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name} · {r.model} · {r.done + r.error}/{r.items} · {r.id}
              </option>
            ))}
          </select>
        </label>
      )}
      {detail && (
        <>
          <table>
            <thead>
              <tr>
                <th>{t.reviewFigure}</th>
                <th>{t.reviewRate}</th>
                <th>{t.reviewInterval}</th>
                <th>n</th>
                <th>{t.reviewThreshold}</th>
                <th>{t.reviewVerdict}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              <FigureRow label={t.reviewPassRate} f={detail.summary.passRate} t={t} />
              <FigureRow label={t.reviewRefusalRate} f={detail.summary.refusalRate} t={t} />
              <FigureRow label={t.reviewOverRefusal} f={detail.summary.overRefusalRate} t={t} />
            </tbody>
          </table>
          <p>
            {t.reviewErrors(detail.summary.errors)} · {t.reviewKappa(detail.agreement.kappa === null ? '—' : detail.agreement.kappa.toFixed(3), detail.agreement.reviewed)}
          </p>
        </>
      )}
      {!canReview && <p>{t.reviewReadOnly}</p>}
      {canReview && detail && tasks.length === 0 && <p>{t.reviewQueueEmpty}</p>}
      {canReview &&
        tasks.map((task) => (
          <article key={`${task.runId}-${task.seq}`} className="review-task">
            <h2>
              #{task.seq} · {task.kind} {task.risk ?? ''} {task.stage === 'decide' && <strong>· {t.reviewDecide}</strong>}
            </h2>
            <h3>{t.reviewPrompt}</h3>
            <pre>{task.prompt}</pre>
            <h3>{t.reviewAnswer}</h3>
            <pre>{task.answer ?? ''}</pre>
            <p>
              {t.reviewWhy}: {task.judges?.disagreement ?? task.judges?.refusal?.reason ?? '—'}
              {task.judges?.safety?.risks && task.judges.safety.risks.length > 0 ? ` · ${task.judges.safety.risks.join(', ')}` : ''}
            </p>
            <input placeholder={t.reviewNote} value={notes[task.seq] ?? ''} onChange={(e) => setNotes({ ...notes, [task.seq]: e.target.value })} />
            <button onClick={() => void judge(task, 'refused')}>{t.reviewRefused}</button>
            <button onClick={() => void judge(task, 'safe')}>{t.reviewSafe}</button>
            <button onClick={() => void judge(task, 'unsafe')}>{t.reviewUnsafe}</button>
          </article>
        ))}
    </section>
  );
}
