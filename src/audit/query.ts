/**
 * @module audit/query
 * Reading the log for the dashboard: filtered lists with keyset pagination (newest first; a
 * cursor is the last sequence number seen, so pages stay stable while events keep arriving)
 * and counts per type, risk and outcome over a time window. Content never appears in lists;
 * `readAuditContent` decrypts one event's content for those allowed to see it.
 */
import type { AuditEventSummaryRecord, Store } from '../store/index.js';
import { requireContentKeys } from './config.js';
import type { AuditContext } from './context.js';
import { AuditQueryError } from './errors.js';
import type { JsonObject, JsonValue } from './event.js';
import { type AuditTombstone, parseTombstone } from './redact.js';
import { auditSubject, isAbout, subjectPrefilter } from './subjects.js';

/** Filters for `list`; every one optional. */
export interface AuditQuery {
  /** Events at or after this time. */
  from?: Date;
  /** Events before this time. */
  to?: Date;
  type?: string | readonly string[];
  /** Type starts with this (case-insensitive), e.g. `gateway.`. */
  typePrefix?: string;
  actor?: string;
  /** Actor contains this (case-insensitive). */
  actorContains?: string;
  /** Events about this subject (`user:<pseudonym>`, `operator:<id>`) under the shared rule of `audit/subjects`. */
  subject?: string;
  /** Events whose payload's `requestId` is exactly this. */
  requestId?: string;
  /** Events that raised this risk code. */
  risk?: string;
  outcome?: string;
  /** Page size, 1 to 500 (default 50). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string | null;
}

/** An event as the dashboard shows it: metadata, and whether content is kept. */
export interface AuditEventView {
  seq: number;
  at: string;
  type: string;
  actor: string;
  outcome: string | null;
  risks: string[];
  payload: JsonObject;
  hasContent: boolean;
  /** The tombstone when the content was redacted at a request (`request`, `by`, `at`, `event`). */
  redaction: AuditTombstone | null;
  hash: string;
}

export interface AuditPage {
  events: AuditEventView[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** A time window for counts: `from` inclusive, `to` exclusive; `type` narrows every count. */
export interface AuditCountWindow {
  from: Date;
  to: Date;
  type?: string;
}

export interface AuditCounts {
  from: string;
  to: string;
  total: number;
  byType: { type: string; outcome: string | null; count: number }[];
  byRisk: { risk: string; outcome: string | null; count: number }[];
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
const MAX_ROUNDS = 20;

export function toView(record: AuditEventSummaryRecord): AuditEventView {
  return {
    seq: record.seq,
    at: record.at,
    type: record.type,
    actor: record.actor,
    outcome: record.outcome,
    risks: JSON.parse(record.risks) as string[],
    payload: JSON.parse(record.payload) as JsonObject,
    hasContent: record.contentSha256 !== null && record.redaction === null,
    redaction: record.redaction === null ? null : (parseTombstone(record.redaction) ?? null),
    hash: record.hash,
  };
}

/** One page of events matching `query`, newest first. @throws AuditQueryError for a bad limit, cursor or time. */
export async function listAuditEvents(store: Store, query: AuditQuery = {}): Promise<AuditPage> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new AuditQueryError(`limit must be a whole number from 1 to ${MAX_LIMIT}, not ${limit}`);
  const cursor = query.cursor ?? undefined;
  if (cursor !== undefined && !/^[1-9]\d{0,15}$/.test(cursor)) throw new AuditQueryError(`cursor "${cursor}" is not one this API returned`);
  const types = query.type === undefined ? undefined : typeof query.type === 'string' ? [query.type] : [...query.type];
  const subject = query.subject === undefined ? undefined : auditSubject(query.subject);
  const requestId = query.requestId;
  if (requestId !== undefined && (requestId.length === 0 || requestId.length > 200)) throw new AuditQueryError('a request id has 1 to 200 characters');
  // The store narrows (LIKE on canonical payload text); these decide exactly.
  const exact = (view: AuditEventView): boolean => (subject === undefined || isAbout(view, subject)) && (requestId === undefined || view.payload.requestId === requestId);
  const narrowed = subject !== undefined || requestId !== undefined;
  const events: AuditEventView[] = [];
  let before = cursor === undefined ? undefined : Number(cursor);
  // A bounded number of store pages per answer; past it, the cursor lets the caller go on.
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const rows = await store.audit.list({
      from: query.from && isoTime(query.from, 'from'),
      to: query.to && isoTime(query.to, 'to'),
      types,
      typePrefix: query.typePrefix,
      actor: query.actor,
      actorContains: query.actorContains,
      about: subject && subjectPrefilter(subject),
      payloadContains: requestId === undefined ? undefined : [`"requestId":${JSON.stringify(requestId)}`],
      risk: query.risk,
      outcome: query.outcome,
      beforeSeq: before,
      limit,
    });
    for (const row of rows) {
      const view = toView(row);
      before = view.seq;
      if (!narrowed || exact(view)) events.push(view);
      if (events.length === limit) return { events, nextCursor: String(view.seq) };
    }
    if (rows.length < limit) return { events, nextCursor: null };
  }
  return { events, nextCursor: before === undefined ? null : String(before) };
}

/** Events per type, risk and outcome in a window. */
export async function countAuditEvents(store: Store, window: AuditCountWindow): Promise<AuditCounts> {
  const from = isoTime(window.from, 'from');
  const to = isoTime(window.to, 'to');
  if (from >= to) throw new AuditQueryError(`the window is empty: from ${from} is not before to ${to}`);
  const [types, risks] = await Promise.all([store.audit.countByType({ from, to }), store.audit.countByRisk({ from, to, type: window.type })]);
  const byType = types.filter((r) => window.type === undefined || r.key === window.type).map((r) => ({ type: r.key, outcome: r.outcome, count: r.count }));
  return {
    from,
    to,
    total: byType.reduce((sum, r) => sum + r.count, 0),
    byType,
    byRisk: risks.map((r) => ({ risk: r.key, outcome: r.outcome, count: r.count })),
  };
}

/**
 * The decrypted content of event `seq`, or undefined when it kept none.
 *
 * @throws AuditKeyError without content keys; AuditQueryError when there is no such event;
 *   AuditContentError when its key is not configured or the ciphertext was altered.
 */
export async function readAuditContent(context: AuditContext, seq: number): Promise<JsonValue | undefined> {
  const record = await context.store.audit.find(seq);
  if (!record) throw new AuditQueryError(`there is no audit event ${seq}`);
  if (record.content === null || record.contentKeyId === null) return undefined;
  const keys = requireContentKeys(context.contentKeys, 'reading audit content');
  return JSON.parse(keys.open(record.content, record.contentKeyId).toString('utf8')) as JsonValue;
}

export function isoTime(date: Date, name: string): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new AuditQueryError(`${name} is not a valid date`);
  return date.toISOString();
}
