/**
 * @module store/repositories/settings
 * Service-wide settings as JSON values under a key, with optimistic concurrency so two
 * replicas editing the same setting cannot overwrite each other silently.
 */
import type { Kysely } from 'kysely';
import { StoreConflictError } from '../errors.js';
import type { Database } from '../schema.js';

export interface StoredSetting<T> {
  value: T;
  version: number;
  updatedAt: string;
}

export class SettingsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get<T>(key: string): Promise<StoredSetting<T> | undefined> {
    const row = await this.#db.selectFrom('settings').selectAll().where('key', '=', key).executeTakeFirst();
    return row && { value: JSON.parse(row.value) as T, version: Number(row.version), updatedAt: row.updated_at };
  }

  /**
   * Stores `value`. With `expectedVersion`, the write succeeds only if the stored version is
   * still that one (0 meaning "not stored yet"); otherwise `StoreConflictError`.
   */
  async set<T>(key: string, value: T, options: { expectedVersion?: number; now?: Date } = {}): Promise<number> {
    const json = JSON.stringify(value);
    const updatedAt = (options.now ?? new Date()).toISOString();
    const expected = options.expectedVersion;
    if (expected === 0 || expected === undefined) {
      const inserted = await this.#db
        .insertInto('settings')
        .values({ key, value: json, updated_at: updatedAt, version: 1 })
        .onConflict((oc) => (expected === 0 ? oc.column('key').doNothing() : oc.column('key').doUpdateSet((eb) => ({ value: json, updated_at: updatedAt, version: eb('settings.version', '+', 1) }))))
        .returning('version')
        .executeTakeFirst();
      if (!inserted) throw new StoreConflictError(`setting "${key}" was created by someone else meanwhile; reload and retry`);
      return Number(inserted.version);
    }
    const updated = await this.#db
      .updateTable('settings')
      .set((eb) => ({ value: json, updated_at: updatedAt, version: eb('version', '+', 1) }))
      .where('key', '=', key)
      .where('version', '=', expected)
      .returning('version')
      .executeTakeFirst();
    if (!updated) throw new StoreConflictError(`setting "${key}" changed since version ${expected}; reload and retry`);
    return Number(updated.version);
  }

  async delete(key: string): Promise<void> {
    await this.#db.deleteFrom('settings').where('key', '=', key).execute();
  }
}
