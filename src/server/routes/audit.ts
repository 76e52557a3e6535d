/**
 * @module server/routes/audit
 * The audit log for operators: filtered pages of events, counts and latency over a window
 * (the dashboard's live view), one event's content for admins and auditors, and a chain
 * verification. Every operator may read metadata; content stays with the roles that audit.
 */
import type { Context, Hono } from 'hono';
import type { AuditLog, AuditQuery } from '../../audit/index.js';
import { InvalidInputError } from '../../errors.js';
import { requireOperator } from '../auth/sessions.js';
import type { AppDeps, AppEnv } from '../context.js';

/** Most gateway events read to compute latency percentiles for one window. */
const LATENCY_SAMPLE = 2000;

function time(value: string | undefined, name: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00+08:00` : value);
  if (Number.isNaN(date.getTime())) throw new InvalidInputError('E_AUDIT_QUERY', `${name} "${value}" is not a date or time (use YYYY-MM-DD or ISO 8601)`);
  return date;
}

function query(c: Context<AppEnv>): AuditQuery {
  const q = (name: string): string | undefined => c.req.query(name) || undefined;
  const limit = q('limit');
  const from = time(q('from'), 'from');
  const to = time(q('to'), 'to');
  return {
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(q('type') ? { type: q('type')! } : {}),
    ...(q('actor') ? { actor: q('actor')! } : {}),
    ...(q('risk') ? { risk: q('risk')! } : {}),
    ...(q('outcome') ? { outcome: q('outcome')! } : {}),
    ...(q('cursor') ? { cursor: q('cursor')! } : {}),
    ...(limit ? { limit: Number(limit) } : {}),
  };
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;
}

/** Requests, outcomes, risks and gateway latency over the last `minutes`. */
async function liveStats(audit: AuditLog, minutes: number, now: Date) {
  const from = new Date(now.getTime() - minutes * 60_000);
  const counts = await audit.counts({ from, to: now });
  const latencies: number[] = [];
  let cursor: string | null = null;
  do {
    const page = await audit.list({ from, to: now, type: 'gateway.request', limit: 500, cursor });
    for (const e of page.events) if (typeof e.payload.latencyMs === 'number') latencies.push(e.payload.latencyMs);
    cursor = page.nextCursor;
  } while (cursor !== null && latencies.length < LATENCY_SAMPLE);
  latencies.sort((a, b) => a - b);
  return {
    ...counts,
    minutes,
    latencyMs: { sample: latencies.length, p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99) },
  };
}

export function mountAuditRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const audit = deps.audit;
  if (!audit) return;
  const anyOperator = requireOperator(deps);
  const auditors = requireOperator(deps, ['admin', 'auditor']);

  app.get('/api/audit/events', anyOperator, async (c) => c.json(await audit.list(query(c))));

  app.get('/api/audit/stats', anyOperator, async (c) => {
    const minutes = Number(c.req.query('minutes') ?? 60);
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 60 * 24 * 31) {
      throw new InvalidInputError('E_AUDIT_QUERY', 'minutes is a whole number from 1 to 44640 (31 days)');
    }
    return c.json(await liveStats(audit, minutes, deps.now?.() ?? new Date()));
  });

  app.get('/api/audit/events/:seq/content', auditors, async (c) => {
    const seq = Number(c.req.param('seq'));
    if (!Number.isInteger(seq) || seq < 1) throw new InvalidInputError('E_AUDIT_QUERY', 'seq is a positive whole number');
    const content = await audit.readContent(seq);
    if (content === undefined) return c.json({ error: { code: 'E_AUDIT_NO_CONTENT', message: `event ${seq} keeps no content` } }, 404);
    return c.json({ seq, content });
  });

  app.post('/api/audit/verify', auditors, async (c) => c.json(await audit.verify()));
}
