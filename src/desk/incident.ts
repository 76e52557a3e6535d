/**
 * @module desk/incident
 * Illegal-content incidents (AI Measures Art. 14; Deep Synthesis Provisions Art. 10): opened
 * from a complaint, from a pattern of gateway blocks in the audit log, or by hand; worked by
 * actions that really happen and are recorded, each as a row of the incident and an audit event:
 *
 * - stop generation: terms go into the stored keyword library the gateway replicas reload
 *   (`safety.libraries` must name it; `src/gateway/live-keywords.ts`);
 * - remove stored outputs: the gateway's stored generated files of the users involved;
 * - a model-optimisation task with its own due date in China working days (`src/calendar`);
 * - user measures: warning, limit or suspension through the gateway's sanctions (the record
 *   and the shared usage state the replicas refuse by);
 * - the report to the authority, on the 1-hour / 4-hour clock of the incident's grade
 *   (`./incident-clock`), its content generated from the incident (Chinese), exported as JSON
 *   and Markdown.
 */
import { z } from 'zod';
import type { AuditLog, JsonObject } from '../audit/index.js';
import { chinaDateOf, workingDaysAfter } from '../calendar/index.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { imposeUserSanction } from '../gateway/sanctions.js';
import { compileLibrary, createLibrary, isRiskCode, type KeywordLibrary, parseLibrary } from '../safety/index.js';
import { type DeskIncidentActionRow, type DeskIncidentRow, type Store, StoreConflictError } from '../store/index.js';
import { clockState, GRADE_NAMES, INCIDENT_GRADES, type IncidentGrade, type ReportClock, reportClock } from './incident-clock.js';

/** The stored keyword library stop-generation terms go into, unless configured otherwise. */
export const INCIDENT_KEYWORD_LIBRARY = 'incident-stop';

export class IncidentInputError extends InvalidInputError {
  constructor(message: string) {
    super('E_DESK_INCIDENT_INVALID', message);
  }
}

export class IncidentNotFoundError extends NotFoundError {
  constructor(ref: string) {
    super('E_DESK_INCIDENT_NOT_FOUND', `there is no incident ${JSON.stringify(ref.slice(0, 40))}; references look like INC-2026-000001`);
  }
}

const text = (max: number) => z.string().trim().min(1).max(max);
const riskCode = z.string().refine((r) => isRiskCode(r), { message: 'a GB/T 45654 risk code such as A1.6' });
const userName = z.string().min(1).max(200);

const openSchema = z.strictObject({
  title: text(200),
  description: text(10_000),
  grade: z.enum(INCIDENT_GRADES),
  cii: z.boolean().default(false),
  source: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('complaint'), caseRef: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/, 'a case reference such as CP-2026-000012') }),
    z.strictObject({ kind: z.literal('block-pattern'), risk: riskCode, blocks: z.number().int().min(1), from: z.iso.datetime(), to: z.iso.datetime() }),
    z.strictObject({ kind: z.literal('manual') }),
  ]),
  risks: z.array(riskCode).max(31).default([]),
  users: z.array(userName).max(1000).default([]),
  /** When the incident was detected (default: now); the report clock runs from here. */
  detectedAt: z.iso.datetime().optional(),
});
export type OpenIncidentInput = z.input<typeof openSchema>;

const stopSchema = z.strictObject({ terms: z.array(text(100)).min(1).max(100), risk: riskCode });
const removeSchema = z.strictObject({ users: z.array(userName).max(1000).optional(), media: z.array(z.string().min(1).max(100)).max(10_000).optional() });
const optimiseSchema = z.strictObject({ task: text(2000), workingDays: z.number().int().min(1).max(250).default(10) });
const measureSchema = z.strictObject({
  user: userName,
  action: z.enum(['warn', 'limit', 'suspend']),
  /** Minutes a limit or suspension lasts; absent: a suspension until lifted (a limit needs it). */
  minutes: z.number().int().min(1).max(525_600).optional(),
  perMinute: z.number().int().min(1).max(10_000).default(1),
  reason: text(500),
});
const reportSchema = z.strictObject({ authority: text(200), note: z.string().max(5000).optional() });
const closeSchema = z.strictObject({ summary: text(5000) });

