/**
 * @module server/routes/eval
 * The evaluation runs and their human review, for operators. Every operator may read runs and
 * their figures; reviewers and admins take items from the review queue and judge them. A
 * reviewer sees the judges' reasons but never another reviewer's judgement, and may judge an
 * item once; a disagreement goes to a third reviewer. Judgements are audit events.
 */
import type { Context, Hono } from 'hono';
import { HeguiError, NotFoundError } from '../../errors.js';
import { summarise } from '../../eval/metrics.js';
import { ReviewConflictError, reviewQueue, runAgreement, submitReview } from '../../eval/review.js';
import { requireOperator } from '../auth/sessions.js';
import type { AppDeps, AppEnv } from '../context.js';

function problem(c: Context, error: HeguiError): Response {
  const status = error instanceof ReviewConflictError ? 409 : error instanceof NotFoundError ? 404 : error.exitCode === 2 ? 400 : 500;
  return c.json({ error: { code: error.code, message: error.message } }, status);
}

/** JSON numbers cannot be NaN: an undefined rate or kappa goes out as null. */
function finite(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
}

export function mountEvalRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const anyOperator = requireOperator(deps);
  const reviewers = requireOperator(deps, ['reviewer', 'admin']);
  const now = (): Date => deps.now?.() ?? new Date();

  app.get('/api/eval/runs', anyOperator, async (c) => {
    const runs = await deps.store.evalRuns.list();
    const out = [];
    for (const run of runs) out.push({ id: run.id, name: run.name, model: run.model, endpoint: run.endpoint, seed: run.seed, status: run.status, items: run.items, createdAt: run.createdAt, finishedAt: run.finishedAt, ...(await deps.store.evalRuns.counts(run.id)) });
    return c.json({ runs: out });
  });

  app.get('/api/eval/runs/:run', anyOperator, async (c) => {
    const run = await deps.store.evalRuns.get(c.req.param('run'));
    if (!run) return problem(c, new NotFoundError('E_EVAL_RUN_UNKNOWN', `there is no run ${c.req.param('run')}`));
    const summary = summarise(run, await deps.store.evalRuns.items(run.id));
    return c.json(finite({ summary, agreement: await runAgreement(deps.store, run.id) }) as Record<string, unknown>);
  });

  app.get('/api/eval/review', reviewers, async (c) => {
    const run = c.req.query('run') || undefined;
    const tasks = await reviewQueue(deps.store, c.get('operator').id, { ...(run ? { runId: run } : {}), limit: 50 });
    return c.json({ tasks });
  });

  app.post('/api/eval/review/:run/:seq', reviewers, async (c) => {
    const seq = Number(c.req.param('seq'));
    const body = (await c.req.json().catch(() => null)) as { judgement?: unknown; note?: unknown } | null;
    if (!Number.isInteger(seq) || seq < 0 || !body || typeof body.judgement !== 'string' || (body.note !== undefined && typeof body.note !== 'string')) {
      return c.json({ error: { code: 'E_EVAL_REVIEW_INPUT', message: 'send {"judgement": "refused" | "safe" | "unsafe", "note"?: "..."} to /api/eval/review/RUN/SEQ' } }, 400);
    }
    const operator = c.get('operator');
    try {
      const result = await submitReview(deps.store, { runId: c.req.param('run'), seq, reviewer: operator.id, judgement: body.judgement, ...(typeof body.note === 'string' ? { note: body.note } : {}), now: now() });
      await deps.audit?.append({ type: 'eval.review', actor: `operator:${operator.id}`, outcome: result.status, payload: { run: c.req.param('run'), item: seq, round: result.round } });
      return c.json(result);
    } catch (error) {
      if (error instanceof HeguiError) return problem(c, error);
      throw error;
    }
  });
}
