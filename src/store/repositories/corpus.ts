/**
 * @module store/repositories/corpus
 * The source registry, scans, shards and flagged items of the training-data governance.
 *
 * Shards are a lease table: a worker claims a pending shard, or a leased one whose lease has
 * expired (its worker died), with one conditional UPDATE (on PostgreSQL after a `SELECT ... FOR
 * UPDATE SKIP LOCKED`, so workers do not queue on the same row); it renews the lease while it
 * works; it completes the shard in one transaction that writes the shard's result and its
 * flagged items only if it still holds the lease. A worker that lost its lease writes nothing,
 * so every shard's result is counted exactly once.
 */
import type { Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';
import type { Database } from '../schema.js';
import type { CorpusSourcesTable } from '../tables/corpus.js';

export type CorpusSourceState = 'candidate' | 'approved' | 'blocked';

export interface CorpusSourceRecord {
  id: string;
  name: string;
  origin: string;
  collectionMethod: string;
  licence: string;
  piLegalBasis: string;
  language: string;
  foreign: boolean | null;
  openSource: boolean | null;
  sizeBytes: number | null;
  items: number | null;
  collectedFrom: string | null;
  collectedTo: string | null;
  owner: string;
  notes: string | null;
  state: CorpusSourceState;
  stateReason: string;
  stateChangedAt: string;
  stateChangedBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface CorpusSourceEvent {
  id: string;
  source: string;
  at: string;
  actor: string;
  fromState: CorpusSourceState | null;
  toState: CorpusSourceState;
  reason: string;
  scanId: string | null;
}

export interface CorpusScanRecord {
  id: string;
  source: string;
  mode: 'sample' | 'full';
  options: Record<string, unknown>;
  state: 'running' | 'done' | 'failed';
  createdAt: string;
  createdBy: string;
  finishedAt: string | null;
  shards: number;
  report: Record<string, unknown> | null;
  usable: boolean | null;
}

export interface CorpusShardRecord {
  scanId: string;
  seq: number;
  shard: Record<string, unknown>;
  state: 'pending' | 'leased' | 'done';
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  attempts: number;
  result: Record<string, unknown> | null;
  items: number;
  bytes: number;
  completedBy: string | null;
  completedAt: string | null;
}

export interface CorpusFlaggedRecord {
  scanId: string;
  file: string;
  position: number;
  line: number | null;
  risks: string[];
  matches: unknown;
  excerpt: string;
  review: 'open' | 'confirmed' | 'dismissed';
}

export interface ShardProgress {
  total: number;
  pending: number;
  leased: number;
  done: number;
  items: number;
  bytes: number;
}

const bool = (v: number | null): boolean | null => (v === null ? null : Number(v) === 1);
const flag = (v: boolean | null): number | null => (v === null ? null : v ? 1 : 0);
const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function sourceFromRow(r: CorpusSourcesTable): CorpusSourceRecord {
  return {
    id: r.id,
    name: r.name,
    origin: r.origin,
    collectionMethod: r.collection_method,
    licence: r.licence,
    piLegalBasis: r.pi_legal_basis,
    language: r.language,
    foreign: bool(r.foreign),
    openSource: bool(r.open_source),
    sizeBytes: num(r.size_bytes),
    items: num(r.items),
    collectedFrom: r.collected_from,
    collectedTo: r.collected_to,
    owner: r.owner,
    notes: r.notes,
    state: r.state as CorpusSourceState,
    stateReason: r.state_reason,
    stateChangedAt: r.state_changed_at,
    stateChangedBy: r.state_changed_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function sourceToRow(s: CorpusSourceRecord): CorpusSourcesTable {
  return {
    id: s.id,
    name: s.name,
    origin: s.origin,
    collection_method: s.collectionMethod,
    licence: s.licence,
    pi_legal_basis: s.piLegalBasis,
    language: s.language,
    foreign: flag(s.foreign),
    open_source: flag(s.openSource),
    size_bytes: s.sizeBytes,
    items: s.items,
    collected_from: s.collectedFrom,
    collected_to: s.collectedTo,
    owner: s.owner,
    notes: s.notes,
    state: s.state,
    state_reason: s.stateReason,
    state_changed_at: s.stateChangedAt,
    state_changed_by: s.stateChangedBy,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

const parse = (text: string | null): Record<string, unknown> | null => (text === null ? null : (JSON.parse(text) as Record<string, unknown>));

/** Flagged rows per INSERT. */
const BATCH = 500;

export class CorpusRepository {
  readonly #db: Kysely<Database>;
  readonly #dialect: DialectName;

  constructor(db: Kysely<Database>, dialect: DialectName) {
    this.#db = db;
    this.#dialect = dialect;
  }

  // ---- sources

  async getSource(id: string): Promise<CorpusSourceRecord | undefined> {
    const row = await this.#db.selectFrom('corpus_sources').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : sourceFromRow(row);
  }

  async listSources(): Promise<CorpusSourceRecord[]> {
    const rows = await this.#db.selectFrom('corpus_sources').selectAll().orderBy('id').execute();
    return rows.map(sourceFromRow);
  }

  /** Inserts a source with its first history event; false when the id is taken. */
  async insertSource(source: CorpusSourceRecord, event: CorpusSourceEvent): Promise<boolean> {
    return this.#inTransaction(async (db) => {
      const inserted = await db.insertInto('corpus_sources').values(sourceToRow(source)).onConflict((oc) => oc.column('id').doNothing()).returning('id').executeTakeFirst();
      if (inserted === undefined) return false;
      await db.insertInto('corpus_source_events').values(eventToRow(event)).execute();
      return true;
    });
  }

  /** Replaces a source's descriptive fields (never its state: see `changeState`). */
  async updateSource(source: CorpusSourceRecord): Promise<boolean> {
    const { state: _s, state_reason: _r, state_changed_at: _a, state_changed_by: _b, created_at: _c, id, ...fields } = sourceToRow(source);
    const result = await this.#db.updateTable('corpus_sources').set(fields).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Moves a source from `event.fromState` to `event.toState` and records why; false when it was no longer in `fromState`. */
  async changeState(event: CorpusSourceEvent): Promise<boolean> {
    return this.#inTransaction(async (db) => {
      const result = await db
        .updateTable('corpus_sources')
        .set({ state: event.toState, state_reason: event.reason, state_changed_at: event.at, state_changed_by: event.actor, updated_at: event.at })
        .where('id', '=', event.source)
        .where('state', '=', event.fromState ?? '')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await db.insertInto('corpus_source_events').values(eventToRow(event)).execute();
      return true;
    });
  }

  async sourceEvents(source: string): Promise<CorpusSourceEvent[]> {
    const rows = await this.#db.selectFrom('corpus_source_events').selectAll().where('source', '=', source).orderBy('at').orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, source: r.source, at: r.at, actor: r.actor, fromState: r.from_state as CorpusSourceState | null, toState: r.to_state as CorpusSourceState, reason: r.reason, scanId: r.scan_id }));
  }

  // ---- scans and shards

  /** Creates a scan with its shards, all pending, in one transaction. */
  async createScan(scan: Omit<CorpusScanRecord, 'report' | 'usable' | 'finishedAt'>, shards: Record<string, unknown>[]): Promise<void> {
    await this.#inTransaction(async (db) => {
      await db
        .insertInto('corpus_scans')
        .values({ id: scan.id, source: scan.source, mode: scan.mode, options: JSON.stringify(scan.options), state: scan.state, created_at: scan.createdAt, created_by: scan.createdBy, finished_at: null, shards: shards.length, report: null, usable: null })
        .execute();
      for (let i = 0; i < shards.length; i += BATCH) {
        const rows = shards.slice(i, i + BATCH).map((shard, k) => ({ scan_id: scan.id, seq: i + k, shard: JSON.stringify(shard), state: 'pending', lease_owner: null, lease_expires_at: null, attempts: 0, result: null, items: 0, bytes: 0, completed_by: null, completed_at: null }));
        await db.insertInto('corpus_shards').values(rows).execute();
      }
    });
  }

  async getScan(id: string): Promise<CorpusScanRecord | undefined> {
    const row = await this.#db.selectFrom('corpus_scans').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : scanFromRow(row);
  }

  /** Scans, newest first; of one source when given. */
  async listScans(source?: string, limit = 100): Promise<CorpusScanRecord[]> {
    let query = this.#db.selectFrom('corpus_scans').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit);
    if (source !== undefined) query = query.where('source', '=', source);
    return (await query.execute()).map(scanFromRow);
  }

  /** The newest finished scan of a source, of a mode when given. */
  async latestFinishedScan(source: string, mode?: 'sample' | 'full'): Promise<CorpusScanRecord | undefined> {
    let query = this.#db.selectFrom('corpus_scans').selectAll().where('source', '=', source).where('state', '=', 'done').orderBy('finished_at', 'desc').limit(1);
    if (mode !== undefined) query = query.where('mode', '=', mode);
    const row = await query.executeTakeFirst();
    return row === undefined ? undefined : scanFromRow(row);
  }

  /**
   * Leases one shard to `owner` until `until`: a pending shard, or a leased one whose lease
   * ended before `now`. Of the running scan `scanId`, or of any running scan (oldest first).
   */
  async claimShard(owner: string, now: string, until: string, scanId?: string): Promise<CorpusShardRecord | undefined> {
    // PostgreSQL: one transaction, the candidate row locked with SKIP LOCKED so that workers
    // pass each other by. SQLite: no explicit transaction (a read that then writes could fail
    // with SQLITE_BUSY instead of waiting); the conditional UPDATE alone decides who wins.
    const attempt = async (db: Kysely<Database>): Promise<CorpusShardRecord | null | undefined> => {
      let query = db
        .selectFrom('corpus_shards')
        .select(['scan_id', 'seq'])
        .where((eb) => eb.or([eb('state', '=', 'pending'), eb.and([eb('state', '=', 'leased'), eb('lease_expires_at', '<', now)])]))
        .orderBy('scan_id')
        .orderBy('seq')
        .limit(1);
      query = scanId === undefined ? query.where('scan_id', 'in', db.selectFrom('corpus_scans').select('id').where('state', '=', 'running')) : query.where('scan_id', '=', scanId);
      if (this.#dialect === 'postgres') query = query.forUpdate().skipLocked();
      const candidate = await query.executeTakeFirst();
      if (candidate === undefined) return null;
      const row = await db
        .updateTable('corpus_shards')
        .set((eb) => ({ state: 'leased', lease_owner: owner, lease_expires_at: until, attempts: eb('attempts', '+', 1) }))
        .where('scan_id', '=', candidate.scan_id)
        .where('seq', '=', candidate.seq)
        .where((eb) => eb.or([eb('state', '=', 'pending'), eb.and([eb('state', '=', 'leased'), eb('lease_expires_at', '<', now)])]))
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : shardFromRow(row);
    };
    for (let round = 0; round < 20; round += 1) {
      const claimed = this.#dialect === 'postgres' ? await this.#inTransaction(attempt) : await attempt(this.#db);
      if (claimed === null) return undefined;
      if (claimed !== undefined) return claimed;
    }
    return undefined;
  }

  /** Extends `owner`'s lease; false when it no longer holds the shard. */
  async renewLease(scanId: string, seq: number, owner: string, until: string): Promise<boolean> {
    const result = await this.#db.updateTable('corpus_shards').set({ lease_expires_at: until }).where('scan_id', '=', scanId).where('seq', '=', seq).where('lease_owner', '=', owner).where('state', '=', 'leased').executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Marks the shard done with its result and stores its flagged items, in one transaction,
   * only if `owner` still holds its lease. False (and nothing written) otherwise.
   */
  async completeShard(scanId: string, seq: number, owner: string, done: { result: Record<string, unknown>; items: number; bytes: number; flagged: CorpusFlaggedRecord[]; at: string }): Promise<boolean> {
    return this.#inTransaction(async (db) => {
      const result = await db
        .updateTable('corpus_shards')
        .set({ state: 'done', result: JSON.stringify(done.result), items: done.items, bytes: done.bytes, completed_by: owner, completed_at: done.at, lease_expires_at: null })
        .where('scan_id', '=', scanId)
        .where('seq', '=', seq)
        .where('lease_owner', '=', owner)
        .where('state', '=', 'leased')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await insertFlagged(db, done.flagged);
      return true;
    });
  }

  async shardProgress(scanId: string): Promise<ShardProgress> {
    const rows = await this.#db
      .selectFrom('corpus_shards')
      .select((eb) => ['state', eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('items').as('items'), eb.fn.sum<number>('bytes').as('bytes')])
      .where('scan_id', '=', scanId)
      .groupBy('state')
      .execute();
    const progress: ShardProgress = { total: 0, pending: 0, leased: 0, done: 0, items: 0, bytes: 0 };
    for (const r of rows) {
      const n = Number(r.n);
      progress.total += n;
      if (r.state === 'pending' || r.state === 'leased' || r.state === 'done') progress[r.state] += n;
      progress.items += Number(r.items ?? 0);
      progress.bytes += Number(r.bytes ?? 0);
    }
    return progress;
  }

  async shards(scanId: string): Promise<CorpusShardRecord[]> {
    const rows = await this.#db.selectFrom('corpus_shards').selectAll().where('scan_id', '=', scanId).orderBy('seq').execute();
    return rows.map(shardFromRow);
  }

  /** Closes a running scan with its merged report (and the flagged items the merge chose); false when it was already closed. */
  async finishScan(scanId: string, report: Record<string, unknown>, usable: boolean | null, at: string, flagged: CorpusFlaggedRecord[] = []): Promise<boolean> {
    return this.#inTransaction(async (db) => {
      const result = await db.updateTable('corpus_scans').set({ state: 'done', report: JSON.stringify(report), usable: flag(usable), finished_at: at }).where('id', '=', scanId).where('state', '=', 'running').executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await insertFlagged(db, flagged);
      return true;
    });
  }

  async failScan(scanId: string, reason: string, at: string): Promise<void> {
    await this.#db.updateTable('corpus_scans').set({ state: 'failed', report: JSON.stringify({ error: reason }), finished_at: at }).where('id', '=', scanId).where('state', '=', 'running').execute();
  }

  async flagged(scanId: string, limit = 1000, offset = 0): Promise<CorpusFlaggedRecord[]> {
    const rows = await this.#db.selectFrom('corpus_flagged').selectAll().where('scan_id', '=', scanId).orderBy('file').orderBy('position').limit(limit).offset(offset).execute();
    return rows.map((r) => ({ scanId: r.scan_id, file: r.file, position: Number(r.position), line: num(r.line), risks: JSON.parse(r.risks) as string[], matches: JSON.parse(r.matches) as unknown, excerpt: r.excerpt, review: r.review as CorpusFlaggedRecord['review'] }));
  }

  async countFlagged(scanId: string): Promise<number> {
    const row = await this.#db.selectFrom('corpus_flagged').select((eb) => eb.fn.countAll<number>().as('n')).where('scan_id', '=', scanId).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async reviewFlagged(scanId: string, file: string, position: number, review: 'open' | 'confirmed' | 'dismissed'): Promise<boolean> {
    const result = await this.#db.updateTable('corpus_flagged').set({ review }).where('scan_id', '=', scanId).where('file', '=', file).where('position', '=', position).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async #inTransaction<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return work(this.#db);
    return this.#db.transaction().execute(work);
  }
}

