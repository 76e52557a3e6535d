/**
 * @module store/repositories/keyword-libraries
 * Keyword libraries in the database. A save replaces the whole library in one transaction
 * (never half applied), and with `expectedRevision` refuses to overwrite a library someone
 * else saved meanwhile. The records are plain data in the shape of the safety engine's
 * `KeywordLibrary`; the engine validates them again when it loads one (`parseLibrary`).
 */
import type { Kysely } from 'kysely';
import { StoreConflictError } from '../errors.js';
import type { Database } from '../schema.js';

export interface StoredKeywordEntry {
  keyword: string;
  risk: string;
  mode: string;
  severity: string;
  /** Exception phrases, noise kinds and word-boundary mode: present only where the entry sets them. */
  allow?: string[];
  noise?: string[];
  words?: boolean;
}

/** The precision fields of an entry, in the order the library file writes them. */
const PRECISION_FIELDS = ['allow', 'noise', 'words'] as const;

function precisionOf(entry: StoredKeywordEntry): string | null {
  const fields = Object.fromEntries(PRECISION_FIELDS.filter((field) => entry[field] !== undefined).map((field) => [field, entry[field]]));
  return Object.keys(fields).length === 0 ? null : JSON.stringify(fields);
}

export interface StoredKeywordLibrary {
  name: string;
  version: string;
  updatedAt: string;
  /** The normalisation switches, stored as JSON. */
  transforms: object;
  entries: StoredKeywordEntry[];
  allow: string[];
  /** What may stand between a keyword's characters; absent: the engine's default. */
  noise?: string[];
}

export interface KeywordLibrarySummary {
  name: string;
  version: string;
  updatedAt: string;
  revision: number;
  storedAt: string;
  entries: number;
}

/** Rows per INSERT: well under SQLite's and PostgreSQL's limits on bound parameters. */
const BATCH = 1000;

