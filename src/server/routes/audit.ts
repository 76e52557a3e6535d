/**
 * @module server/routes/audit
 * The audit log for operators: filtered pages of events, counts and latency over a window
 * (the dashboard's live view), one event's content for admins and auditors, and a chain
 * verification. Every operator may read metadata; content stays with the roles that audit.
 */
import type { Context, Hono } from 'hono';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIT_TIME_ZONE, type AuditLog, type AuditQuery, parseAuditTime, resolveAuditSubject } from '../../audit/index.js';
import { InvalidInputError } from '../../errors.js';
import { tarArchive } from '../tar.js';
import { requireOperator } from '../auth/sessions.js';
import type { AppDeps, AppEnv } from '../context.js';

/** Most gateway events read to compute latency percentiles for one window. */
const LATENCY_SAMPLE = 2000;

/** A bound from a filter: a bare day is a Beijing day and `to` includes it (audit/range). */
function time(value: string | undefined, name: string, end = false): Date | undefined {
  if (value === undefined || value === '') return undefined;
  return parseAuditTime(value, name, end);
}

function text(value: string | undefined, name: string): string | undefined {
  const trimmed = value?.trim();
  if (trimmed === undefined || trimmed === '') return undefined;
  if (trimmed.length > 200) throw new InvalidInputError('E_AUDIT_QUERY', `${name} is at most 200 characters`);
  return trimmed;
}

function query(c: Context<AppEnv>): AuditQuery {
  const q = (name: string): string | undefined => text(c.req.query(name), name);
  const limit = q('limit');
  const from = time(q('from'), 'from');
  const to = time(q('to'), 'to', true);
  if (from && to && from >= to) throw new InvalidInputError('E_AUDIT_QUERY', 'the range is empty: from is after to');
  return {
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(q('type') ? { type: q('type')! } : {}),
    ...(q('typePrefix') ? { typePrefix: q('typePrefix')! } : {}),
    ...(q('actor') ? { actor: q('actor')! } : {}),
    ...(q('actorContains') ? { actorContains: q('actorContains')! } : {}),
    ...(q('subject') ? { subject: q('subject')! } : {}),
    ...(q('requestId') ? { requestId: q('requestId')! } : {}),
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

  /**
   * A page of events, with `names`: the display name of every `operator:` and `user:` actor on
   * the page (a user's name is its pseudonym once a deletion request pseudonymised it). Actors
   * that no longer exist have no entry; the page shows their id.
   */
  app.get('/api/audit/events', anyOperator, async (c) => {
    const page = await audit.list(query(c));
    const actors = new Set(page.events.map((e) => e.actor));
    const names: Record<string, string> = {};
    if ([...actors].some((a) => a.startsWith('operator:'))) {
      for (const o of await deps.store.operators.list()) if (actors.has(`operator:${o.id}`)) names[`operator:${o.id}`] = o.name;
    }
    const users = [...actors].filter((a) => a.startsWith('user:')).map((a) => a.slice(5));
    for (const found of await deps.store.gatewayUsers.findByIds(users)) names[`user:${found.id}`] = found.name;
    return c.json({ ...page, names });
  });

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

  /** Users and operators whose name (or pseudonym / id) contains `q`: the auditor's "find a user". */
  app.get('/api/audit/subjects', anyOperator, async (c) => {
    const q = text(c.req.query('q'), 'q');
    if (q === undefined) return c.json({ subjects: [] });
    const needle = q.toLowerCase();
    const [users, operators] = await Promise.all([deps.store.gatewayUsers.search(q, 20), deps.store.operators.list()]);
    const subjects = [
      ...users.map((u) => ({ subject: `user:${u.id}`, kind: 'user', id: u.id, name: u.name, disabled: u.disabledAt !== null })),
      ...operators
        .filter((o) => o.name.toLowerCase().includes(needle) || o.id.toLowerCase().startsWith(needle))
        .slice(0, 10)
        .map((o) => ({ subject: `operator:${o.id}`, kind: 'operator', id: o.id, name: o.name, disabled: o.disabled_at !== null })),
    ];
    return c.json({ subjects });
  });

  /** One user or operator: who it is, and (for a user) its sanctions; its events come from /api/audit/events?subject=. */
  app.get('/api/audit/subjects/:subject', anyOperator, async (c) => {
    const subject = await resolveAuditSubject(deps.store, c.req.param('subject'));
    const sanctions = subject.kind === 'user' ? await deps.store.gatewaySanctions.list(subject.id) : [];
    return c.json({ ...subject, sanctions });
  });

  /**
   * The package for an authority, the same as `hegui audit export` writes (events.jsonl and
   * manifest.json), as one tar file. Days are Beijing days, both ends included.
   */
  app.post('/api/audit/export', auditors, async (c) => {
    const body = (await c.req.json().catch(() => null)) as { from?: unknown; to?: unknown; user?: unknown; withContent?: unknown } | null;
    if (!body || typeof body.from !== 'string' || typeof body.to !== 'string' || (body.user !== undefined && body.user !== null && typeof body.user !== 'string')) {
      throw new InvalidInputError('E_AUDIT_QUERY', 'send {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "user"?: name or pseudonym, "withContent"?: boolean}');
    }
    const from = parseAuditTime(body.from, 'from');
    const to = parseAuditTime(body.to, 'to', true);
    const user = typeof body.user === 'string' && body.user.trim() !== '' ? await resolveAuditSubject(deps.store, body.user) : undefined;
    const dir = await mkdtemp(join(tmpdir(), 'hegui-audit-export-'));
    const name = `hegui-audit-${body.from}-${body.to}${user ? `-${user.id.slice(0, 12)}` : ''}`.replace(/[^A-Za-z0-9._-]/g, '_');
    try {
      const { manifest } = await audit.export({ from, to, ...(user ? { user: user.subject } : {}) }, join(dir, name), {
        includeContent: body.withContent === true,
        exportedBy: `operator:${c.get('operator').id}`,
      });
      const files = await Promise.all(['manifest.json', 'events.jsonl'].map(async (file) => ({ name: file, data: await readFile(join(dir, name, file)) })));
      const tar = tarArchive(name, files, new Date(manifest.createdAt));
      return c.body(new Uint8Array(tar), 200, {
        'content-type': 'application/x-tar',
        'content-disposition': `attachment; filename="${name}.tar"`,
        'x-hegui-events': String(manifest.events.count),
        'x-hegui-time-zone': AUDIT_TIME_ZONE.offset,
        'cache-control': 'no-store',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
