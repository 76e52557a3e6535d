/**
 * @module desk/subject
 * What hegui holds on one person, gathered, erased or switched off for a personal-information
 * request (PIPL Art. 44-47; AI Measures Art. 11): the `SubjectData` port of `./subject-port`.
 *
 * A person is known by the gateway user they proved control of and/or a contact address. hegui
 * holds on them: the gateway user row and its API keys, the usage state the replicas share,
 * the sanctions taken against them, the audit events they acted in or that name them (with the
 * content kept, decrypted), and the generated files the gateway stores for them. Other parts
 * (the desk's own cases) add their sections through `sources`.
 *
 * Erasure removes what no law keeps, and says what it keeps and why:
 * - the audit events stay (network logs are kept at least 6 months: Cybersecurity Law
 *   Art. 21(3); Labeling Measures Art. 9), but their content is redacted: a tombstone naming the
 *   request replaces it and the chain still verifies (`src/audit/redact.ts`);
 * - sanction records stay (AI Measures Art. 14: keep records of the measures taken), with the logs;
 * - the gateway user row stays, pseudonymised (name and flags replaced, disabled), when the
 *   audit log or a sanction refers to its id; otherwise it is deleted;
 * - API keys, usage state and stored generated files are deleted.
 * It is idempotent: run again (after a crash), it finishes what is left and reports the rest as kept.
 */
import { createHash } from 'node:crypto';
import { type AuditLog, type JsonValue, LEGAL_MIN_RETENTION_MONTHS } from '../audit/index.js';
import { HeguiError, InvalidInputError } from '../errors.js';
import type { AuditEventSummaryRecord, GatewayUser, Store } from '../store/index.js';
import type { ErasureReport, SubjectData, SubjectRecords, SubjectRef } from './subject-port.js';

type Title = { readonly zh: string; readonly en: string };
type Row = Readonly<Record<string, unknown>>;
type Entry = { what: string; count: number };
type KeptEntry = ErasureReport['kept'][number];

/** Another part's data on a person (e.g. the desk's own cases), joined into collect and erase. */
export interface SubjectSource {
  readonly id: string;
  readonly title: Title;
  collect(subject: SubjectRef, user: GatewayUser | undefined): Promise<readonly Row[]>;
  erase?(
    subject: SubjectRef,
    user: GatewayUser | undefined,
    request: { readonly requestRef: string; readonly actor: string },
  ): Promise<{ removed?: readonly Entry[]; pseudonymised?: readonly Entry[]; kept?: readonly KeptEntry[] }>;
}

export interface SubjectDataOptions {
  /** The process's audit log: reads kept content (with its content key), redacts, records each action. */
  audit: AuditLog;
  /** Months the audit log is kept (at least 6, the default): what the `until` of kept events says. */
  retentionMonths?: number;
  clock?: () => Date;
  sources?: readonly SubjectSource[];
}

/** The person named is not known to hegui (no such gateway user). */
export class SubjectNotFoundError extends HeguiError {
  constructor(message: string) {
    super('E_DESK_SUBJECT_NOT_FOUND', message, { exitCode: 2 });
  }
}

/** A subject or request that cannot be acted on (nothing to identify the person, a malformed reference). */
export class SubjectInputError extends InvalidInputError {
  constructor(message: string) {
    super('E_DESK_SUBJECT_INVALID', message);
  }
}

export const SUBJECT_TITLES = {
  'gateway-user': { zh: '网关用户账号', en: 'Gateway user account' },
  'gateway-api-keys': { zh: 'API 密钥（仅前缀）', en: 'API keys (prefix only)' },
  'gateway-usage': { zh: '用量状态', en: 'Usage state' },
  'gateway-sanctions': { zh: '处置记录（警示、限制、暂停）', en: 'Sanctions (warnings, limits, suspensions)' },
  'audit-events': { zh: '审计日志中的相关事件', en: 'Audit log events about you' },
  'gateway-media': { zh: '存储的生成文件', en: 'Stored generated files' },
} as const satisfies Record<string, Title>;

