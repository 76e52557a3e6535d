/**
 * The gap view's API on every store dialect: duty states recorded with history and audit
 * events, who may record them, deadlines as dates through the working-day calendar, and one
 * gap report for the dashboard's exports and `hegui obligations --from-store`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/index.js';
import { loadInstruments, parseServiceProfile } from '../src/rules/index.js';
import { chromiumPath, markdownBlocks } from '../src/rules/gap-export.js';
import { createApp, defaultProfile, hashPassword } from '../src/server/index.js';
import { cli } from './helpers/cli.js';
import { describeEachStore } from './helpers/stores.js';
import { systemTool } from './helpers/system.js';

const PASSWORD = 'a long enough password';
const NOW = new Date('2026-12-04T02:00:00Z');

interface GapBody {
  date: string;
  counts: Record<string, number>;
  entries: { id: string; state: string; basis: string; version: number; updatedBy: string | null; deadline: { date: string } | null; plan?: string; due?: string }[];
  progress: { byInstrument: { instrument: string; total: number; compliant: number }[]; byControl: { control: string; total: number }[] };
}

describeEachStore('gap view', (getStore, getDatabase) => {
  let dir: string;
  let app: ReturnType<typeof createApp>['app'];
  let audit: AuditLog;
  const cookies: Record<string, string> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-gap-'));
    const store = getStore();
    audit = new AuditLog(store, { clock: () => NOW });
    const profile = parseServiceProfile(readFileSync(defaultProfile, 'utf8'), defaultProfile);
    app = createApp({ store, audit, instruments: loadInstruments(), profile, profileSource: defaultProfile, webRoot: join(dir, 'web'), version: 'test', now: () => NOW }).app;
    for (const [name, role] of [['officer', 'reviewer'], ['aud', 'auditor']] as const) {
      await store.operators.create({ name, role, passwordHash: await hashPassword(PASSWORD) });
      const response = await app.request('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: PASSWORD }) });
      cookies[name] = (response.headers.get('set-cookie') ?? '').split(';')[0]!;
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const call = (who: string, path: string, init: RequestInit = {}) =>
    app.request(path, { ...init, headers: { cookie: cookies[who]!, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) } });
  const gap = async (): Promise<GapBody> => (await (await call('aud', '/api/gap')).json()) as GapBody;

  it('records a duty state with its history and an audit event; auditors only read', async () => {
    const before = await gap();
    const duty = before.entries.find((e) => e.basis === 'missing')!;
    expect(duty).toBeDefined();
    const put = (who: string, body: unknown) => call(who, `/api/gap/duties/${duty.id}`, { method: 'PUT', body: JSON.stringify(body) });
    expect((await put('aud', { entry: { status: 'compliant', evidence: ['x'] } })).status).toBe(403);
    const bad = await put('officer', { entry: { status: 'non-compliant', reason: 'not yet' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'E_EVIDENCE_INVALID' } });
    expect((await call('officer', '/api/gap/duties/no.such-duty', { method: 'PUT', body: JSON.stringify({ entry: null }) })).status).toBe(400);

    expect((await put('officer', { entry: { status: 'non-compliant', reason: '尚未提交', plan: '提交备案', due: '2026-12-31' }, expectedVersion: duty.version })).status).toBe(200);
    // A second editor working from the old version is refused instead of overwriting.
    expect((await put('officer', { entry: { status: 'compliant', evidence: ['docs/a.md'] }, expectedVersion: duty.version })).status).toBe(409);
    expect((await put('officer', { entry: { status: 'compliant', evidence: ['docs/a.md'] }, expectedVersion: duty.version + 1 })).status).toBe(200);

    const after = await gap();
    const entry = after.entries.find((e) => e.id === duty.id)!;
    expect(entry).toMatchObject({ state: 'compliant', basis: 'evidence', updatedBy: 'officer', version: duty.version + 2 });
    expect(after.counts.compliant).toBe(before.counts.compliant! + 1);
    const history = (await (await call('aud', `/api/gap/duties/${duty.id}/history`)).json()) as { changes: { actorName: string; before: unknown; after: unknown }[] };
    expect(history.changes.slice(0, 2)).toEqual([
      expect.objectContaining({ actorName: 'officer', before: expect.objectContaining({ entry: expect.objectContaining({ status: 'non-compliant' }) }), after: expect.objectContaining({ entry: { status: 'compliant', evidence: ['docs/a.md'] } }) }),
      expect.objectContaining({ actorName: 'officer', after: expect.objectContaining({ entry: expect.objectContaining({ plan: '提交备案', due: '2026-12-31' }) }) }),
    ]);
    const events = (await audit.list({ type: 'duty.status', limit: 50 })).events.filter((e) => e.payload.obligation === duty.id);
    expect(events.map((e) => e.outcome).slice(0, 2)).toEqual(['compliant', 'non_compliant']);
  });

  it('keeps hostile text as text in every export format', async () => {
    const id = (await gap()).entries.find((e) => e.basis === 'missing')!.id;
    const hostile = '<script>alert(1)</script> | a\nb';
    const put = await call('officer', `/api/gap/duties/${id}`, { method: 'PUT', body: JSON.stringify({ entry: { status: 'not-applicable', justification: hostile } }) });
    expect(put.status).toBe(200);
    const md = await (await call('aud', '/api/gap/export?format=md&lang=en')).text();
    // One table row: the pipe is escaped and the newline folded, so no cell or row is forged.
    expect(md).toContain('<script>alert(1)</script> \\| a b');
    const { gapHtml } = await import('../src/rules/gap-export.js');
    expect(gapHtml(md, 'en')).not.toContain('<script>');
    expect(gapHtml(md, 'en')).toContain('&#60;script&#62;');
    expect((await call('officer', `/api/gap/duties/${id}`, { method: 'PUT', body: JSON.stringify({ entry: { status: 'compliant', evidence: ['x'.repeat(2001)] } }) })).status).toBe(400);
    expect((await call('officer', `/api/gap/duties/${id}`, { method: 'PUT', body: JSON.stringify({ entry: { status: 'non-compliant', reason: 'r', plan: 'p', due: '2026-02-30' } }) })).status).toBe(400);
    expect((await call('officer', `/api/gap/duties/${id}`, { method: 'PUT', body: JSON.stringify({ entry: null, startDate: 'soon' }) })).status).toBe(400);
  });

  it('gives progress by instrument and by control that add up to the report', async () => {
    const body = await gap();
    const sum = (rows: { total: number }[]) => rows.reduce((n, r) => n + r.total, 0);
    expect(sum(body.progress.byInstrument)).toBe(body.entries.length);
    expect(sum(body.progress.byControl)).toBe(body.entries.length);
  });

  it('turns "within 10 working days" into a date through the holiday calendar', async () => {
    const response = await call('aud', '/api/gap/deadline?id=algo-recommendation.filing&start=2026-09-28');
    // National Day 1-8 October 2026 is off and Saturday 10 October is a make-up working day.
    expect(await response.json()).toMatchObject({ deadline: { start: '2026-09-28', date: '2026-10-16', estimated: false } });
    const id = (await gap()).entries.find((e) => e.id === 'algo-recommendation.filing' || e.id === 'deep-synthesis.filing')?.id ?? 'algo-recommendation.filing';
    const put = await call('officer', `/api/gap/duties/${id}`, { method: 'PUT', body: JSON.stringify({ entry: { status: 'non-compliant', reason: 'r', plan: 'p' }, startDate: '2026-09-28' }) });
    expect(put.status).toBe(200);
    const entry = (await gap()).entries.find((e) => e.id === id);
    if (entry) expect(entry.deadline).toMatchObject({ date: '2026-10-16' });
  });

  it('exports the same report as `hegui obligations --from-store`, as Markdown, DOCX and PDF', async () => {
    const md = await (await call('aud', '/api/gap/export?format=md&lang=zh')).text();
    const fromCli = await cli(['obligations', '--profile', defaultProfile, '--on', '2026-12-04', '--from-store', '--format', 'md', '--lang', 'zh'], { env: { HEGUI_DATABASE_URL: getDatabase().url } });
    expect(fromCli.code, fromCli.stderr).toBe(0);
    expect(md).toBe(fromCli.stdout);
    expect(md).toContain('合规差距报告');

    const docx = Buffer.from(await (await call('aud', '/api/gap/export?format=docx&lang=zh')).arrayBuffer());
    expect(docx.subarray(0, 2).toString()).toBe('PK');
    const file = join(dir, 'gap.docx');
    writeFileSync(file, docx);
    const xml = execFileSync('unzip', ['-p', file, 'word/document.xml'], { encoding: 'utf8' });
    const firstRowCell = markdownBlocks(md).find((b) => b.kind === 'table');
    expect(xml).toContain('合规差距报告');
    if (firstRowCell?.kind === 'table') expect(xml).toContain(firstRowCell.head[0]);

    expect((await call('aud', '/api/gap/export?format=xls')).status).toBe(400);
    if (chromiumPath() !== undefined && systemTool(chromiumPath()!, 'chromium')) {
      const pdf = await call('aud', '/api/gap/export?format=pdf&lang=zh');
      expect(pdf.status).toBe(200);
      expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
    }
    const missing = await import('../src/rules/gap-export.js').then((m) => m.gapPdf('# x', 'en', { HEGUI_CHROMIUM: '/nonexistent' } as NodeJS.ProcessEnv).catch((e: { code?: string }) => e.code));
    // With Chromium at a default path the PDF renders; the typed error is for when there is none.
    if (chromiumPath({}) === undefined) expect(missing).toBe('E_GAP_PDF_UNAVAILABLE');
  }, 60_000);
});