function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new IncidentInputError(`${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

export interface IncidentAction {
  kind: string;
  at: string;
  actor: string;
  detail: Record<string, unknown>;
}

/** An incident as the dashboard, the CLI and the export show it. */
export interface IncidentView {
  ref: string;
  title: string;
  description: string;
  grade: IncidentGrade;
  gradeName: { zh: string; en: string };
  cii: boolean;
  source: string;
  sourceRef: string | null;
  risks: string[];
  users: string[];
  state: 'open' | 'reported' | 'closed';
  detectedAt: string;
  openedAt: string;
  openedBy: string;
  report: {
    hours: 1 | 4 | null;
    dueAt: string | null;
    basis: { zh: string; en: string };
    obligation: ReportClock['obligation'];
    recipient: ReportClock['recipient'];
    citations: ReportClock['citations'];
    verified: false;
    reportedAt: string | null;
    remainingMs: number | null;
    overdue: boolean;
    reportedInTime: boolean | null;
  };
  optimisationDue: string | null;
  closedAt: string | null;
  updatedAt: string;
  actions: IncidentAction[];
}

/** A risk the gateway blocked at least `threshold` times in a window. */
export interface BlockPattern {
  risk: string;
  blocks: number;
  from: string;
  to: string;
  /** The gateway users (pseudonymous ids) with the most blocks for it, most first. */
  users: { user: string; blocks: number }[];
}

export interface IncidentDeskOptions {
  audit: AuditLog;
  clock?: () => Date;
  /** The stored keyword library stop-generation writes to (default `incident-stop`). */
  keywordLibrary?: string;
}

export class IncidentDesk {
  readonly #store: Store;
  readonly #audit: AuditLog;
  readonly #clock: () => Date;
  readonly keywordLibrary: string;

  constructor(store: Store, options: IncidentDeskOptions) {
    this.#store = store;
    this.#audit = options.audit;
    this.#clock = options.clock ?? (() => new Date());
    this.keywordLibrary = options.keywordLibrary ?? INCIDENT_KEYWORD_LIBRARY;
  }

  /** Opens an incident; the report clock starts at `detectedAt`. */
  async open(input: OpenIncidentInput, actor: string): Promise<IncidentView> {
    const data = parse(openSchema, input);
    const now = this.#clock();
    const detectedAt = data.detectedAt ? new Date(data.detectedAt) : now;
    if (detectedAt.getTime() > now.getTime() + 60_000) throw new IncidentInputError('detectedAt: lies in the future');
    const users = await this.#userIds(data.users);
    const clock = reportClock(data.grade, data.cii, detectedAt);
    const source = data.source;
    const sourceRef = source.kind === 'complaint' ? source.caseRef : source.kind === 'block-pattern' ? JSON.stringify({ risk: source.risk, blocks: source.blocks, from: source.from, to: source.to }) : null;
    const risks = [...new Set([...data.risks, ...(source.kind === 'block-pattern' ? [source.risk] : [])])].sort();
    const at = now.toISOString();
    const row = await this.#store.deskIncidents.create(
      {
        title: data.title,
        description: data.description,
        grade: data.grade,
        cii: data.cii ? 1 : 0,
        source: source.kind,
        source_ref: sourceRef,
        risks: JSON.stringify(risks),
        users: JSON.stringify(users),
        state: 'open',
        detected_at: detectedAt.toISOString(),
        opened_at: at,
        opened_by: actor,
        report_due_at: clock.dueAt,
        reported_at: null,
        optimisation_due: null,
        closed_at: null,
        updated_at: at,
      },
      { kind: 'open', actor, detail: JSON.stringify({ source: source.kind, sourceRef, grade: data.grade, reportDueAt: clock.dueAt }) },
    );
    await this.#record(row.ref, 'open', actor, risks, { grade: data.grade, cii: data.cii, source: source.kind, sourceRef, reportDueAt: clock.dueAt, users: users.length });
    return this.get(row.ref);
  }

  /** Risks the gateway blocked at least `threshold` times between `from` and `to`, from the audit log. */
  async blockPatterns(window: { from: Date; to: Date; threshold: number }): Promise<BlockPattern[]> {
    if (!Number.isInteger(window.threshold) || window.threshold < 1) throw new IncidentInputError('threshold: a whole number of blocks, at least 1');
    const counts = await this.#audit.counts({ from: window.from, to: window.to, type: 'gateway.request' });
    const patterns: BlockPattern[] = [];
    for (const entry of counts.byRisk) {
      if (entry.outcome !== 'block' || entry.count < window.threshold) continue;
      const byUser = new Map<string, number>();
      let cursor: string | null = null;
      let read = 0;
      do {
        const page = await this.#audit.list({ from: window.from, to: window.to, type: 'gateway.request', risk: entry.risk, outcome: 'block', limit: 500, cursor });
        for (const e of page.events) if (e.actor.startsWith('user:')) byUser.set(e.actor.slice(5), (byUser.get(e.actor.slice(5)) ?? 0) + 1);
        read += page.events.length;
        cursor = page.nextCursor;
      } while (cursor !== null && read < 5000);
      const users = [...byUser].map(([user, blocks]) => ({ user, blocks })).sort((a, b) => b.blocks - a.blocks || a.user.localeCompare(b.user)).slice(0, 50);
      patterns.push({ risk: entry.risk, blocks: entry.count, from: window.from.toISOString(), to: window.to.toISOString(), users });
    }
    return patterns.sort((a, b) => b.blocks - a.blocks);
  }

  async get(ref: string): Promise<IncidentView> {
    const row = await this.#find(ref);
    return this.#view(row, await this.#store.deskIncidents.actions(row.id));
  }

  async list(filter: { state?: string; limit?: number; offset?: number } = {}): Promise<{ incidents: Omit<IncidentView, 'actions'>[]; total: number }> {
    const limit = filter.limit ?? 50;
    const offset = filter.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new IncidentInputError('limit: 1 to 500');
    if (!Number.isInteger(offset) || offset < 0) throw new IncidentInputError('offset: 0 or more');
    if (filter.state !== undefined && !['open', 'reported', 'closed'].includes(filter.state)) throw new IncidentInputError('state: open, reported or closed');
    const { rows, total } = await this.#store.deskIncidents.list({ ...(filter.state ? { state: filter.state } : {}), limit, offset });
    return { incidents: rows.map((row) => omitActions(this.#view(row, []))), total };
  }

  /** Adds `terms` to the live keyword library, so every gateway replica blocks them after its next reload. */
  async stopGeneration(ref: string, input: unknown, actor: string): Promise<IncidentView> {
    const data = parse(stopSchema, input);
    const row = await this.#findOpen(ref);
    const now = this.#clock();
    let saved: { revision: number; added: string[]; present: string[] } | undefined;
    for (let attempt = 0; !saved; attempt++) {
      const stored = await this.#store.keywordLibraries.load(this.keywordLibrary);
      let library: KeywordLibrary;
      if (stored) {
        const { revision: _revision, ...rest } = stored;
        library = parseLibrary(rest);
      } else library = createLibrary(this.keywordLibrary, { updatedAt: now });
      const known = new Set(library.entries.map((e) => e.keyword));
      const added = [...new Set(data.terms)].filter((t) => !known.has(t));
      const present = data.terms.filter((t) => known.has(t));
      const next: KeywordLibrary = {
        ...library,
        updatedAt: now.toISOString(),
        entries: [...library.entries, ...added.map((keyword) => ({ keyword, risk: data.risk as KeywordLibrary['entries'][number]['risk'], mode: 'literal' as const, severity: 'high' as const }))],
      };
      compileLibrary(next);
      try {
        const revision = await this.#store.keywordLibraries.save(next, { expectedRevision: stored?.revision ?? 0, now });
        saved = { revision, added, present };
      } catch (error) {
        if (!(error instanceof StoreConflictError) || attempt >= 3) throw error;
      }
    }
    const detail = { library: this.keywordLibrary, revision: saved.revision, risk: data.risk, added: saved.added, alreadyPresent: saved.present };
    await this.#act(row, 'stop-generation', actor, detail, {});
    await this.#record(row.ref, 'stop-generation', actor, [data.risk], { library: this.keywordLibrary, revision: saved.revision, added: saved.added.length });
    return this.get(ref);
  }

  /** Deletes the stored generated files of the users named (default: the incident's users) and of `media` ids. */
  async removeOutputs(ref: string, input: unknown, actor: string): Promise<IncidentView> {
    const data = parse(removeSchema, input);
    const row = await this.#findOpen(ref);
    const users = data.users ? await this.#userIds(data.users) : (JSON.parse(row.users) as string[]);
    const ids = new Set(data.media ?? []);
    for (const user of users) for (const id of await this.#store.gatewayMedia.idsByUser(user)) ids.add(id);
    const removed = await this.#store.gatewayMedia.delete([...ids]);
    await this.#act(row, 'remove-outputs', actor, { users: users.length, requested: ids.size, removed }, {});
    await this.#record(row.ref, 'remove-outputs', actor, [], { users, removed });
    return this.get(ref);
  }

  /** Records the model-optimisation task, due `workingDays` China working days from today (Beijing date). */
  async optimisation(ref: string, input: unknown, actor: string): Promise<IncidentView> {
    const data = parse(optimiseSchema, input);
    const row = await this.#findOpen(ref);
    const today = chinaDateOf(this.#clock());
    const due = workingDaysAfter(today, data.workingDays, { allowEstimate: true });
    await this.#act(row, 'optimisation', actor, { task: data.task, from: today, workingDays: data.workingDays, due: due.date, estimated: due.estimated }, { optimisation_due: due.date });
    await this.#record(row.ref, 'optimisation', actor, [], { due: due.date, workingDays: data.workingDays, estimated: due.estimated });
    return this.get(ref);
  }

  /** Warns, limits or suspends a gateway user: the sanction record and the state the gateway refuses by, in one transaction. */
  async userMeasure(ref: string, input: unknown, actor: string): Promise<IncidentView> {
    const data = parse(measureSchema, input);
    if (data.action === 'limit' && data.minutes === undefined) throw new IncidentInputError('minutes: a limit needs a duration');
    const row = await this.#findOpen(ref);
    const user = await this.#store.gatewayUsers.findByName(data.user);
    if (!user) throw new IncidentInputError(`user: there is no gateway user named ${JSON.stringify(data.user)}`);
    const now = this.#clock();
    const until = data.action === 'warn' || data.minutes === undefined ? null : now.getTime() + data.minutes * 60_000;
    const sanction = await imposeUserSanction(this.#store, this.#audit, user, { action: data.action, until, perMinute: data.perMinute, reason: `${data.reason} (incident ${row.ref})` }, actor, now, { incident: row.ref });
    const detail = { user: user.id, action: data.action, until: sanction.until, perMinute: data.action === 'limit' ? data.perMinute : null, sanction: sanction.id, reason: data.reason };
    await this.#act(row, 'user-measure', actor, detail, {});
    return this.get(ref);
  }

  /** Records the report to the authority, its content generated from the incident (Chinese). */
  async report(ref: string, input: unknown, actor: string): Promise<IncidentView> {
    const data = parse(reportSchema, input);
    const row = await this.#findOpen(ref);
    if (row.reported_at !== null) throw new StoreConflictError(`incident ${row.ref} was reported at ${row.reported_at}; add a note instead of a second report`);
    const now = this.#clock();
    const before = this.#view(row, await this.#store.deskIncidents.actions(row.id));
    const content = reportText(before, { authority: data.authority, note: data.note ?? null, at: now.toISOString() });
    const inTime = row.report_due_at === null ? null : now.getTime() <= Date.parse(row.report_due_at);
    await this.#act(row, 'report', actor, { authority: data.authority, note: data.note ?? null, content, dueAt: row.report_due_at, inTime }, { reported_at: now.toISOString(), state: 'reported' });
    await this.#record(row.ref, 'report', actor, [], { authority: data.authority, dueAt: row.report_due_at, inTime });
    return this.get(ref);
  }

  async close(ref: string, input: unknown, actor: string): Promise<IncidentView> {
    const data = parse(closeSchema, input);
    const row = await this.#findOpen(ref);
    const at = this.#clock().toISOString();
    await this.#act(row, 'close', actor, { summary: data.summary }, { state: 'closed', closed_at: at });
    await this.#record(row.ref, 'close', actor, [], {});
    return this.get(ref);
  }

  /** The incident as JSON for an authority or an archive. */
  async exportJson(ref: string): Promise<{ format: 'hegui.incident/1'; exportedAt: string; incident: IncidentView; reportText: string }> {
    const incident = await this.get(ref);
    const reported = incident.actions.find((a) => a.kind === 'report');
    return { format: 'hegui.incident/1', exportedAt: this.#clock().toISOString(), incident, reportText: typeof reported?.detail.content === 'string' ? reported.detail.content : reportText(incident, { authority: null, note: null, at: null }) };
  }

  /** The incident as Markdown (Chinese). */
  async exportMarkdown(ref: string): Promise<string> {
    const { incident, reportText: body } = await this.exportJson(ref);
    const lines = [body, '', '## 处置记录', '', '| 时间 | 动作 | 操作者 | 详情 |', '|---|---|---|---|'];
    for (const a of incident.actions) lines.push(`| ${a.at} | ${ACTION_NAMES[a.kind] ?? md(a.kind)} | ${md(a.actor)} | ${md(JSON.stringify(a.detail.content === undefined ? a.detail : { ...a.detail, content: '（见上文）' }))} |`);
    return `${lines.join('\n')}\n`;
  }

  async #find(ref: string): Promise<DeskIncidentRow> {
    if (typeof ref !== 'string' || !/^INC-\d{4}-\d{6}$/.test(ref)) throw new IncidentNotFoundError(String(ref));
    const row = await this.#store.deskIncidents.find(ref);
    if (!row) throw new IncidentNotFoundError(ref);
    return row;
  }

  /** The incident, refusing (conflict) when it is closed: a closed incident takes no more actions. */
  async #findOpen(ref: string): Promise<DeskIncidentRow> {
    const row = await this.#find(ref);
    if (row.state === 'closed') throw new StoreConflictError(`incident ${row.ref} is closed; open a new one for further action`);
    return row;
  }

  async #userIds(names: readonly string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const name of new Set(names)) {
      const user = (await this.#store.gatewayUsers.findByName(name)) ?? (await this.#store.gatewayUsers.findById(name));
      if (!user) throw new IncidentInputError(`users: there is no gateway user ${JSON.stringify(name)}`);
      ids.push(user.id);
    }
    return [...new Set(ids)];
  }

  /**
   * Records an action and applies `patch`. Another operator acting at the same moment changes
   * the incident under us: then the incident is read again and the action recorded after theirs
   * (what was done has been done, so it must be recorded), unless the incident was closed.
   */
  async #act(row: DeskIncidentRow, kind: string, actor: string, detail: Record<string, unknown>, patch: Partial<Pick<DeskIncidentRow, 'state' | 'reported_at' | 'optimisation_due' | 'closed_at'>>): Promise<DeskIncidentActionRow> {
    let current = row;
    for (let attempt = 0; ; attempt++) {
      const at = this.#clock().toISOString();
      // Strictly after the previous change, so the optimistic check always sees a new value.
      const updated = at > current.updated_at ? at : new Date(Date.parse(current.updated_at) + 1).toISOString();
      try {
        return await this.#store.deskIncidents.act(current.id, current.updated_at, { ...patch, updated_at: updated }, { kind, actor, detail: JSON.stringify(detail), at });
      } catch (error) {
        if (!(error instanceof StoreConflictError) || attempt >= 5) throw error;
        current = await this.#findOpen(row.ref);
        if (kind === 'report' && current.reported_at !== null) throw new StoreConflictError(`incident ${row.ref} was reported at ${current.reported_at} meanwhile`);
      }
    }
  }

  async #record(ref: string, action: string, actor: string, risks: readonly string[], payload: JsonObject): Promise<void> {
    await this.#audit.append({ type: 'desk.incident', actor, outcome: action.replace(/-/g, '_'), risks: [...risks], payload: { incident: ref, action, ...payload } });
  }

  #view(row: DeskIncidentRow, actions: readonly DeskIncidentActionRow[]): IncidentView {
    const grade = row.grade as IncidentGrade;
    const clock = reportClock(grade, Number(row.cii) === 1, new Date(row.detected_at));
    return {
      ref: row.ref,
      title: row.title,
      description: row.description,
      grade,
      gradeName: GRADE_NAMES[grade],
      cii: Number(row.cii) === 1,
      source: row.source,
      sourceRef: row.source_ref,
      risks: JSON.parse(row.risks) as string[],
      users: JSON.parse(row.users) as string[],
      state: row.state as IncidentView['state'],
      detectedAt: row.detected_at,
      openedAt: row.opened_at,
      openedBy: row.opened_by,
      report: { hours: clock.hours, dueAt: row.report_due_at, basis: clock.basis, obligation: clock.obligation, recipient: clock.recipient, citations: clock.citations, verified: false, reportedAt: row.reported_at, ...clockState(row.report_due_at, row.reported_at, this.#clock()) },
      optimisationDue: row.optimisation_due,
      closedAt: row.closed_at,
      updatedAt: row.updated_at,
      actions: actions.map((a) => ({ kind: a.kind, at: a.at, actor: a.actor, detail: JSON.parse(a.detail) as Record<string, unknown> })),
    };
  }
}

function omitActions(view: IncidentView): Omit<IncidentView, 'actions'> {
  const { actions: _actions, ...rest } = view;
  return rest;
}

const ACTION_NAMES: Record<string, string> = {
  open: '立案',
  'stop-generation': '停止生成（加入关键词库）',
  'remove-outputs': '删除已存储的生成内容',
  optimisation: '模型优化整改任务',
  'user-measure': '对使用者采取措施',
  report: '向主管部门报告',
  close: '结案',
};

const SOURCE_NAMES: Record<string, string> = { complaint: '投诉举报', 'block-pattern': '网关拦截模式', manual: '人工发现' };
const MEASURE_NAMES: Record<string, string> = { warn: '警示', limit: '限制功能', suspend: '暂停服务' };

/** Text safe in Markdown and in any HTML a renderer makes of it. */
function md(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * The report to the authority (Chinese), generated from the incident and the actions taken.
 *
 * @example
 * reportText(await desk.get('INC-2026-000001'), { authority: '省网信办', note: null, at: new Date().toISOString() });
 */
export function reportText(incident: IncidentView, meta: { authority: string | null; note: string | null; at: string | null }): string {
  const count = (kind: string) => incident.actions.filter((a) => a.kind === kind);
  const stop = count('stop-generation');
  const removed = count('remove-outputs').reduce((n, a) => n + Number(a.detail.removed ?? 0), 0);
  const measures = count('user-measure').map((a) => `${MEASURE_NAMES[String(a.detail.action)] ?? md(String(a.detail.action))}（用户 ${md(String(a.detail.user))}${a.detail.until ? `，至 ${md(String(a.detail.until))}` : ''}）`);
  const optimisation = count('optimisation').at(-1);
  const clock = incident.report;
  const lines = [
    `# 违法内容事件报告：${md(incident.title)}`,
    '',
    `- 事件编号：${incident.ref}`,
    `- 事件分级：${incident.gradeName.zh}${incident.cii ? '（关键信息基础设施）' : ''}`,
    `- 发现时间：${incident.detectedAt}`,
    `- 来源：${SOURCE_NAMES[incident.source] ?? md(incident.source)}${incident.sourceRef ? `（${md(incident.sourceRef)}）` : ''}`,
    `- 涉及风险：${incident.risks.length > 0 ? incident.risks.join('、') : '未标注'}`,
    `- 涉及使用者：${incident.users.length} 名（以化名标识）`,
    `- 报告时限：${clock.dueAt ? `${clock.dueAt}（发现后 ${clock.hours} 小时）` : '无小时级时限'}；依据：${clock.basis.zh}`,
    ...(meta.authority ? [`- 报告对象：${md(meta.authority)}`] : clock.recipient ? [`- 报告对象（第四条）：${clock.recipient.zh}`] : []),
    ...(meta.at ? [`- 报告时间：${meta.at}${clock.dueAt ? (Date.parse(meta.at) <= Date.parse(clock.dueAt) ? '（在时限内）' : '（已超过时限）') : ''}`] : []),
    '',
    '## 事件概况',
    '',
    md(incident.description),
    '',
    '## 已采取的处置措施',
    '',
    `1. 停止生成：${stop.length > 0 ? stop.map((a) => `向关键词库「${md(String(a.detail.library))}」加入 ${(a.detail.added as unknown[] | undefined)?.length ?? 0} 个词条（风险 ${md(String(a.detail.risk))}，版本 ${String(a.detail.revision)}）`).join('；') : '尚未采取'}`,
    `2. 删除内容：${count('remove-outputs').length > 0 ? `已删除存储的生成文件 ${removed} 个` : '尚未采取'}`,
    `3. 模型优化：${optimisation ? `${md(String(optimisation.detail.task))}，完成期限 ${String(optimisation.detail.due)}（${String(optimisation.detail.workingDays)} 个工作日）` : '尚未安排'}`,
    `4. 使用者处置：${measures.length > 0 ? measures.join('；') : '尚未采取'}`,
    ...(meta.note ? ['', '## 补充说明', '', md(meta.note)] : []),
  ];
  return lines.join('\n');
}
