/**
 * @module store/repositories/audit
 * Storage of the audit log (issue 6). The repository knows rows, locks and transactions; it
 * knows nothing of hashes or keys: `src/audit/` computes every hash and signature and hands
 * finished rows over. Appends and purges lock the single chain-head row first, so writers
 * on several replicas of one PostgreSQL database (and several processes on one SQLite file)
 * take turns and the chain stays linear.
 */
import type SQLite from 'better-sqlite3';
import { type Kysely, type Selectable, sql } from 'kysely';
import { StoreConflictError } from '../errors.js';
import type { Database } from '../schema.js';
import type { AuditCheckpointsTable, AuditEventsTable } from '../tables/audit.js';
import { checkContinues, SqliteAuditAppender } from './audit-sqlite.js';

/** The last event written: the one the next append links to. */
export interface AuditChainHead {
  seq: number;
  hash: string;
}

/** An event row as stored; `risks` and `payload` are the exact JSON text that was hashed. */
export interface AuditEventRecord {
  seq: number;
  at: string;
  type: string;
  actor: string;
  outcome: string | null;
  risks: string;
  payload: string;
  content: Buffer | null;
  contentSha256: string | null;
  contentKeyId: string | null;
  prevHash: string;
  hash: string;
  /** The tombstone (JSON text) left when the content was redacted at a request; null otherwise. Not hashed. */
  redaction: string | null;
}

/** A row to append, with its risk codes for the dashboard's risk index. */
export interface NewAuditEvent extends Omit<AuditEventRecord, 'redaction'> {
  riskCodes: readonly string[];
}

/** An event a redaction may reach, as it stands under the chain-head lock. */
export interface AuditRedactionTarget {
  seq: number;
  hasContent: boolean;
  redaction: string | null;
}

/** What a redaction writes: its own events (continuing the head) and the tombstones. */
export interface AuditRedactionPlan {
  events: NewAuditEvent[];
  tombstones: { seq: number; redaction: string }[];
}

/** Which events concern someone: those they acted in, or whose payload names them. */
export interface AuditSubjectFilter {
  actors: readonly string[];
  /** Texts searched for in payloads (exactly, case-sensitive). */
  mentions: readonly string[];
  afterSeq: number;
  limit: number;
}

/** An event without its (encrypted) content: what lists return. */
export type AuditEventSummaryRecord = Omit<AuditEventRecord, 'content'>;

/** Filters of `list`; times are ISO strings, `from` inclusive and `to` exclusive. */
export interface AuditEventFilter {
  from?: string;
  to?: string;
  types?: readonly string[];
  actor?: string;
  risk?: string;
  outcome?: string;
  /** Actor contains this text (case-insensitive). */
  actorContains?: string;
  /** Type starts with this text (case-insensitive), e.g. `gateway.` or `user.sanc`. */
  typePrefix?: string;
  /** Events whose actor is `about.actor` or whose payload text contains one of `about.payloadContains` (a narrowing, as above). */
  about?: { actor: string; payloadContains: readonly string[] };
  /** The payload text contains every one of these (a narrowing: SQLite's LIKE ignores ASCII case, so callers check exactly). */
  payloadContains?: readonly string[];
  /** Keyset pagination: only events with a smaller sequence number (lists run newest first). */
  beforeSeq?: number;
  limit: number;
}

export interface AuditCheckpointRecord {
  seq: number;
  hash: string;
  firstSeq: number;
  purgedBefore: string;
  createdAt: string;
  keyId: string;
  publicKey: string;
  signature: string;
}

/** A count of events under one key (a type or a risk code) and outcome. */
export interface AuditCountRecord {
  key: string;
  outcome: string | null;
  count: number;
}

/** The prefix of the chain a purge would delete. */
export interface AuditPurgePlan {
  firstSeq: number;
  lastSeq: number;
  count: number;
}

