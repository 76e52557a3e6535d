/**
 * @module store/repositories/gateway-usage
 * The usage state gateway replicas share, one JSON document per subject (a user or an API
 * key). The repository knows rows, locks and transactions, not what the state means: the
 * gateway hands in a function that turns the committed state into the next one. Rows are
 * locked one by one in subject order, so concurrent writers on several replicas (or several
 * processes on one SQLite file) take turns and never deadlock.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export class GatewayUsageRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** The committed states of `subjects` (subjects never written are absent). */
  async read(subjects: readonly string[]): Promise<Map<string, string>> {
    if (subjects.length === 0) return new Map();
    const rows = await this.#db.selectFrom('gateway_usage').select(['subject', 'state']).where('subject', 'in', subjects).execute();
    return new Map(rows.filter((r) => r.state !== '').map((r) => [r.subject, r.state]));
  }

  /**
   * Read-modify-write of several subjects in one transaction: every row is locked (created
   * when missing) and read, `change` receives the committed states (a subject never written
   * is absent) and returns the states to write, and those are written. Resolves, once
   * committed, with every subject's state after the change.
   *
   * @example
   * await store.gatewayUsage.update(['user:u1', 'key:ab12'], (states) => next(states));
   */
  async update(subjects: readonly string[], change: (states: ReadonlyMap<string, string>) => ReadonlyMap<string, string>, now: Date = new Date()): Promise<Map<string, string>> {
    const ordered = [...new Set(subjects)].sort();
    const updatedAt = now.toISOString();
    return this.#inTransaction(async (db) => {
      const current = new Map<string, string>();
      for (const subject of ordered) {
        // An upsert that changes nothing is the one statement that locks a row, existing or
        // new, on both dialects: a row lock on PostgreSQL, the write lock on SQLite.
        const locked = await db
          .insertInto('gateway_usage')
          .values({ subject, state: '', updated_at: updatedAt })
          .onConflict((oc) => oc.column('subject').doUpdateSet((eb) => ({ state: eb.ref('gateway_usage.state') })))
          .returning('state')
          .executeTakeFirstOrThrow();
        if (locked.state !== '') current.set(subject, locked.state);
      }
      const next = change(current);
      const after = new Map(current);
      for (const subject of ordered) {
        const state = next.get(subject);
        if (state === undefined || state === current.get(subject)) continue;
        await db.updateTable('gateway_usage').set({ state, updated_at: updatedAt }).where('subject', '=', subject).execute();
        after.set(subject, state);
      }
      return after;
    });
  }

  /** Deletes the states of `subjects`; returns how many rows there were. */
  async delete(subjects: readonly string[]): Promise<number> {
    if (subjects.length === 0) return 0;
    const result = await this.#db.deleteFrom('gateway_usage').where('subject', 'in', subjects).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async #inTransaction<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return work(this.#db);
    return this.#db.transaction().execute(work);
  }
}
