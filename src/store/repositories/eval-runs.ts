/**
 * @module store/repositories/eval-runs
 * Evaluation runs: the run and its sample are written at once; each item's answer and
 * judgement is written as it completes, by a conditional update that only a pending item
 * accepts, so an item is never counted twice even when two processes answer it. A process
 * claims a run with a lease (`host:pid` until a time) so a second one does not race it.
 *
 * The runner stores its items in batches (`completeMany`: every item that completed in one
 * turn of the event loop, one transaction). On embedded SQLite that is one prepared statement
 * run in one immediate transaction on the connection under Kysely, without the query builder:
 * through Kysely every item compiled and prepared its UPDATE anew and committed alone, the
 * largest part of the runner's CPU per item in a profile.
 */
import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { EvalReviewRow, EvalRunItemRow, EvalRunItemsTable, EvalRunRow } from '../tables/eval-runs.js';

export interface StoredEvalRun {
  id: string;
  name: string;
  endpoint: string;
  model: string;
  seed: number;
  settings: Record<string, unknown>;
  status: 'running' | 'finished';
  items: number;
  createdAt: string;
  finishedAt: string | null;
  leaseOwner: string | null;
  leaseUntil: string | null;
}

export interface NewEvalRunItem {
  seq: number;
  itemId: string;
  kind: string;
  risk: string | null;
  language: string;
  source: string;
  prompt: string;
  group: unknown;
}

export interface StoredEvalItem {
  runId: string;
  seq: number;
  itemId: string;
  kind: string;
  risk: string | null;
  language: string;
  source: string;
  prompt: string;
  group: { dimension: string; value: string; templateId: string } | null;
  status: 'pending' | 'done' | 'error';
  attempts: number;
  request: unknown;
  answer: string | null;
  answerMeta: Record<string, unknown> | null;
  refused: 'yes' | 'no' | 'uncertain' | null;
  safe: 'yes' | 'no' | 'uncertain' | null;
  judges: Record<string, unknown> | null;
  error: string | null;
  completedAt: string | null;
  reviewStatus: 'none' | 'open' | 'disputed' | 'resolved';
  reviewJudgement: string | null;
}

export interface EvalItemCompletion {
  status: 'done' | 'error';
  attempts: number;
  request: unknown;
  answer: string | null;
  answerMeta: Record<string, unknown> | null;
  refused: 'yes' | 'no' | 'uncertain' | null;
  safe: 'yes' | 'no' | 'uncertain' | null;
  judges: Record<string, unknown> | null;
  error: string | null;
  completedAt: string;
  reviewStatus: 'none' | 'open';
}

/** One item's outcome for `completeMany`. */
export interface EvalItemOutcome {
  seq: number;
  completion: EvalItemCompletion;
  /** `completion.request` as JSON when the caller has it already (the body it sent). */
  requestJson?: string;
}

export interface EvalRunCounts {
  pending: number;
  done: number;
  error: number;
  reviewOpen: number;
  reviewDisputed: number;
  reviewResolved: number;
}

export interface StoredEvalReview {
  runId: string;
  seq: number;
  reviewer: string;
  round: number;
  judgement: string;
  note: string | null;
  createdAt: string;
}

const json = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

function toRun(row: EvalRunRow): StoredEvalRun {
  return {
    id: row.id,
    name: row.name,
    endpoint: row.endpoint,
    model: row.model,
    seed: Number(row.seed),
    settings: JSON.parse(row.settings) as Record<string, unknown>,
    status: row.status as StoredEvalRun['status'],
    items: Number(row.items),
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
  };
}

function toItem(row: EvalRunItemRow): StoredEvalItem {
  return {
    runId: row.run_id,
    seq: Number(row.seq),
    itemId: row.item_id,
    kind: row.kind,
    risk: row.risk,
    language: row.language,
    source: row.source,
    prompt: row.prompt,
    group: json(row.group_json) as StoredEvalItem['group'],
    status: row.status as StoredEvalItem['status'],
    attempts: Number(row.attempts),
    request: json(row.request),
    answer: row.answer,
    answerMeta: json(row.answer_meta) as StoredEvalItem['answerMeta'],
    refused: row.refused as StoredEvalItem['refused'],
    safe: row.safe as StoredEvalItem['safe'],
    judges: json(row.judges) as StoredEvalItem['judges'],
    error: row.error,
    completedAt: row.completed_at,
    reviewStatus: row.review_status as StoredEvalItem['reviewStatus'],
    reviewJudgement: row.review_judgement,
  };
}