export class KeywordLibraryRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /**
   * Stores `library` under its name, replacing any earlier content, and returns the new
   * revision. With `expectedRevision` (0 for "not stored yet") the save succeeds only if the
   * stored revision is still that one; otherwise `StoreConflictError` and nothing is written.
   */
  async save(library: StoredKeywordLibrary, options: { expectedRevision?: number; now?: Date } = {}): Promise<number> {
    const storedAt = (options.now ?? new Date()).toISOString();
    const row = {
      version: library.version,
      updated_at: library.updatedAt,
      transforms: JSON.stringify(library.transforms),
      noise: library.noise === undefined ? null : JSON.stringify(library.noise),
      stored_at: storedAt,
    };
    const expected = options.expectedRevision;
    return this.#inTransaction(async (db) => {
      // The head row is written first: that takes the row lock (PostgreSQL) or the write lock
      // (SQLite), so concurrent saves of one library are serialised and the check is exact.
      let written: { revision: number } | undefined;
      if (expected === undefined || expected === 0) {
        written = await db
          .insertInto('safety_keyword_libraries')
          .values({ name: library.name, ...row, revision: 1 })
          .onConflict((oc) => (expected === 0 ? oc.column('name').doNothing() : oc.column('name').doUpdateSet((eb) => ({ ...row, revision: eb('safety_keyword_libraries.revision', '+', 1) }))))
          .returning('revision')
          .executeTakeFirst();
      } else {
        written = await db
          .updateTable('safety_keyword_libraries')
          .set((eb) => ({ ...row, revision: eb('revision', '+', 1) }))
          .where('name', '=', library.name)
          .where('revision', '=', expected)
          .returning('revision')
          .executeTakeFirst();
      }
      if (written === undefined) throw new StoreConflictError(`keyword library "${library.name}" is no longer at revision ${expected}; reload it and retry`);
      const revision = Number(written.revision);
      await db.deleteFrom('safety_keyword_entries').where('library', '=', library.name).execute();
      await db.deleteFrom('safety_allow_words').where('library', '=', library.name).execute();
      for (let i = 0; i < library.entries.length; i += BATCH) {
        const rows = library.entries.slice(i, i + BATCH).map((e, k) => ({ library: library.name, seq: i + k, keyword: e.keyword, risk: e.risk, mode: e.mode, severity: e.severity, precision: precisionOf(e) }));
        await db.insertInto('safety_keyword_entries').values(rows).execute();
      }
      for (let i = 0; i < library.allow.length; i += BATCH) {
        const rows = library.allow.slice(i, i + BATCH).map((word, k) => ({ library: library.name, seq: i + k, word }));
        await db.insertInto('safety_allow_words').values(rows).execute();
      }
      return revision;
    });
  }

  /** The library named `name` with its entries in their original order, or undefined. */
  async load(name: string): Promise<(StoredKeywordLibrary & { revision: number }) | undefined> {
    const head = await this.#db.selectFrom('safety_keyword_libraries').selectAll().where('name', '=', name).executeTakeFirst();
    if (head === undefined) return undefined;
    const rows = await this.#db.selectFrom('safety_keyword_entries').select(['keyword', 'risk', 'mode', 'severity', 'precision']).where('library', '=', name).orderBy('seq').execute();
    const entries = rows.map(({ precision, ...entry }): StoredKeywordEntry => (precision === null ? entry : { ...entry, ...(JSON.parse(precision) as Partial<StoredKeywordEntry>) }));
    const allow = await this.#db.selectFrom('safety_allow_words').select('word').where('library', '=', name).orderBy('seq').execute();
    return {
      name,
      version: head.version,
      updatedAt: head.updated_at,
      transforms: JSON.parse(head.transforms) as object,
      entries,
      allow: allow.map((a) => a.word),
      ...(head.noise === null ? {} : { noise: JSON.parse(head.noise) as string[] }),
      revision: Number(head.revision),
    };
  }

  /**
   * Each stored library's revision, by name: what the gateway checks every few seconds for a
   * changed library (one row per library, no join over the entries as `list` needs for its counts).
   */
  async revisions(): Promise<Map<string, number>> {
    const rows = await this.#db.selectFrom('safety_keyword_libraries').select(['name', 'revision']).execute();
    return new Map(rows.map((r) => [r.name, Number(r.revision)]));
  }

  /** Every stored library, by name, with its entry count. */
  async list(): Promise<KeywordLibrarySummary[]> {
    const rows = await this.#db
      .selectFrom('safety_keyword_libraries as l')
      .leftJoin('safety_keyword_entries as e', 'e.library', 'l.name')
      .select((eb) => ['l.name', 'l.version', 'l.updated_at', 'l.revision', 'l.stored_at', eb.fn.count<number>('e.seq').as('entries')])
      .groupBy(['l.name', 'l.version', 'l.updated_at', 'l.revision', 'l.stored_at'])
      .orderBy('l.name')
      .execute();
    return rows.map((r) => ({ name: r.name, version: r.version, updatedAt: r.updated_at, revision: Number(r.revision), storedAt: r.stored_at, entries: Number(r.entries) }));
  }

  /** Entries per risk code, counted in the database (for coverage reports on large libraries). */
  async countByRisk(name: string): Promise<Record<string, number>> {
    const rows = await this.#db
      .selectFrom('safety_keyword_entries')
      .select((eb) => ['risk', eb.fn.count<number>('seq').as('count')])
      .where('library', '=', name)
      .groupBy('risk')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.risk, Number(r.count)]));
  }

  /** Removes a library with its entries; true when it existed. */
  async delete(name: string): Promise<boolean> {
    return this.#inTransaction(async (db) => {
      await db.deleteFrom('safety_keyword_entries').where('library', '=', name).execute();
      await db.deleteFrom('safety_allow_words').where('library', '=', name).execute();
      const result = await db.deleteFrom('safety_keyword_libraries').where('name', '=', name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  async #inTransaction<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return work(this.#db);
    return this.#db.transaction().execute(work);
  }
}
