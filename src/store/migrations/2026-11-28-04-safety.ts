/**
 * @module store/migrations/2026-11-28-04-safety
 * Keyword libraries of the safety engine: the library, its entries and its allow-list words.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('safety_keyword_libraries')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('transforms', 'text', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('stored_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('safety_keyword_entries')
    .addColumn('library', 'text', (c) => c.notNull().references('safety_keyword_libraries.name').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('keyword', 'text', (c) => c.notNull())
    .addColumn('risk', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('safety_keyword_entries_pk', ['library', 'seq'])
    .execute();
  await db.schema.createIndex('safety_keyword_entries_risk').on('safety_keyword_entries').columns(['library', 'risk']).execute();
  await db.schema
    .createTable('safety_allow_words')
    .addColumn('library', 'text', (c) => c.notNull().references('safety_keyword_libraries.name').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('word', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('safety_allow_words_pk', ['library', 'seq'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('safety_allow_words').execute();
  await db.schema.dropTable('safety_keyword_entries').execute();
  await db.schema.dropTable('safety_keyword_libraries').execute();
}