/** Rows per INSERT statement; keeps under SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK = 200;

type EventRow = Selectable<AuditEventsTable>;

function toRecord(row: EventRow): AuditEventRecord {
  return {
    seq: Number(row.seq),
    at: row.at,
    type: row.type,
    actor: row.actor,
    outcome: row.outcome,
    risks: row.risks,
    payload: row.payload,
    content: row.content === null ? null : Buffer.from(row.content),
    contentSha256: row.content_sha256,
    contentKeyId: row.content_key_id,
    prevHash: row.prev_hash,
    hash: row.hash,
    redaction: row.redaction ?? null,
  };
}

function toCheckpoint(row: Selectable<AuditCheckpointsTable>): AuditCheckpointRecord {
  return {
    seq: Number(row.seq),
    hash: row.hash,
    firstSeq: Number(row.first_seq),
    purgedBefore: row.purged_before,
    createdAt: row.created_at,
    keyId: row.key_id,
    publicKey: row.public_key,
    signature: row.signature,
  };
}

const SUMMARY_COLUMNS = ['seq', 'at', 'type', 'actor', 'outcome', 'risks', 'payload', 'content_sha256', 'content_key_id', 'prev_hash', 'hash', 'redaction'] as const;

export class AuditRepository {
  readonly #db: Kysely<Database>;
  readonly #connection: SQLite.Database | undefined;
  #sqlite: SqliteAuditAppender | undefined;

  /** `sqlite`: the connection under `db` when it is embedded SQLite, for the prepared append path. */
  constructor(db: Kysely<Database>, sqlite?: SQLite.Database) {
    this.#db = db;
    this.#connection = db.isTransaction ? undefined : sqlite;
  }

  /** The chain head as committed now (sequence 0 and the genesis hash before the first event). */
  async head(): Promise<AuditChainHead> {
    const row = await this.#db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
    return { seq: Number(row.seq), hash: row.hash };
  }

  /**
   * Appends events in one transaction. The chain head is locked first (a row lock on
   * PostgreSQL, the write lock on SQLite), then `build` receives it and returns the rows that
   * continue it: sequence numbers from `head.seq + 1` on, the first linking to `head.hash`.
   * Resolves with the new head once the transaction has committed.
   */
  async append(build: (head: AuditChainHead) => NewAuditEvent[]): Promise<AuditChainHead> {
    if (this.#connection) {
      // Prepared on first use, against the migrated schema.
      this.#sqlite ??= new SqliteAuditAppender(this.#connection);
      if (this.#sqlite.available) return this.#sqlite.append(build);
    }
    return this.#inTransaction(async (trx) => {
      const head = await lockHead(trx);
      const events = build(head);
      const last = events.at(-1);
      if (!last) return head;
      checkContinues(head, events);
      for (let i = 0; i < events.length; i += INSERT_CHUNK) {
        const chunk = events.slice(i, i + INSERT_CHUNK);
        await trx.insertInto('audit_events').values(chunk.map(toRow)).execute();
        const risks = chunk.flatMap((e) => e.riskCodes.map((risk) => ({ seq: e.seq, risk, at: e.at, type: e.type, outcome: e.outcome })));
        if (risks.length > 0) await trx.insertInto('audit_event_risks').values(risks).execute();
      }
      await trx.updateTable('audit_head').set({ seq: last.seq, hash: last.hash }).where('id', '=', 1).execute();
      return { seq: last.seq, hash: last.hash };
    });
  }

  /** Events with a sequence number above `afterSeq` (and at most `throughSeq`), in order, content included. */
  async scan(afterSeq: number, limit: number, throughSeq?: number): Promise<AuditEventRecord[]> {
    let query = this.#db.selectFrom('audit_events').selectAll().where('seq', '>', afterSeq);
    if (throughSeq !== undefined) query = query.where('seq', '<=', throughSeq);
    const rows = await query.orderBy('seq').limit(limit).execute();
    return rows.map(toRecord);
  }

  async find(seq: number): Promise<AuditEventRecord | undefined> {
    const row = await this.#db.selectFrom('audit_events').selectAll().where('seq', '=', seq).executeTakeFirst();
    return row && toRecord(row);
  }

  /** Events matching `filter`, newest first, without content. */
  async list(filter: AuditEventFilter): Promise<AuditEventSummaryRecord[]> {
    let query = this.#db.selectFrom('audit_events').select(SUMMARY_COLUMNS);
    if (filter.from !== undefined) query = query.where('at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('at', '<', filter.to);
    if (filter.types !== undefined && filter.types.length > 0) query = query.where('type', 'in', filter.types);
    if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
    if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome);
    if (filter.beforeSeq !== undefined) query = query.where('seq', '<', filter.beforeSeq);
    if (filter.actorContains !== undefined) query = query.where(sql<boolean>`lower(actor) like ${`%${likeEscape(filter.actorContains.toLowerCase())}%`} escape '\\'`);
    if (filter.typePrefix !== undefined) query = query.where(sql<boolean>`lower(type) like ${`${likeEscape(filter.typePrefix.toLowerCase())}%`} escape '\\'`);
    for (const text of filter.payloadContains ?? []) query = query.where(payloadLike(text));
    const about = filter.about;
    if (about !== undefined) query = query.where((eb) => eb.or([eb('actor', '=', about.actor), ...about.payloadContains.map(payloadLike)]));
    const risk = filter.risk;
    if (risk !== undefined) query = query.where('seq', 'in', (eb) => eb.selectFrom('audit_event_risks').select('seq').where('risk', '=', risk));
    const rows = await query.orderBy('seq', 'desc').limit(filter.limit).execute();
    return rows.map((row) => {
      const { content: _content, ...rest } = toRecord({ ...row, content: null });
      return rest;
    });
  }

  /**
   * Events someone acted in or whose payload names them, oldest first from `afterSeq`, without
   * content. A payload is matched by LIKE, then checked exactly here: a `%` or `_` in a search
   * text can only widen the query, never let a wrong event through.
   */
  async listConcerning(filter: AuditSubjectFilter): Promise<{ events: AuditEventSummaryRecord[]; nextAfter: number | null }> {
    const mentions = filter.mentions.filter((m) => m.length > 0);
    if (filter.actors.length === 0 && mentions.length === 0) return { events: [], nextAfter: null };
    const rows = await this.#db
      .selectFrom('audit_events')
      .select(SUMMARY_COLUMNS)
      .where('seq', '>', filter.afterSeq)
      .where((eb) => eb.or([...(filter.actors.length > 0 ? [eb('actor', 'in', filter.actors)] : []), ...mentions.map((m) => eb('payload', 'like', `%${m}%`))]))
      .orderBy('seq')
      .limit(filter.limit)
      .execute();
    const records = rows.map((row) => {
      const { content: _content, ...rest } = toRecord({ ...row, content: null });
      return rest;
    });
    const last = records.at(-1);
    return {
      events: records.filter((r) => filter.actors.includes(r.actor) || mentions.some((m) => r.payload.includes(m))),
      nextAfter: last && rows.length === filter.limit ? last.seq : null,
    };
  }

  /**
   * Replaces the content of events with tombstones, in one transaction under the chain-head
   * lock: `build` receives the head and the targets as they stand (content present or not,
   * tombstone already there or not) and returns the `audit.redact` events that continue the
   * head and the tombstones to write. Only events that still hold content get a tombstone.
   */
  async redact(seqs: readonly number[], build: (head: AuditChainHead, targets: AuditRedactionTarget[]) => AuditRedactionPlan): Promise<AuditRedactionPlan> {
    return this.#inTransaction(async (trx) => {
      const head = await lockHead(trx);
      const targets: AuditRedactionTarget[] = [];
      for (let i = 0; i < seqs.length; i += INSERT_CHUNK) {
        const rows = await trx
          .selectFrom('audit_events')
          .select((eb) => ['seq', 'redaction', eb('content', 'is not', null).as('has_content')])
          .where('seq', 'in', seqs.slice(i, i + INSERT_CHUNK))
          .execute();
        for (const row of rows) targets.push({ seq: Number(row.seq), hasContent: Boolean(Number(row.has_content)), redaction: row.redaction ?? null });
      }
      targets.sort((a, b) => a.seq - b.seq);
      const plan = build(head, targets);
      const last = plan.events.at(-1);
      if (!last) return plan;
      checkContinues(head, plan.events);
      for (let i = 0; i < plan.events.length; i += INSERT_CHUNK) {
        await trx.insertInto('audit_events').values(plan.events.slice(i, i + INSERT_CHUNK).map(toRow)).execute();
      }
      for (const tombstone of plan.tombstones) {
        const target = targets.find((t) => t.seq === tombstone.seq);
        if (!target?.hasContent) throw new StoreConflictError(`audit event ${tombstone.seq} holds no content to redact`);
        await trx.updateTable('audit_events').set({ content: null, redaction: tombstone.redaction }).where('seq', '=', tombstone.seq).where('content', 'is not', null).execute();
      }
      await trx.updateTable('audit_head').set({ seq: last.seq, hash: last.hash }).where('id', '=', 1).execute();
      return plan;
    });
  }

  /** Events per type and outcome with `from <= at < to`. */
  async countByType(window: { from: string; to: string }): Promise<AuditCountRecord[]> {
    const rows = await this.#db
      .selectFrom('audit_events')
      .select((eb) => ['type as key', 'outcome', eb.fn.countAll<number | string>().as('n')])
      .where('at', '>=', window.from)
      .where('at', '<', window.to)
      .groupBy(['type', 'outcome'])
      .orderBy('type')
      .orderBy('outcome')
      .execute();
    return rows.map((r) => ({ key: r.key, outcome: r.outcome, count: Number(r.n) }));
  }

  /** Events per risk code and outcome with `from <= at < to`, optionally of one type. */
  async countByRisk(window: { from: string; to: string; type?: string }): Promise<AuditCountRecord[]> {
    let query = this.#db
      .selectFrom('audit_event_risks')
      .select((eb) => ['risk as key', 'outcome', eb.fn.countAll<number | string>().as('n')])
      .where('at', '>=', window.from)
      .where('at', '<', window.to);
    if (window.type !== undefined) query = query.where('type', '=', window.type);
    const rows = await query.groupBy(['risk', 'outcome']).orderBy('risk').orderBy('outcome').execute();
    return rows.map((r) => ({ key: r.key, outcome: r.outcome, count: Number(r.n) }));
  }

  /** The first and last sequence numbers of events with `from <= at < to`, or undefined when none. */
  async seqBounds(window: { from: string; to: string }): Promise<{ firstSeq: number; lastSeq: number } | undefined> {
    const row = await this.#db
      .selectFrom('audit_events')
      .select((eb) => [eb.fn.min('seq').as('first'), eb.fn.max('seq').as('last')])
      .where('at', '>=', window.from)
      .where('at', '<', window.to)
      .executeTakeFirst();
    if (row?.first == null || row.last == null) return undefined;
    return { firstSeq: Number(row.first), lastSeq: Number(row.last) };
  }

  /**
   * The prefix of the chain older than `before`: every event up to (not including) the first
   * one at or after `before`, so a clock that stepped back never lets a younger event go.
   */
  async purgePlan(before: string): Promise<AuditPurgePlan | undefined> {
    const bounds = await this.#db
      .selectFrom('audit_events')
      .select((eb) => [eb.fn.min('seq').as('first'), eb.fn.max('seq').as('last')])
      .executeTakeFirst();
    if (bounds?.first == null || bounds.last == null) return undefined;
    const young = await this.#db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.min('seq').as('seq'))
      .where('at', '>=', before)
      .executeTakeFirst();
    const lastSeq = young?.seq == null ? Number(bounds.last) : Number(young.seq) - 1;
    const firstSeq = Number(bounds.first);
    if (lastSeq < firstSeq) return undefined;
    const count = await this.#db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('seq', '<=', lastSeq)
      .executeTakeFirstOrThrow();
    return { firstSeq, lastSeq, count: Number(count.n) };
  }

  /**
   * Deletes every event up to `checkpoint.seq` and stores the checkpoint, in one transaction
   * under the chain-head lock. Refuses when the event at `checkpoint.seq` no longer carries
   * `checkpoint.hash` (the chain changed since it was checked). Resolves to the rows deleted.
   */
  async purge(checkpoint: AuditCheckpointRecord): Promise<number> {
    return this.#inTransaction(async (trx) => {
      await lockHead(trx);
      const last = await trx.selectFrom('audit_events').select('hash').where('seq', '=', checkpoint.seq).executeTakeFirst();
      if (last?.hash !== checkpoint.hash) throw new StoreConflictError(`audit event ${checkpoint.seq} changed while the purge was being prepared; run the purge again`);
      await trx
        .insertInto('audit_checkpoints')
        .values({
          seq: checkpoint.seq,
          hash: checkpoint.hash,
          first_seq: checkpoint.firstSeq,
          purged_before: checkpoint.purgedBefore,
          created_at: checkpoint.createdAt,
          key_id: checkpoint.keyId,
          public_key: checkpoint.publicKey,
          signature: checkpoint.signature,
        })
        .execute();
      await trx.deleteFrom('audit_event_risks').where('seq', '<=', checkpoint.seq).execute();
      const deleted = await trx.deleteFrom('audit_events').where('seq', '<=', checkpoint.seq).executeTakeFirst();
      return Number(deleted.numDeletedRows);
    });
  }

  /** Every purge checkpoint, oldest first. */
  async checkpoints(): Promise<AuditCheckpointRecord[]> {
    const rows = await this.#db.selectFrom('audit_checkpoints').selectAll().orderBy('seq').execute();
    return rows.map(toCheckpoint);
  }

  async #inTransaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return work(this.#db);
    return this.#db.transaction().execute(work);
  }
}