const LOG_RULE: Title = {
  zh: '网络日志留存不少于六个月（《网络安全法》第二十一条第三项；《人工智能生成合成内容标识办法》第九条）；内容已删除，仅保留元数据',
  en: 'network logs are kept at least six months (Cybersecurity Law Art. 21(3); Labeling Measures Art. 9); their content was removed, metadata kept',
};
const SANCTION_RULE: Title = {
  zh: '对违法使用者采取处置措施须保存有关记录（《生成式人工智能服务管理暂行办法》第十四条），随日志留存',
  en: 'records of measures taken against a user must be kept (AI Measures Art. 14), kept with the logs',
};

const REQUEST = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const ACTOR = /^[a-z][a-z0-9_]*:[^\s]{1,200}$/;
const PAGE = 500;

/** `date` plus `months` calendar months, the day clamped to the end of a shorter month. */
export function addMonths(date: Date, months: number): Date {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const result = new Date(date.getTime());
  result.setUTCFullYear(year, month, Math.min(date.getUTCDate(), lastDay));
  return result;
}

/** The name a pseudonymised gateway user gets: derived from its id, so it stays unique. */
export function erasedName(userId: string): string {
  return `erased:${createHash('sha256').update(`hegui.erased/1\0${userId}`).digest('hex').slice(0, 16)}`;
}

/**
 * The `SubjectData` port over a store.
 *
 * @example
 * const subjects = createSubjectData(store, { audit: log });
 * const records = await subjects.collect({ gatewayUser: 'app-42' });
 * const report = await subjects.erase({ gatewayUser: 'app-42' }, { requestRef: 'PI-2026-000123', actor: 'operator:7' });
 */