function toReview(row: EvalReviewRow): StoredEvalReview {
  return { runId: row.run_id, seq: Number(row.seq), reviewer: row.reviewer, round: Number(row.round), judgement: row.judgement, note: row.note, createdAt: row.created_at };
}

/** Rows per INSERT: well under SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_BATCH = 200;

/** The columns a completion sets, as stored. */
function completionColumns(c: EvalItemCompletion, requestJson?: string) {
  return {
    status: c.status,
    attempts: c.attempts,
    request: requestJson ?? JSON.stringify(c.request),
    answer: c.answer,
    answer_meta: c.answerMeta === null ? null : JSON.stringify(c.answerMeta),
    refused: c.refused,
    safe: c.safe,
    judges: c.judges === null ? null : JSON.stringify(c.judges),
    error: c.error,
    completed_at: c.completedAt,
    review_status: c.reviewStatus,
  };
}

/** `completeMany` on embedded SQLite: one statement prepared once, every item of a batch in one immediate transaction. */
class SqliteCompleter {
  readonly #db: SQLite.Database;
  readonly #many: { immediate(runId: string, outcomes: readonly EvalItemOutcome[]): boolean[] };

  constructor(db: SQLite.Database) {
    this.#db = db;
    const update = db.prepare(
      "update eval_run_items set status = ?, attempts = ?, request = ?, answer = ?, answer_meta = ?, refused = ?, safe = ?, judges = ?, error = ?, completed_at = ?, review_status = ? where run_id = ? and seq = ? and status = 'pending'",
    );
    this.#many = db.transaction((runId: string, outcomes: readonly EvalItemOutcome[]): boolean[] =>
      outcomes.map(({ seq, completion, requestJson }) => {
        const c = completionColumns(completion, requestJson);
        return update.run(c.status, c.attempts, c.request, c.answer, c.answer_meta, c.refused, c.safe, c.judges, c.error, c.completed_at, c.review_status, runId, seq).changes === 1;
      }),
    );
  }

  /** False while a transaction is open on the shared connection: the caller must then wait its turn through Kysely. */
  get available(): boolean {
    return this.#db.open && !this.#db.inTransaction;
  }

  completeMany(runId: string, outcomes: readonly EvalItemOutcome[]): boolean[] {
    return this.#many.immediate(runId, outcomes);
  }
}

export class EvalRunRepository {
  readonly #db: Kysely<Database>;
  readonly #connection: SQLite.Database | undefined;
  #sqlite: SqliteCompleter | undefined;

  /** `sqlite`: the connection under `db` when it is embedded SQLite, for the prepared `completeMany` path. */
  constructor(db: Kysely<Database>, sqlite?: SQLite.Database) {
    this.#db = db;
    this.#connection = db.isTransaction ? undefined : sqlite;
  }

