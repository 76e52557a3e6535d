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

/** A state as stored: the gateway's JSON text, or undefined for a subject never written. */
export type UsageStateText = string | undefined;

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
   * Read-modify-write of each subject in one transaction: the row is locked (created when
   * missing), `change` receives its committed state and returns the next one (undefined leaves
   * it as it is). Resolves, once committed, with every subject's state after the change.
   *
   * @example
   * await store.gatewayUsage.update(['user:u1'], (subject, state) => JSON.stringify(next(state)));
   */
  async update(subjects: readonly string[], change: (subject: string, state: UsageStateText) => UsageStateText, now: Date = new Date()): Promise<Map<string, string>> {
    const ordered = [...new Set(subjects)].sort();
    const updatedAt = now.toISOString();
    return this.#inTransaction(async (db) => {
      const states = new Map<string, string>();
      for (const subject of ordered) {
        // An upsert that changes nothing is the one statement that locks a row, existing or
        // new, on both dialects: a row lock on PostgreSQL, the write lock on SQLite.
        const locked = await db
          .insertInto('gateway_usage')
          .values({ subject, state: '', updated_at: updatedAt })
          .onConflict((oc) => oc.column('subject').doUpdateSet((eb) => ({ state: eb.ref('gateway_usage.state') })))
          .returning('state')
          .executeTakeFirstOrThrow();
        const current = locked.state === '' ? undefined : locked.state;
        const next = change(subject, current);
        if (next !== undefined && next !== current) {
          await db.updateTable('gateway_usage').set({ state: next, updated_at: updatedAt }).where('subject', '=', subject).execute();
        }
        const after = next ?? current;
        if (after !== undefined) states.set(subject, after);
      }
      return states;
    });
  }

  async #inTransaction<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return work(this.#db);
    return this.#db.transaction().execute(work);
  }
}
