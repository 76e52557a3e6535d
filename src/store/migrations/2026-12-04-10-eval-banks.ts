/**
 * @module store/migrations/2026-12-04-10-eval-banks
 * Question banks of the security assessment, by version (issue 16).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('eval_bank_versions')
    .addColumn('bank_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('items', 'integer', (c) => c.notNull())
    .addColumn('note', 'text')
    .addPrimaryKeyConstraint('eval_bank_versions_pk', ['bank_id', 'version'])
    .execute();
  await db.schema
    .createTable('eval_bank_items')
    .addColumn('bank_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('item_id', 'text', (c) => c.notNull())
    .addColumn('prompt', 'text', (c) => c.notNull())
    .addColumn('risk', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('grp', 'text')
    .addPrimaryKeyConstraint('eval_bank_items_pk', ['bank_id', 'version', 'seq'])
    .addForeignKeyConstraint('eval_bank_items_version_fk', ['bank_id', 'version'], 'eval_bank_versions', ['bank_id', 'version'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('eval_bank_items_item').on('eval_bank_items').columns(['bank_id', 'version', 'item_id']).unique().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('eval_bank_items').execute();
  await db.schema.dropTable('eval_bank_versions').execute();
}
