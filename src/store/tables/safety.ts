/**
 * @module store/tables/safety
 * Tables of the safety engine: keyword libraries (GB/T 45654 asks for >= 10,000 entries, so
 * entries are rows, not one JSON blob), their entries and their allow-list words. A library is
 * replaced as a whole, in one transaction, and carries a revision for optimistic concurrency.
 */
import type { Selectable } from 'kysely';

export interface SafetyKeywordLibrariesTable {
  name: string;
  /** The library's own version, as its maintainer names it. */
  version: string;
  /** When the library's content last changed (ISO 8601). */
  updated_at: string;
  /** The normalisation transforms, JSON text. */
  transforms: string;
  /** What may stand between a keyword's characters, JSON (a list of noise kinds); NULL: the engine's default. */
  noise: string | null;
  /** Increases by one on every save; guards against two editors overwriting each other. */
  revision: number;
  /** When this revision was stored. */
  stored_at: string;
}

export interface SafetyKeywordEntriesTable {
  library: string;
  /** Position in the library, from 0. */
  seq: number;
  keyword: string;
  /** GB/T 45654 risk code, e.g. `A1.6`. */
  risk: string;
  mode: string;
  severity: string;
  /** The entry's `allow`, `noise` and `words`, JSON; NULL when it has none of them. */
  precision: string | null;
}

export interface SafetyAllowWordsTable {
  library: string;
  seq: number;
  word: string;
}

export interface SafetyTables {
  safety_keyword_libraries: SafetyKeywordLibrariesTable;
  safety_keyword_entries: SafetyKeywordEntriesTable;
  safety_allow_words: SafetyAllowWordsTable;
}

export type SafetyKeywordLibraryRow = Selectable<SafetyKeywordLibrariesTable>;
