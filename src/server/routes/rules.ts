/**
 * @module server/routes/rules
 * The tracker's API: the configured service's obligations on a date, and the instruments.
 */
import { basename } from 'node:path';
import type { Hono } from 'hono';
import { chinaDateOf, parseIsoDate } from '../../calendar/index.js';
import { HeguiError } from '../../errors.js';
import { applicableObligations, statusOn } from '../../rules/index.js';
import { requireOperator } from '../auth/sessions.js';
import type { AppDeps, AppEnv } from '../context.js';

function dateParam(value: string | undefined, deps: AppDeps): string {
  return value === undefined || value === '' ? chinaDateOf(deps.now?.() ?? new Date()) : parseIsoDate(value, 'on');
}

export function mountRulesRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const signedIn = requireOperator(deps);

  app.get('/api/obligations', signedIn, (c) => {
    const date = dateParam(c.req.query('on'), deps);
    const report = applicableObligations(deps.instruments, deps.profile, date);
    const instruments = deps.instruments.map((i) => ({ id: i.id, name: i.name, short: i.short, hierarchy: i.hierarchy, ...statusOn(i, date) }));
    // The profile's file name only: a server path would tell every browser about the server's disks.
    return c.json({ ...report, instruments, profile: { source: basename(deps.profileSource), provider: deps.profile.provider.name, service: deps.profile.service.name ?? null } });
  });

  app.get('/api/rules', signedIn, (c) => {
    const date = dateParam(c.req.query('on'), deps);
    return c.json({
      date,
      instruments: deps.instruments.map((i) => ({
        id: i.id,
        name: i.name,
        short: i.short,
        hierarchy: i.hierarchy,
        promulgated: i.promulgated,
        effective: i.effective ?? null,
        obligations: i.obligations.length,
        ...statusOn(i, date),
      })),
    });
  });

  app.get('/api/profile', signedIn, (c) => c.json({ source: basename(deps.profileSource), profile: deps.profile }));
}

/** Maps a HeguiError from a route to an API error object (bad input is the caller's, 400). */
export function errorResponse(error: unknown): { status: 400 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503; body: { error: { code: string; message: string } } } {
  // Errors that name their own HTTP status (the desk's) answer with it.
  if (error instanceof HeguiError && 'httpStatus' in error && typeof error.httpStatus === 'number') {
    return { status: error.httpStatus as 400, body: { error: { code: error.code, message: error.message } } };
  }
  if (error instanceof HeguiError && error.code === 'E_STORE_CONFLICT') return { status: 409, body: { error: { code: error.code, message: error.message } } };
  if (error instanceof HeguiError) {
    return { status: error.exitCode === 2 ? 400 : 500, body: { error: { code: error.code, message: error.message } } };
  }
  return { status: 500, body: { error: { code: 'E_INTERNAL', message: 'internal error; the server log has the details' } } };
}