/**
 * Locks the chain head and reads it. A no-op UPDATE is the one statement that takes the lock on
 * both dialects: PostgreSQL row-locks the head (a waiting writer then reads the head its
 * predecessor committed), and on SQLite the first statement being a write takes the database
 * write lock before any snapshot is read, so the busy timeout applies instead of a stale read.
 */
async function lockHead(trx: Kysely<Database>): Promise<AuditChainHead> {
  const row = await trx
    .updateTable('audit_head')
    .set((eb) => ({ hash: eb.ref('hash') }))
    .where('id', '=', 1)
    .returning(['seq', 'hash'])
    .executeTakeFirstOrThrow();
  return { seq: Number(row.seq), hash: row.hash };
}

/** `text` with LIKE's wildcards and the escape character escaped (escape character: backslash). */
function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

function payloadLike(text: string) {
  return sql<boolean>`payload like ${`%${likeEscape(text)}%`} escape '\\'`;
}

function toRow(event: NewAuditEvent) {
  return {
    seq: event.seq,
    at: event.at,
    type: event.type,
    actor: event.actor,
    outcome: event.outcome,
    risks: event.risks,
    payload: event.payload,
    content: event.content,
    content_sha256: event.contentSha256,
    content_key_id: event.contentKeyId,
    prev_hash: event.prevHash,
    hash: event.hash,
  };
}
