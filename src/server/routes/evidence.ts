/**
 * @module server/routes/evidence
 * The gap view's API: the gap report from the evidence kept in the store (the same report as
 * `hegui obligations --from-store`), progress by instrument and by control, deadlines as dates
 * through the China working-day calendar, each duty's state edited with its history, and the
 * report exported as Markdown, DOCX or PDF. Admins and reviewers record states; auditors read.
 */
import type { Hono } from 'hono';
import { chinaDateOf, parseIsoDate } from '../../calendar/index.js';
import { InvalidInputError } from '../../errors.js';
import { applicableObligations, type ComplianceState, gapReport, type Lang } from '../../rules/index.js';
import { deadlineFrom, loadStoredEvidence, recordControls, recordDutyStatus } from '../../rules/evidence-store.js';
import { exportGapReport, type GapExportFormat, GapExportError } from '../../rules/gap-export.js';
import { StoreConflictError } from '../../store/index.js';
import { requireOperator } from '../auth/sessions.js';
import type { AppDeps, AppEnv } from '../context.js';

type Tally = Record<ComplianceState, number> & { total: number };

function tally(): Tally {
  return { compliant: 0, 'non-compliant': 0, 'not-applicable': 0, total: 0 };
}

export function mountEvidenceRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const signedIn = requireOperator(deps);
  const editors = requireOperator(deps, ['admin', 'reviewer']);
  const known = new Set(deps.instruments.flatMap((i) => i.obligations.map((o) => o.id)));
  const figures = new Map(deps.instruments.flatMap((i) => i.obligations.map((o) => [o.id, o.figure ?? null] as const)));
  const today = () => chinaDateOf(deps.now?.() ?? new Date());
  const now = () => deps.now?.() ?? new Date();

  async function report(on: string | undefined) {
    const date = on === undefined || on === '' ? today() : parseIsoDate(on, 'on');
    const evidence = await loadStoredEvidence(deps.store);
    return { evidence, gap: gapReport(applicableObligations(deps.instruments, deps.profile, date), evidence) };
  }

  app.get('/api/gap', signedIn, async (c) => {
    const { evidence, gap } = await report(c.req.query('on'));
    const rows = new Map((await deps.store.dutyStatuses.list()).map((r) => [r.obligationId, r]));
    const names = new Map((await deps.store.operators.list()).map((o) => [`operator:${o.id}`, o.name]));
    const byInstrument = new Map<string, Tally>();
    const byControl = new Map<string, Tally>();
    for (const e of gap.entries) {
      for (const [map, key] of [[byInstrument, e.instrument], [byControl, e.control]] as const) {
        const t = map.get(key) ?? tally();
        t[e.state] += 1;
        t.total += 1;
        map.set(key, t);
      }
    }
    const entries = gap.entries.map((e) => {
      const row = rows.get(e.id);
      const figure = figures.get(e.id) ?? null;
      const deadline = row?.startDate ? deadlineFrom(figure, row.startDate) : undefined;
      return {
        ...e,
        figure,
        startDate: row?.startDate ?? null,
        deadline: deadline ?? null,
        version: row?.version ?? 0,
        updatedAt: row?.updatedAt ?? null,
        updatedBy: row ? (names.get(row.updatedBy) ?? row.updatedBy) : null,
      };
    });
    const instruments = deps.instruments.map((i) => ({ id: i.id, name: i.name, short: i.short }));
    return c.json({
      date: gap.date,
      conclusion: gap.conclusion,
      counts: gap.counts,
      entries,
      controls: evidence.controls,
      progress: {
        byInstrument: [...byInstrument].map(([instrument, t]) => ({ instrument, ...t })),
        byControl: [...byControl].map(([control, t]) => ({ control, ...t })),
      },
      instruments,
      withoutItemisedDuties: gap.withoutItemisedDuties,
      unknownFacts: gap.unknownFacts,
      upcoming: gap.upcoming,
    });
  });

  /** A "within N days" duty's due date from a start date (default today), without recording anything. */
  app.get('/api/gap/deadline', signedIn, (c) => {
    const id = c.req.query('id') ?? '';
    const start = parseIsoDate(c.req.query('start') || today(), 'start');
    if (!known.has(id)) throw new InvalidInputError('E_OBLIGATION_UNKNOWN', `no duty has the id ${id}`);
    return c.json({ id, figure: figures.get(id) ?? null, deadline: deadlineFrom(figures.get(id), start) ?? null });
  });

  app.put('/api/gap/duties/:id', editors, async (c) => {
    const body = (await c.req.json().catch(() => null)) as { entry?: unknown; startDate?: unknown; expectedVersion?: unknown } | null;
    if (!body || !('entry' in body) || (body.startDate !== undefined && body.startDate !== null && typeof body.startDate !== 'string')) {
      throw new InvalidInputError('E_EVIDENCE_INVALID', 'send {"entry": {status, ...} or null, "startDate"?: "YYYY-MM-DD", "expectedVersion"?: n}');
    }
    if (body.expectedVersion !== undefined && (typeof body.expectedVersion !== 'number' || !Number.isInteger(body.expectedVersion) || body.expectedVersion < 0)) {
      throw new InvalidInputError('E_EVIDENCE_INVALID', 'expectedVersion is a whole number (0: not recorded yet)');
    }
    try {
      const change = await recordDutyStatus(deps.store, deps.audit, known, {
        obligationId: c.req.param('id'),
        entry: body.entry,
        startDate: (body.startDate as string | null | undefined) ?? null,
        actor: `operator:${c.get('operator').id}`,
        now: now(),
        ...(body.expectedVersion !== undefined ? { expectedVersion: body.expectedVersion as number } : {}),
      });
      return c.json({ change });
    } catch (error) {
      if (error instanceof StoreConflictError) return c.json({ error: { code: error.code, message: error.message } }, 409);
      throw error;
    }
  });

  app.get('/api/gap/duties/:id/history', signedIn, async (c) => {
    const names = new Map((await deps.store.operators.list()).map((o) => [`operator:${o.id}`, o.name]));
    const changes = await deps.store.dutyStatuses.history(c.req.param('id'));
    return c.json({ changes: changes.map((ch) => ({ ...ch, actorName: names.get(ch.actor) ?? ch.actor })) });
  });

  app.put('/api/gap/controls', editors, async (c) => {
    const body = (await c.req.json().catch(() => null)) as { controls?: unknown } | null;
    const controls = await recordControls(deps.store, deps.audit, body?.controls, `operator:${c.get('operator').id}`, now());
    return c.json({ controls });
  });

  app.get('/api/gap/export', signedIn, async (c) => {
    const format = (c.req.query('format') ?? 'md') as GapExportFormat;
    const lang = (c.req.query('lang') ?? 'zh') as Lang;
    if (!['md', 'docx', 'pdf'].includes(format)) throw new InvalidInputError('E_GAP_FORMAT', 'format is md, docx or pdf');
    if (!['zh', 'en'].includes(lang)) throw new InvalidInputError('E_GAP_FORMAT', 'lang is zh or en');
    const { gap } = await report(c.req.query('on'));
    try {
      const file = await exportGapReport(gap, deps.instruments, lang, format);
      return c.body(new Uint8Array(file.body), 200, {
        'content-type': file.contentType,
        'content-disposition': `attachment; filename="hegui-gap-${gap.date}-${lang}.${file.extension}"`,
        'cache-control': 'no-store',
      });
    } catch (error) {
      if (error instanceof GapExportError) return c.json({ error: { code: error.code, message: error.message } }, 503);
      throw error;
    }
  });
}
