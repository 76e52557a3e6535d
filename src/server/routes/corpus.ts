/**
 * @module server/routes/corpus
 * The corpus section of the self-assessment for the dashboard: sources, licences, scans with
 * their verdicts, running scans' progress, annotation QA (`corpusReport`). Read-only; every
 * operator may read it.
 */
import type { Hono } from 'hono';
import { corpusReport } from '../../corpus/report.js';
import { requireOperator } from '../auth/sessions.js';
import type { AppDeps, AppEnv } from '../context.js';

export function mountCorpusRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get('/api/corpus/report', requireOperator(deps), async (c) => c.json(await corpusReport(deps.store, deps.now?.() ?? new Date())));
}
