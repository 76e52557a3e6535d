/**
 * @module audit/redact
 * Redaction at a person's request (PIPL Art. 47; AI Measures Art. 11): an event's encrypted
 * content is dropped and a tombstone takes its place, while the event itself (its metadata,
 * which the 6-month log floor keeps) and the chain stay verifiable. That works because the
 * chain hashes the SHA-256 of the content, not the content: removing the bytes changes no hash.
 *
 * What keeps a redaction honest:
 * - the redaction is itself an `audit.redact` event in the chain, naming the request and every
 *   event it redacted, written in the same transaction as the tombstones (never half applied);
 * - a tombstone (`{"at","by","event","request"}`) names that event; `verify` finds it and checks
 *   that it lists the redacted event, under the same request, actor and time. Content removed
 *   without a tombstone, a tombstone no redaction event vouches for, a tombstone beside content,
 *   or one altered after the fact are all findings: "redacted by request N" is told apart from
 *   tampering. The tombstone column is not hashed (it is written after the event), so these
 *   checks are what protect it.
 */
import type { AuditEventRecord, AuditRedactionPlan, AuditRedactionTarget, Store } from '../store/index.js';
import { chainAfter, eventHash, type SealedEvent } from './chain.js';
import type { AuditContext } from './context.js';
import { AuditEventError } from './errors.js';
import { canonicalJson, checkEvent, type JsonObject } from './event.js';
import type { AuditFinding } from './walk.js';

/** The event type a redaction records itself as. */
export const AUDIT_REDACT_TYPE = 'audit.redact';

/** What replaces redacted content. */
export interface AuditTombstone {
  /** The request that asked for it, e.g. `PI-2026-000123`. */
  request: string;
  /** The actor of the redaction, e.g. `operator:<id>`. */
  by: string;
  /** When it was redacted (the `audit.redact` event's time). */
  at: string;
  /** Sequence number of the `audit.redact` event that records it. */
  event: number;
}

export interface AuditRedactOptions {
  /** The events whose content goes. */
  seqs: readonly number[];
  /** The request that asks for it (a desk case reference such as `PI-2026-000123`). */
  request: string;
  /** Who redacts, as an audit actor (`operator:<id>`, `system:desk`). */
  actor: string;
  /** Why, in a few words (e.g. "erasure request"); kept in the redaction event. */
  reason?: string;
}

export interface AuditRedactResult {
  request: string;
  /** Events whose content was replaced by a tombstone now. */
  redacted: number[];
  /** Events already redacted earlier (by this or another request): left as they were. */
  alreadyRedacted: { seq: number; request: string }[];
  /** Events that kept no content: nothing to redact. */
  withoutContent: number[];
  /** Numbers with no stored event (never written, or purged). */
  missing: number[];
  /** The `audit.redact` events written (none when nothing was redacted). */
  events: number[];
}

const REQUEST = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
/** Events named per `audit.redact` event: keeps its payload well under the 64 KiB bound. */
const SEQS_PER_EVENT = 2000;
/** Most events one call may name. */
const MAX_SEQS = 1_000_000;

/** Parses a stored tombstone; undefined when it is not one hegui writes. */
export function parseTombstone(text: string): AuditTombstone | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const t = value as Record<string, unknown>;
  if (Object.keys(t).length !== 4) return undefined;
  if (typeof t.request !== 'string' || typeof t.by !== 'string' || typeof t.at !== 'string' || !Number.isSafeInteger(t.event)) return undefined;
  return { request: t.request, by: t.by, at: t.at, event: t.event as number };
}

/** `redacted by request PI-2026-000123 (operator:7, 2026-12-04T10:00:00.000Z, event 42)` */
export function describeTombstone(tombstone: AuditTombstone): string {
  return `redacted by request ${tombstone.request} (${tombstone.by}, ${tombstone.at}, event ${tombstone.event})`;
}

/**
 * Replaces the content of `options.seqs` with tombstones and records the redaction.
 *
 * @throws AuditEventError for a malformed request reference, actor or list of events.
 */
