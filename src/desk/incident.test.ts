/**
 * Illegal-content incidents on both stores: the report clock by grade (4 hours; 1 hour for
 * critical information infrastructure; none for the general grade), block patterns from the
 * audit log, each action really done and recorded, exports, and bad input.
 */
import { beforeEach, expect, it } from 'vitest';
import { describeEachStore } from '../../test/helpers/stores.js';
import { AuditLog } from '../audit/index.js';
import { createApiUser } from '../gateway/index.js';
import { parseUsageState } from '../gateway/usage-state.js';
import type { GatewayUser } from '../store/index.js';
import { loadInstruments } from '../rules/index.js';
import { IncidentDesk, IncidentInputError, IncidentNotFoundError } from './incident.js';
import { reportClock } from './incident-clock.js';

const DETECTED = '2026-09-28T01:00:00.000Z';

describeEachStore(
  'desk incidents',
  (getStore) => {
    let now: Date;
    let log: AuditLog;
    let desk: IncidentDesk;
    let mallory: GatewayUser;
    const at = (iso: string): void => void (now = new Date(iso));

    beforeEach(async () => {
      now = new Date('2026-09-28T01:30:00.000Z');
      log = new AuditLog(getStore(), { clock: () => now });
      desk = new IncidentDesk(getStore(), { audit: log, clock: () => now });
      ({ user: mallory } = await createApiUser(getStore(), { name: 'mallory-app' }));
    });

    const open = (extra: Record<string, unknown> = {}) =>
      desk.open({ title: 'Bomb-making instructions generated', description: 'A user obtained instructions.', grade: 'significant', source: { kind: 'manual' }, detectedAt: DETECTED, users: ['mallory-app'], risks: ['A1.4'], ...extra }, 'operator:o1');

    it('runs the 4-hour clock from detection, and reports in time', async () => {
      const incident = await open();
      expect(incident).toMatchObject({ ref: 'INC-2026-000001', state: 'open', grade: 'significant', users: [mallory.id], report: { hours: 4, dueAt: '2026-09-28T05:00:00.000Z', obligation: 'incident-reporting.report-4h', recipient: { zh: '属地省级网信部门' }, citations: 'secondary', verified: false, remainingMs: 3.5 * 3_600_000, overdue: false } });
      expect(incident.report.basis.zh).toContain('4 小时');
      at('2026-09-28T04:59:00.000Z');
      expect((await desk.get(incident.ref)).report).toMatchObject({ remainingMs: 60_000, overdue: false });
      at('2026-09-28T05:00:01.000Z');
      expect((await desk.get(incident.ref)).report).toMatchObject({ remainingMs: -1000, overdue: true });
      at('2026-09-28T04:30:00.000Z');
      const reported = await desk.report(incident.ref, { authority: '省网信办' }, 'operator:o1');
      expect(reported).toMatchObject({ state: 'reported', report: { reportedAt: '2026-09-28T04:30:00.000Z', reportedInTime: true, remainingMs: null } });
      const content = reported.actions.find((a) => a.kind === 'report')?.detail.content as string;
      expect(content).toContain('INC-2026-000001');
      expect(content).toContain('较大');
      expect(content).toContain('（在时限内）');
      await expect(desk.report(incident.ref, { authority: 'again' }, 'operator:o1')).rejects.toMatchObject({ code: 'E_STORE_CONFLICT' });
    });

    it('runs 1 hour for critical information infrastructure, none for the general grade, and says a late report was late', async () => {
      const cii = await open({ cii: true, grade: 'major' });
      expect(cii.report).toMatchObject({ hours: 1, dueAt: '2026-09-28T02:00:00.000Z', obligation: 'incident-reporting.report-1h-cii', recipient: { zh: '保护工作部门、公安机关' } });
      expect(cii.report.basis.zh).toContain('第四条');
      const general = await open({ grade: 'general' });
      expect(general.report).toMatchObject({ hours: null, dueAt: null, overdue: false, obligation: null, recipient: null });
      expect(general.ref).toBe('INC-2026-000002');
      at('2026-09-28T02:30:00.000Z');
      const late = await desk.report(cii.ref, { authority: 'CAC' }, 'operator:o1');
      expect(late.report.reportedInTime).toBe(false);
      expect(late.actions.at(-1)?.detail.content).toContain('（已超过时限）');
    });

    it('finds block patterns in the audit log and opens an incident from one', async () => {
      const { user: other } = await createApiUser(getStore(), { name: 'other-app' });
      for (let i = 0; i < 4; i++) await log.append({ type: 'gateway.request', actor: `user:${mallory.id}`, outcome: 'block', risks: ['A1.4'] });
      await log.append({ type: 'gateway.request', actor: `user:${other.id}`, outcome: 'block', risks: ['A1.4'] });
      await log.append({ type: 'gateway.request', actor: `user:${other.id}`, outcome: 'block', risks: ['A2.1'] });
      await log.append({ type: 'gateway.request', actor: `user:${other.id}`, outcome: 'pass', risks: ['A1.4'] });
      const patterns = await desk.blockPatterns({ from: new Date('2026-09-28T00:00:00Z'), to: new Date('2026-09-28T02:00:00Z'), threshold: 5 });
      expect(patterns).toEqual([{ risk: 'A1.4', blocks: 5, from: '2026-09-28T00:00:00.000Z', to: '2026-09-28T02:00:00.000Z', users: [{ user: mallory.id, blocks: 4 }, { user: other.id, blocks: 1 }] }]);
      const [pattern] = patterns;
      const incident = await desk.open(
        { title: 'Repeated A1.4 blocks', description: 'pattern', grade: 'general', source: { kind: 'block-pattern', risk: pattern!.risk, blocks: pattern!.blocks, from: pattern!.from, to: pattern!.to }, users: pattern!.users.map((u) => u.user) },
        'system:desk',
      );
      expect(incident).toMatchObject({ source: 'block-pattern', risks: ['A1.4'], users: [mallory.id, other.id] });
      const fromComplaint = await open({ source: { kind: 'complaint', caseRef: 'CP-2026-000012' } });
      expect(fromComplaint).toMatchObject({ source: 'complaint', sourceRef: 'CP-2026-000012' });
    });

    it('acts for real: terms into the live library, outputs removed, an optimisation task on working days, a suspension, each recorded', async () => {
      const store = getStore();
      const incident = await open();
      const stopped = await desk.stopGeneration(incident.ref, { terms: ['制爆教程', 'bomb recipe'], risk: 'A1.4' }, 'operator:o1');
      expect(stopped.actions.at(-1)).toMatchObject({ kind: 'stop-generation', detail: { library: 'incident-stop', revision: 1, added: ['制爆教程', 'bomb recipe'] } });
      const again = await desk.stopGeneration(incident.ref, { terms: ['制爆教程', 'new term'], risk: 'A1.4' }, 'operator:o1');
      expect(again.actions.at(-1)).toMatchObject({ detail: { revision: 2, added: ['new term'], alreadyPresent: ['制爆教程'] } });
      expect((await store.keywordLibraries.load('incident-stop'))?.entries.map((e) => e.keyword)).toEqual(['制爆教程', 'bomb recipe', 'new term']);

      await store.gatewayMedia.put({ id: 'm1', contentType: 'image/png', bytes: new Uint8Array([1]), expiresAt: '2026-09-29T00:00:00.000Z', userId: mallory.id });
      await store.gatewayMedia.put({ id: 'm2', contentType: 'image/png', bytes: new Uint8Array([2]), expiresAt: '2026-09-29T00:00:00.000Z', userId: null });
      const removed = await desk.removeOutputs(incident.ref, {}, 'operator:o1');
      expect(removed.actions.at(-1)?.detail).toMatchObject({ removed: 1 });
      expect(await store.gatewayMedia.info(['m1', 'm2'])).toEqual([expect.objectContaining({ id: 'm2' })]);

      // 2026-09-28 (Monday, Beijing) + 15 working days, across National Day and its make-up days.
      const optimised = await desk.optimisation(incident.ref, { task: 'retrain the refusal classifier', workingDays: 15 }, 'operator:o1');
      expect(optimised.optimisationDue).toBe('2026-10-23');

      const suspended = await desk.userMeasure(incident.ref, { user: 'mallory-app', action: 'suspend', reason: 'generated bomb-making content' }, 'operator:o1');
      expect(suspended.actions.at(-1)?.detail).toMatchObject({ action: 'suspend', until: null });
      const state = parseUsageState((await store.gatewayUsage.read([`user:${mallory.id}`])).get(`user:${mallory.id}`));
      expect(state.suspended).toEqual({ until: null });
      expect((await store.gatewaySanctions.list(mallory.id))[0]).toMatchObject({ action: 'suspend', reason: expect.stringContaining(incident.ref) });
      const limited = await desk.userMeasure(incident.ref, { user: 'mallory-app', action: 'limit', minutes: 60, perMinute: 2, reason: 'r' }, 'operator:o1');
      expect(limited.actions.at(-1)?.detail).toMatchObject({ action: 'limit', until: '2026-09-28T02:30:00.000Z', perMinute: 2 });

      await log.flush();
      const events = (await log.list({ limit: 100 })).events;
      expect(events.filter((e) => e.type === 'desk.incident').map((e) => e.payload.action).reverse()).toEqual(['open', 'stop-generation', 'stop-generation', 'remove-outputs', 'optimisation']);
      expect(events.filter((e) => e.type === 'user.sanction').map((e) => [e.outcome, e.payload.incident])).toEqual([
        ['limit', incident.ref],
        ['suspend', incident.ref],
      ]);
      expect((await log.verify()).ok).toBe(true);

      const closed = await desk.close(incident.ref, { summary: 'done' }, 'operator:o1');
      expect(closed.state).toBe('closed');
      await expect(desk.stopGeneration(incident.ref, { terms: ['x'], risk: 'A1.4' }, 'operator:o1')).rejects.toMatchObject({ code: 'E_STORE_CONFLICT' });
      await expect(desk.userMeasure(incident.ref, { user: 'mallory-app', action: 'warn', reason: 'r' }, 'operator:o1')).rejects.toMatchObject({ code: 'E_STORE_CONFLICT' });
      expect(await store.gatewaySanctions.list(mallory.id)).toHaveLength(2);
    });

    it('records every action when operators act at the same moment, and one report only', async () => {
      const incident = await open();
      await Promise.all(Array.from({ length: 6 }, (_, i) => desk.optimisation(incident.ref, { task: `task ${i}`, workingDays: 1 + i }, `operator:o${i}`)));
      const reports = await Promise.allSettled([desk.report(incident.ref, { authority: 'A' }, 'operator:o1'), desk.report(incident.ref, { authority: 'B' }, 'operator:o2')]);
      expect(reports.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(reports.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['E_STORE_CONFLICT']);
      const { actions } = await desk.get(incident.ref);
      expect(actions.map((a) => a.kind)).toEqual(['open', ...Array(6).fill('optimisation'), 'report']);
      expect(new Set(actions.filter((a) => a.kind === 'optimisation').map((a) => a.actor)).size).toBe(6);
    });

    it('exports JSON and Markdown, with hostile text inert', async () => {
      const incident = await open({ title: '<img src=x onerror=alert(1)> | 表格', description: 'line one\n<script>alert(2)</script>' });
      const json = await desk.exportJson(incident.ref);
      expect(json).toMatchObject({ format: 'hegui.incident/1', incident: { ref: incident.ref, title: '<img src=x onerror=alert(1)> | 表格' } });
      expect(json.reportText).toContain('# 违法内容事件报告：&lt;img src=x onerror=alert(1)&gt; \\| 表格');
      const markdown = await desk.exportMarkdown(incident.ref);
      expect(markdown).not.toMatch(/<script|<img/);
      expect(markdown).toContain('## 处置记录');
      expect(markdown).toContain('| 立案 |');
    });

    it('refuses bad input with typed errors', async () => {
      await expect(open({ grade: 'catastrophic' })).rejects.toBeInstanceOf(IncidentInputError);
      await expect(open({ users: ['nobody'] })).rejects.toBeInstanceOf(IncidentInputError);
      await expect(open({ risks: ['Z9.9'] })).rejects.toBeInstanceOf(IncidentInputError);
      await expect(open({ detectedAt: '2027-01-01T00:00:00.000Z' })).rejects.toBeInstanceOf(IncidentInputError);
      await expect(open({ title: ' ' })).rejects.toBeInstanceOf(IncidentInputError);
      await expect(open({ source: { kind: 'complaint', caseRef: "'; drop table desk_incidents; --" } })).rejects.toBeInstanceOf(IncidentInputError);
      await expect(desk.get('INC-2026-999999')).rejects.toBeInstanceOf(IncidentNotFoundError);
      await expect(desk.get('../../etc/passwd')).rejects.toBeInstanceOf(IncidentNotFoundError);
      const incident = await open();
      await expect(desk.stopGeneration(incident.ref, { terms: [], risk: 'A1.4' }, 'operator:o1')).rejects.toBeInstanceOf(IncidentInputError);
      await expect(desk.stopGeneration(incident.ref, { terms: ['x'], risk: 'A1.4', extra: 1 }, 'operator:o1')).rejects.toBeInstanceOf(IncidentInputError);
      await expect(desk.userMeasure(incident.ref, { user: 'mallory-app', action: 'limit', reason: 'r' }, 'operator:o1')).rejects.toBeInstanceOf(IncidentInputError);
      await expect(desk.userMeasure(incident.ref, { user: 'nobody', action: 'warn', reason: 'r' }, 'operator:o1')).rejects.toBeInstanceOf(IncidentInputError);
      expect((await desk.list()).total).toBe(1);
    });
  },
  { perTest: true },
);

it('bases every hourly clock on an obligation of the rules catalogue with the same figure', () => {
  const reporting = loadInstruments().find((i) => i.id === 'incident-reporting');
  expect(reporting).toBeDefined();
  for (const cii of [false, true]) {
    const clock = reportClock('significant', cii, new Date(DETECTED));
    const obligation = reporting!.obligations.find((o) => o.id === clock.obligation);
    expect(obligation?.figure).toMatchObject({ kind: 'within', value: clock.hours, unit: 'hours' });
    expect(obligation?.article).toBe(4);
  }
  expect(reportClock('general', false, new Date(DETECTED)).obligation).toBeNull();
});