export function createSubjectData(store: Store, options: SubjectDataOptions): SubjectData {
  const clock = options.clock ?? (() => new Date());
  const retentionMonths = options.retentionMonths ?? LEGAL_MIN_RETENTION_MONTHS;
  const sources = options.sources ?? [];
  const log = options.audit;

  async function resolve(subject: SubjectRef): Promise<GatewayUser | undefined> {
    checkSubject(subject);
    return subject.gatewayUser === undefined ? undefined : store.gatewayUsers.findByName(subject.gatewayUser);
  }

  /** Every audit event about the person, oldest first, without content. */
  async function auditEvents(subject: SubjectRef, user: GatewayUser | undefined): Promise<AuditEventSummaryRecord[]> {
    const actors = user ? [`user:${user.id}`] : [];
    const mentions = [...(user ? [JSON.stringify(user.id)] : []), ...(subject.contact ? [JSON.stringify(subject.contact)] : [])];
    const events: AuditEventSummaryRecord[] = [];
    for (let after = 0; ; ) {
      const page = await store.audit.listConcerning({ actors, mentions, afterSeq: after, limit: PAGE });
      events.push(...page.events);
      if (page.nextAfter === null) break;
      after = page.nextAfter;
    }
    return events;
  }

  async function usageSubjects(user: GatewayUser): Promise<string[]> {
    const keys = await store.gatewayUsers.listKeys(user.id);
    return [`user:${user.id}`, ...keys.map((k) => `key:${k.keyHash.slice(0, 16)}`)];
  }

  return {
    async collect(subject) {
      const user = await resolve(subject);
      const collectedAt = clock().toISOString();
      const sections: SubjectRecords['sections'][number][] = [];
      const section = (id: keyof typeof SUBJECT_TITLES, rows: readonly Row[]): void => {
        sections.push({ id, title: SUBJECT_TITLES[id], rows });
      };
      if (user) {
        section('gateway-user', [{ id: user.id, name: user.name, verified: user.verified, minor: user.minor, createdAt: user.createdAt, disabledAt: user.disabledAt }]);
        const keys = await store.gatewayUsers.listKeys(user.id);
        section('gateway-api-keys', keys.map((k) => ({ prefix: k.prefix, name: k.name, createdAt: k.createdAt, revokedAt: k.revokedAt, expiresAt: k.expiresAt, models: k.models, tokenBudget: k.tokenBudget, tokensUsed: k.tokensUsed, spendBudget: k.spendBudget, spendCurrency: k.spendCurrency, spendUsed: k.spendUsed })));
        const states = await store.gatewayUsage.read(await usageSubjects(user));
        section('gateway-usage', [...states].map(([usageSubject, state]) => ({ subject: usageSubject, state: parseJson(state) })));
        const sanctions = await store.gatewaySanctions.list(user.id, 10_000);
        section('gateway-sanctions', sanctions.map((s) => ({ ...s })));
      }
      const events = await auditEvents(subject, user);
      const rows: Row[] = [];
      for (const event of events) rows.push(await auditRow(log, event));
      section('audit-events', rows);
      if (user) {
        const media = await store.gatewayMedia.listByUser(user.id);
        section(
          'gateway-media',
          media.map((m) => ({ id: m.id, contentType: m.contentType, size: m.bytes.length, createdAt: m.createdAt, expiresAt: m.expiresAt, base64: Buffer.from(m.bytes).toString('base64') })),
        );
      }
      for (const source of sources) sections.push({ id: source.id, title: source.title, rows: await source.collect(subject, user) });
      return { subject: { ...subject }, collectedAt, sections };
    },

    async erase(subject, request) {
      checkRequest(request);
      const user = await resolve(subject);
      const now = clock();
      const removed: Entry[] = [];
      const pseudonymised: Entry[] = [];
      const kept: KeptEntry[] = [];

      // 1. The content of the audit events about them: tombstones, in one transaction with the
      //    redaction event. Done first: the events themselves are found by the user's id, which survives.
      const events = await auditEvents(subject, user);
      const withContent = events.filter((e) => e.contentSha256 !== null && e.redaction === null).map((e) => e.seq);
      const redaction = await log.redact({ seqs: withContent, request: request.requestRef, actor: request.actor, reason: 'personal-information erasure' });
      if (redaction.redacted.length > 0) removed.push({ what: 'audit event content (replaced by a tombstone)', count: redaction.redacted.length });
      const lastEventAt = events.at(-1)?.at;
      if (events.length > 0 && lastEventAt) {
        kept.push({ what: 'audit events (metadata, pseudonymous actor)', count: events.length, rule: LOG_RULE, until: addMonths(new Date(lastEventAt), retentionMonths).toISOString().slice(0, 10) });
      }

      // 2. The gateway's rows, in one transaction.
      if (user) {
        const sanctions = await store.gatewaySanctions.list(user.id, 10_000);
        const subjects = await usageSubjects(user);
        const result = await store.transaction(async (tx) => {
          const media = await tx.gatewayMedia.delete(await tx.gatewayMedia.idsByUser(user.id));
          const usage = await tx.gatewayUsage.delete(subjects);
          const keys = await tx.gatewayUsers.deleteKeys(user.id);
          const referenced = events.length > 0 || sanctions.length > 0;
          if (referenced) await tx.gatewayUsers.pseudonymise(user.id, erasedName(user.id), now);
          else await tx.gatewayUsers.delete(user.id);
          return { media, usage, keys, referenced };
        });
        if (result.media > 0) removed.push({ what: 'stored generated files', count: result.media });
        if (result.usage > 0) removed.push({ what: 'usage state', count: result.usage });
        if (result.keys > 0) removed.push({ what: 'API keys', count: result.keys });
        if (result.referenced) pseudonymised.push({ what: 'gateway user (name and flags replaced, account disabled; its id is the audit pseudonym)', count: 1 });
        else removed.push({ what: 'gateway user', count: 1 });
        const lastSanction = sanctions[0]?.createdAt;
        if (lastSanction) {
          kept.push({ what: 'sanction records', count: sanctions.length, rule: SANCTION_RULE, until: addMonths(new Date(lastSanction), retentionMonths).toISOString().slice(0, 10) });
        }
      }

      for (const source of sources) {
        const part = (await source.erase?.(subject, user, request)) ?? {};
        removed.push(...(part.removed ?? []));
        pseudonymised.push(...(part.pseudonymised ?? []));
        kept.push(...(part.kept ?? []));
      }

      const report: ErasureReport = { subject: { ...subject }, requestRef: request.requestRef, removed, pseudonymised, kept };
      await log.append({
        type: 'desk.erase',
        actor: request.actor,
        outcome: 'redact',
        payload: {
          request: request.requestRef,
          user: user?.id ?? null,
          redactedEvents: redaction.redacted.length,
          redactionEvents: redaction.events,
          removed: removed.map((r) => ({ what: r.what, count: r.count })),
          pseudonymised: pseudonymised.map((r) => ({ what: r.what, count: r.count })),
          kept: kept.map((k) => ({ what: k.what, count: k.count, until: k.until })),
        },
      });
      return report;
    },

    async disable(subject, request) {
      checkRequest(request);
      if (typeof request.reason !== 'string' || request.reason.trim() === '' || request.reason.length > 1000) {
        throw new SubjectInputError('a reason (1 to 1000 characters) is required to disable a user, e.g. "consent withdrawn"');
      }
      const user = await resolve(subject);
      if (!user) {
        throw new SubjectNotFoundError(
          subject.gatewayUser === undefined
            ? 'disabling needs the gateway user the requester proved control of; a contact alone names no account'
            : `there is no gateway user named ${JSON.stringify(subject.gatewayUser)}`,
        );
      }
      const now = clock();
      const revoked = await store.transaction(async (tx) => {
        if (user.disabledAt === null) await tx.gatewayUsers.disable(user.id, now);
        return tx.gatewayUsers.revokeAllKeys(user.id, now);
      });
      await log.append({
        type: 'desk.disable',
        actor: request.actor,
        outcome: 'block',
        payload: { request: request.requestRef, user: user.id, reason: request.reason, alreadyDisabled: user.disabledAt !== null, keysRevoked: revoked },
      });
    },
  };
}