export async function redactAuditContent(context: AuditContext, options: AuditRedactOptions): Promise<AuditRedactResult> {
  if (typeof options.request !== 'string' || !REQUEST.test(options.request)) {
    throw new AuditEventError(`request ${JSON.stringify(options.request)} must be a reference such as PI-2026-000123 (letters, digits, . _ : / -, at most 64)`);
  }
  if (!Array.isArray(options.seqs) || options.seqs.length > MAX_SEQS || options.seqs.some((s) => !Number.isSafeInteger(s) || s < 1)) {
    throw new AuditEventError(`seqs must be up to ${MAX_SEQS} positive event numbers`);
  }
  // Checks the actor and reason the way every event is checked, before anything is locked.
  checkEvent({ type: AUDIT_REDACT_TYPE, actor: options.actor, payload: { reason: options.reason ?? null } });
  const wanted = [...new Set(options.seqs)].sort((a, b) => a - b);
  const result: AuditRedactResult = { request: options.request, redacted: [], alreadyRedacted: [], withoutContent: [], missing: [], events: [] };
  if (wanted.length === 0) return result;

  const at = context.clock().toISOString();
  await context.store.audit.redact(wanted, (head, targets) => {
    const found = new Set(targets.map((t) => t.seq));
    result.missing = wanted.filter((s) => !found.has(s));
    result.alreadyRedacted = [];
    result.withoutContent = [];
    const toRedact: AuditRedactionTarget[] = [];
    for (const target of targets) {
      if (target.redaction !== null) result.alreadyRedacted.push({ seq: target.seq, request: parseTombstone(target.redaction)?.request ?? 'unreadable tombstone' });
      else if (!target.hasContent) result.withoutContent.push(target.seq);
      else toRedact.push(target);
    }
    const plan: AuditRedactionPlan = { events: [], tombstones: [] };
    if (toRedact.length === 0) return plan;
    const sealed: SealedEvent[] = [];
    for (let i = 0; i < toRedact.length; i += SEQS_PER_EVENT) {
      const seqs = toRedact.slice(i, i + SEQS_PER_EVENT).map((t) => t.seq);
      const payload: JsonObject = { request: options.request, seqs, reason: options.reason ?? null };
      const checked = checkEvent({ type: AUDIT_REDACT_TYPE, actor: options.actor, outcome: 'redact', payload });
      sealed.push({ at, checked, content: null, contentSha256: null, contentKeyId: null });
    }
    plan.events = chainAfter(head, sealed);
    plan.events.forEach((event, i) => {
      for (const target of toRedact.slice(i * SEQS_PER_EVENT, (i + 1) * SEQS_PER_EVENT)) {
        const tombstone: AuditTombstone = { request: options.request, by: options.actor, at, event: event.seq };
        plan.tombstones.push({ seq: target.seq, redaction: canonicalJson(tombstone) });
      }
    });
    result.redacted = toRedact.map((t) => t.seq);
    result.events = plan.events.map((e) => e.seq);
    return plan;
  });
  return result;
}

/** Redaction events looked up by a walk, kept for the tombstones that follow. */
const CACHE = 64;

/**
 * Checks tombstones against the `audit.redact` events that must vouch for them, during a walk
 * (verify, export), and counts the redactions it accepts by request.
 */
export class TombstoneChecker {
  readonly #store: Store;
  readonly #cache = new Map<number, AuditEventRecord | null>();
  /** Events found redacted (and vouched for), per request. */
  readonly byRequest: Record<string, number> = {};
  redacted = 0;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Findings for `row`'s tombstone (none when it has none, or when it is vouched for). */
  async check(row: AuditEventRecord): Promise<AuditFinding[]> {
    if (row.redaction === null) return [];
    const altered = (reason: string): AuditFinding[] => [{ kind: 'altered', seq: row.seq, reason }];
    if (row.content !== null) return altered('it holds content and a redaction tombstone at once');
    const tombstone = parseTombstone(row.redaction);
    if (!tombstone) return altered('its redaction tombstone is not one hegui writes');
    if (row.contentSha256 === null) return altered(`its tombstone says ${describeTombstone(tombstone)}, but its hash covers no content`);
    if (tombstone.event <= row.seq) return altered(`its tombstone names event ${tombstone.event}, which precedes it: a forged redaction`);
    const event = await this.#event(tombstone.event);
    if (!event || event.type !== AUDIT_REDACT_TYPE) return altered(`its content was removed under a tombstone (request ${tombstone.request}) that no redaction event records: event ${tombstone.event} is ${event ? `a ${event.type} event` : 'missing'}`);
    if (eventHash(event, event.seq) !== event.hash) return altered(`its tombstone rests on redaction event ${event.seq}, which was itself altered`);
    let payload: { request?: unknown; seqs?: unknown };
    try {
      payload = JSON.parse(event.payload) as typeof payload;
    } catch {
      return altered(`redaction event ${event.seq} has an unreadable payload`);
    }
    const listed = Array.isArray(payload.seqs) && payload.seqs.includes(row.seq);
    if (!listed || payload.request !== tombstone.request || event.actor !== tombstone.by || event.at !== tombstone.at) {
      return altered(`its content was removed under a tombstone (request ${tombstone.request}) that redaction event ${event.seq} does not vouch for`);
    }
    this.redacted += 1;
    this.byRequest[tombstone.request] = (this.byRequest[tombstone.request] ?? 0) + 1;
    return [];
  }

  async #event(seq: number): Promise<AuditEventRecord | undefined> {
    if (this.#cache.has(seq)) return this.#cache.get(seq) ?? undefined;
    const event = (await this.#store.audit.find(seq)) ?? null;
    if (this.#cache.size >= CACHE) this.#cache.delete(this.#cache.keys().next().value as number);
    this.#cache.set(seq, event);
    return event ?? undefined;
  }
}