  /** Writes the run and its whole sample in one transaction. */
  async create(run: { id: string; name: string; endpoint: string; model: string; seed: number; settings: Record<string, unknown>; createdAt: string }, items: readonly NewEvalRunItem[]): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await trx
        .insertInto('eval_runs')
        .values({ id: run.id, name: run.name, endpoint: run.endpoint, model: run.model, seed: run.seed, settings: JSON.stringify(run.settings), status: 'running', items: items.length, created_at: run.createdAt, finished_at: null, lease_owner: null, lease_until: null })
        .execute();
      for (let i = 0; i < items.length; i += INSERT_BATCH) {
        const rows: EvalRunItemsTable[] = items.slice(i, i + INSERT_BATCH).map((item) => ({
          run_id: run.id,
          seq: item.seq,
          item_id: item.itemId,
          kind: item.kind,
          risk: item.risk,
          language: item.language,
          source: item.source,
          prompt: item.prompt,
          group_json: item.group === undefined || item.group === null ? null : JSON.stringify(item.group),
          status: 'pending',
          attempts: 0,
          request: null,
          answer: null,
          answer_meta: null,
          refused: null,
          safe: null,
          judges: null,
          error: null,
          completed_at: null,
          review_status: 'none',
          review_judgement: null,
        }));
        await trx.insertInto('eval_run_items').values(rows).execute();
      }
    });
  }

  async get(id: string): Promise<StoredEvalRun | undefined> {
    const row = await this.#db.selectFrom('eval_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRun(row) : undefined;
  }

  /** Runs, newest first. */
  async list(limit = 100): Promise<StoredEvalRun[]> {
    const rows = await this.#db.selectFrom('eval_runs').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
    return rows.map(toRun);
  }

  async counts(runId: string): Promise<EvalRunCounts> {
    const rows = await this.#db
      .selectFrom('eval_run_items')
      .select(['status', 'review_status'])
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('run_id', '=', runId)
      .groupBy(['status', 'review_status'])
      .execute();
    const counts: EvalRunCounts = { pending: 0, done: 0, error: 0, reviewOpen: 0, reviewDisputed: 0, reviewResolved: 0 };
    for (const row of rows) {
      const n = Number(row.n);
      if (row.status === 'pending') counts.pending += n;
      else if (row.status === 'done') counts.done += n;
      else counts.error += n;
      if (row.review_status === 'open') counts.reviewOpen += n;
      else if (row.review_status === 'disputed') counts.reviewDisputed += n;
      else if (row.review_status === 'resolved') counts.reviewResolved += n;
    }
    return counts;
  }

  /** Every item of the run in sample order (or only those with `status`). */
  async items(runId: string, status?: StoredEvalItem['status']): Promise<StoredEvalItem[]> {
    let query = this.#db.selectFrom('eval_run_items').selectAll().where('run_id', '=', runId);
    if (status) query = query.where('status', '=', status);
    return (await query.orderBy('seq').execute()).map(toItem);
  }

  async item(runId: string, seq: number): Promise<StoredEvalItem | undefined> {
    const row = await this.#db.selectFrom('eval_run_items').selectAll().where('run_id', '=', runId).where('seq', '=', seq).executeTakeFirst();
    return row ? toItem(row) : undefined;
  }

  /**
   * Stores one item's outcome if it is still pending; false when another process (or an
   * earlier life of this one) already stored it, so nothing is counted twice.
   */
  async complete(runId: string, seq: number, c: EvalItemCompletion): Promise<boolean> {
    const [stored] = await this.completeMany(runId, [{ seq, completion: c }]);
    return stored === true;
  }

  /**
   * Stores several items' outcomes in one transaction, each only if it is still pending (as
   * `complete`); resolves with whether each was stored, in order. All or none are written.
   */
  async completeMany(runId: string, outcomes: readonly EvalItemOutcome[]): Promise<boolean[]> {
    if (outcomes.length === 0) return [];
    if (this.#connection) {
      // Prepared on first use, against the migrated schema.
      this.#sqlite ??= new SqliteCompleter(this.#connection);
      if (this.#sqlite.available) return this.#sqlite.completeMany(runId, outcomes);
    }
    const one = async (db: Kysely<Database>, { seq, completion, requestJson }: EvalItemOutcome): Promise<boolean> => {
      const result = await db.updateTable('eval_run_items').set(completionColumns(completion, requestJson)).where('run_id', '=', runId).where('seq', '=', seq).where('status', '=', 'pending').executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    };
    if (outcomes.length === 1 || this.#db.isTransaction) {
      const stored: boolean[] = [];
      for (const outcome of outcomes) stored.push(await one(this.#db, outcome));
      return stored;
    }
    return this.#db.transaction().execute(async (trx) => {
      const stored: boolean[] = [];
      for (const outcome of outcomes) stored.push(await one(trx, outcome));
      return stored;
    });
  }

  /** Puts the run's failed items back in the queue; returns how many. */
  async retryErrors(runId: string): Promise<number> {
    const result = await this.#db
      .updateTable('eval_run_items')
      .set({ status: 'pending', error: null, completed_at: null, answer: null, answer_meta: null, refused: null, safe: null, judges: null, review_status: 'none' })
      .where('run_id', '=', runId)
      .where('status', '=', 'error')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) await this.#db.updateTable('eval_runs').set({ status: 'running', finished_at: null }).where('id', '=', runId).execute();
    return Number(result.numUpdatedRows);
  }

  /**
   * Claims the run for `owner` until `until`, if nobody holds it, the lease ran out, or
   * `takeOver(currentOwner)` says its holder is gone. False when someone else holds it.
   */
  async claim(runId: string, owner: string, now: string, until: string, takeOver: (current: string) => boolean): Promise<boolean> {
    const run = await this.#db.selectFrom('eval_runs').select(['lease_owner', 'lease_until']).where('id', '=', runId).executeTakeFirst();
    if (!run) return false;
    const held = run.lease_owner !== null && run.lease_owner !== owner && run.lease_until !== null && run.lease_until > now && !takeOver(run.lease_owner);
    if (held) return false;
    let update = this.#db.updateTable('eval_runs').set({ lease_owner: owner, lease_until: until }).where('id', '=', runId);
    update = run.lease_owner === null ? update.where('lease_owner', 'is', null) : update.where('lease_owner', '=', run.lease_owner);
    const result = await update.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async renew(runId: string, owner: string, until: string): Promise<void> {
    await this.#db.updateTable('eval_runs').set({ lease_until: until }).where('id', '=', runId).where('lease_owner', '=', owner).execute();
  }

  async release(runId: string, owner: string): Promise<void> {
    await this.#db.updateTable('eval_runs').set({ lease_owner: null, lease_until: null }).where('id', '=', runId).where('lease_owner', '=', owner).execute();
  }

  /** Marks the run finished when no item is pending; returns whether it is. */
  async finishIfDone(runId: string, now: string): Promise<boolean> {
    const pending = await this.#db.selectFrom('eval_run_items').select((eb) => eb.fn.countAll<string | number>().as('n')).where('run_id', '=', runId).where('status', '=', 'pending').executeTakeFirstOrThrow();
    if (Number(pending.n) > 0) return false;
    await this.#db.updateTable('eval_runs').set({ status: 'finished', finished_at: now }).where('id', '=', runId).where('status', '=', 'running').execute();
    return true;
  }

  /** Items waiting for review (`open` or `disputed`), optionally of one run, in run and sample order. */
  async reviewQueue(runId?: string, limit = 500): Promise<StoredEvalItem[]> {
    let query = this.#db.selectFrom('eval_run_items').selectAll().where('review_status', 'in', ['open', 'disputed']);
    if (runId) query = query.where('run_id', '=', runId);
    return (await query.orderBy('run_id').orderBy('seq').limit(limit).execute()).map(toItem);
  }

  async reviews(runId: string, seq?: number): Promise<StoredEvalReview[]> {
    let query = this.#db.selectFrom('eval_reviews').selectAll().where('run_id', '=', runId);
    if (seq !== undefined) query = query.where('seq', '=', seq);
    return (await query.orderBy('seq').orderBy('round').execute()).map(toReview);
  }

  /** Adds a review; the primary key and the round's uniqueness turn a race into a StoreConflictError upstream. */
  async addReview(review: StoredEvalReview): Promise<void> {
    await this.#db
      .insertInto('eval_reviews')
      .values({ run_id: review.runId, seq: review.seq, reviewer: review.reviewer, round: review.round, judgement: review.judgement, note: review.note, created_at: review.createdAt })
      .execute();
  }

  async setReview(runId: string, seq: number, status: StoredEvalItem['reviewStatus'], judgement: string | null): Promise<void> {
    await this.#db.updateTable('eval_run_items').set({ review_status: status, review_judgement: judgement }).where('run_id', '=', runId).where('seq', '=', seq).execute();
  }
}
