/**
 * @module store/repositories/duty-statuses
 * Each duty's recorded state and its history. A change writes the new state and a history row
 * with the state before and after in one transaction, so the history never misses a change.
 * The repository stores entries as given; `rules/evidence-store` checks them.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { StoreConflictError } from '../errors.js';
import type { Database } from '../schema.js';

export interface DutyStatusRecord {
  obligationId: string;
  status: string;
  /** The evidence-file entry (parsed JSON). */
  entry: Record<string, unknown>;
  startDate: string | null;
  updatedAt: string;
  updatedBy: string;
  version: number;
}

/** A state as history keeps it. */
export interface DutyState {
  entry: Record<string, unknown>;
  startDate: string | null;
}

export interface DutyStatusChange {
  id: string;
  obligationId: string;
  at: string;
  actor: string;
  before: DutyState | null;
  after: DutyState | null;
}

export class DutyStatusRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async list(): Promise<DutyStatusRecord[]> {
    const rows = await this.#db.selectFrom('duty_statuses').selectAll().orderBy('obligation_id').execute();
    return rows.map((r) => ({
      obligationId: r.obligation_id,
      status: r.status,
      entry: JSON.parse(r.entry) as Record<string, unknown>,
      startDate: r.start_date,
      updatedAt: r.updated_at,
      updatedBy: r.updated_by,
      version: Number(r.version),
    }));
  }

  /**
   * Sets (`state`) or clears (null) one duty's state, with a history row, in one transaction.
   * With `expectedVersion` (0: not recorded yet) a concurrent change is refused.
   *
   * @throws StoreConflictError when the stored version is not `expectedVersion`.
   */
  async change(input: { obligationId: string; state: DutyState | null; actor: string; now: Date; expectedVersion?: number }): Promise<DutyStatusChange> {
    const run = async (trx: Kysely<Database>): Promise<DutyStatusChange> => {
      const row = await trx.selectFrom('duty_statuses').selectAll().where('obligation_id', '=', input.obligationId).executeTakeFirst();
      const version = row ? Number(row.version) : 0;
      if (input.expectedVersion !== undefined && input.expectedVersion !== version) {
        throw new StoreConflictError(`the state of ${input.obligationId} changed meanwhile (version ${version}, not ${input.expectedVersion}); reload and retry`);
      }
      const before: DutyState | null = row ? { entry: JSON.parse(row.entry) as Record<string, unknown>, startDate: row.start_date } : null;
      const at = input.now.toISOString();
      const state = input.state;
      if (state === null) {
        await trx.deleteFrom('duty_statuses').where('obligation_id', '=', input.obligationId).execute();
      } else {
        const values = { status: String(state.entry.status), entry: JSON.stringify(state.entry), start_date: state.startDate, updated_at: at, updated_by: input.actor, version: version + 1 };
        if (row) {
          const updated = await trx.updateTable('duty_statuses').set(values).where('obligation_id', '=', input.obligationId).where('version', '=', version).executeTakeFirst();
          if (Number(updated.numUpdatedRows) !== 1) throw new StoreConflictError(`the state of ${input.obligationId} changed meanwhile; reload and retry`);
        } else {
          await trx.insertInto('duty_statuses').values({ obligation_id: input.obligationId, ...values }).execute();
        }
      }
      const change: DutyStatusChange = { id: randomUUID(), obligationId: input.obligationId, at, actor: input.actor, before, after: state };
      await trx
        .insertInto('duty_status_history')
        .values({ id: change.id, obligation_id: change.obligationId, at, actor: change.actor, version: version + 1, before: before && JSON.stringify(before), after: state && JSON.stringify(state) })
        .execute();
      return change;
    };
    return this.#db.isTransaction ? run(this.#db) : this.#db.transaction().execute(run);
  }

  /** Changes, newest first; of one duty when `obligationId` is given. */
  async history(obligationId?: string, limit = 200): Promise<DutyStatusChange[]> {
    let query = this.#db.selectFrom('duty_status_history').selectAll();
    if (obligationId !== undefined) query = query.where('obligation_id', '=', obligationId);
    const rows = await query.orderBy('at', 'desc').orderBy('version', 'desc').orderBy('id').limit(limit).execute();
    return rows.map((r) => ({
      id: r.id,
      obligationId: r.obligation_id,
      at: r.at,
      actor: r.actor,
      before: r.before === null ? null : (JSON.parse(r.before) as DutyState),
      after: r.after === null ? null : (JSON.parse(r.after) as DutyState),
    }));
  }
}