async function insertFlagged(db: Kysely<Database>, flagged: readonly CorpusFlaggedRecord[]): Promise<void> {
  for (let i = 0; i < flagged.length; i += BATCH) {
    const rows = flagged.slice(i, i + BATCH).map((f) => ({ scan_id: f.scanId, file: f.file, position: f.position, line: f.line, risks: JSON.stringify(f.risks), matches: JSON.stringify(f.matches), excerpt: f.excerpt, review: f.review }));
    await db.insertInto('corpus_flagged').values(rows).execute();
  }
}

function eventToRow(e: CorpusSourceEvent) {
  return { id: e.id, source: e.source, at: e.at, actor: e.actor, from_state: e.fromState, to_state: e.toState, reason: e.reason, scan_id: e.scanId };
}

function scanFromRow(r: Database['corpus_scans']): CorpusScanRecord {
  return {
    id: r.id,
    source: r.source,
    mode: r.mode as 'sample' | 'full',
    options: JSON.parse(r.options) as Record<string, unknown>,
    state: r.state as CorpusScanRecord['state'],
    createdAt: r.created_at,
    createdBy: r.created_by,
    finishedAt: r.finished_at,
    shards: Number(r.shards),
    report: parse(r.report),
    usable: bool(r.usable),
  };
}

function shardFromRow(r: Database['corpus_shards']): CorpusShardRecord {
  return {
    scanId: r.scan_id,
    seq: Number(r.seq),
    shard: JSON.parse(r.shard) as Record<string, unknown>,
    state: r.state as CorpusShardRecord['state'],
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at,
    attempts: Number(r.attempts),
    result: parse(r.result),
    items: Number(r.items),
    bytes: Number(r.bytes),
    completedBy: r.completed_by,
    completedAt: r.completed_at,
  };
}
