/**
 * @module store/migrations/2026-12-04-06-keyword-precision
 * The precision fields of keyword libraries (issue 12): each entry's exception phrases, noise
 * kinds and word-boundary mode, and the library's noise kinds. Stored as JSON text, NULL where
 * the library leaves them out, so a library reads back exactly as it was written and a stored
 * library matches in the gateway as it does from its file.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('safety_keyword_entries').addColumn('precision', 'text').execute();
  await db.schema.alterTable('safety_keyword_libraries').addColumn('noise', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('safety_keyword_libraries').dropColumn('noise').execute();
  await db.schema.alterTable('safety_keyword_entries').dropColumn('precision').execute();
}