function checkSubject(subject: SubjectRef): void {
  if (typeof subject !== 'object' || subject === null) throw new SubjectInputError('a subject is { gatewayUser?, contact? }');
  const { gatewayUser, contact } = subject;
  if (gatewayUser === undefined && contact === undefined) throw new SubjectInputError('name the person: the gateway user they proved control of, or their contact');
  if (gatewayUser !== undefined && (typeof gatewayUser !== 'string' || gatewayUser.length === 0 || gatewayUser.length > 200)) {
    throw new SubjectInputError('gatewayUser must be a user name of 1 to 200 characters');
  }
  if (contact !== undefined && (typeof contact !== 'string' || contact.trim().length < 3 || contact.length > 320)) {
    throw new SubjectInputError('contact must be an e-mail address or phone number of 3 to 320 characters');
  }
}

function checkRequest(request: { readonly requestRef: string; readonly actor: string }): void {
  if (typeof request?.requestRef !== 'string' || !REQUEST.test(request.requestRef)) {
    throw new SubjectInputError(`requestRef ${JSON.stringify(request?.requestRef)} must be a case reference such as PI-2026-000123`);
  }
  if (typeof request.actor !== 'string' || !ACTOR.test(request.actor)) {
    throw new SubjectInputError(`actor ${JSON.stringify(request.actor)} must be an audit actor such as operator:<id> or system:desk`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** An audit event as the person receives it: metadata, and the content kept (decrypted) or what became of it. */
async function auditRow(log: AuditLog, event: AuditEventSummaryRecord): Promise<Row> {
  const base = {
    seq: event.seq,
    at: event.at,
    type: event.type,
    actor: event.actor,
    outcome: event.outcome,
    risks: JSON.parse(event.risks) as string[],
    payload: JSON.parse(event.payload) as Record<string, unknown>,
  };
  if (event.redaction !== null) return { ...base, content: null, contentStatus: 'redacted', redaction: parseJson(event.redaction) };
  if (event.contentSha256 === null) return { ...base, content: null, contentStatus: 'none' };
  let content: JsonValue | undefined;
  try {
    content = await log.readContent(event.seq);
  } catch (error) {
    // Kept but not readable here (no key configured): say so, never pretend there is none.
    return { ...base, content: null, contentStatus: 'unreadable', contentProblem: (error as Error).message };
  }
  return { ...base, content: content ?? null, contentStatus: content === undefined ? 'redacted' : 'kept' };
}
