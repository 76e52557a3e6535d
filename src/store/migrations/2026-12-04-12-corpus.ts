/**
 * @module store/migrations/2026-12-04-12-corpus
 * Training-data governance (issue 17): source registry and its history, scans, shards (the
 * lease table of distributed scans), flagged items, annotation rules, training, labels, gold.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('corpus_sources')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('collection_method', 'text', (c) => c.notNull())
    .addColumn('licence', 'text', (c) => c.notNull())
    .addColumn('pi_legal_basis', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('foreign', 'integer')
    .addColumn('open_source', 'integer')
    .addColumn('size_bytes', 'bigint')
    .addColumn('items', 'bigint')
    .addColumn('collected_from', 'text')
    .addColumn('collected_to', 'text')
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('state_reason', 'text', (c) => c.notNull())
    .addColumn('state_changed_at', 'text', (c) => c.notNull())
    .addColumn('state_changed_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('corpus_source_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull().references('corpus_sources.id').onDelete('cascade'))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('from_state', 'text')
    .addColumn('to_state', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('scan_id', 'text')
    .execute();
  await db.schema.createIndex('corpus_source_events_source').on('corpus_source_events').columns(['source', 'at']).execute();
  await db.schema
    .createTable('corpus_scans')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull().references('corpus_sources.id').onDelete('cascade'))
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('options', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('shards', 'integer', (c) => c.notNull())
    .addColumn('report', 'text')
    .addColumn('usable', 'integer')
    .execute();
  await db.schema.createIndex('corpus_scans_source').on('corpus_scans').columns(['source', 'created_at']).execute();
  await db.schema
    .createTable('corpus_shards')
    .addColumn('scan_id', 'text', (c) => c.notNull().references('corpus_scans.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('shard', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('items', 'bigint', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('completed_by', 'text')
    .addColumn('completed_at', 'text')
    .addPrimaryKeyConstraint('corpus_shards_pk', ['scan_id', 'seq'])
    .execute();
  await db.schema.createIndex('corpus_shards_state').on('corpus_shards').columns(['scan_id', 'state']).execute();
  await db.schema
    .createTable('corpus_flagged')
    .addColumn('scan_id', 'text', (c) => c.notNull().references('corpus_scans.id').onDelete('cascade'))
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addColumn('line', 'bigint')
    .addColumn('risks', 'text', (c) => c.notNull())
    .addColumn('matches', 'text', (c) => c.notNull())
    .addColumn('excerpt', 'text', (c) => c.notNull())
    .addColumn('review', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('corpus_flagged_pk', ['scan_id', 'file', 'position'])
    .execute();
  await db.schema
    .createTable('corpus_annotation_rules')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('corpus_annotation_rules_pk', ['id', 'version'])
    .execute();
  await db.schema
    .createTable('corpus_annotator_training')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('annotator', 'text', (c) => c.notNull())
    .addColumn('rules_id', 'text', (c) => c.notNull())
    .addColumn('rules_version', 'integer', (c) => c.notNull())
    .addColumn('completed_at', 'text', (c) => c.notNull())
    .addColumn('score', 'real')
    .addColumn('passed', 'integer', (c) => c.notNull())
    .addColumn('notes', 'text')
    .execute();
  await db.schema
    .createTable('corpus_annotations')
    .addColumn('batch', 'text', (c) => c.notNull())
    .addColumn('item', 'text', (c) => c.notNull())
    .addColumn('annotator', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('rules_id', 'text')
    .addColumn('rules_version', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('corpus_annotations_pk', ['batch', 'item', 'annotator'])
    .execute();
  await db.schema
    .createTable('corpus_gold')
    .addColumn('batch', 'text', (c) => c.notNull())
    .addColumn('item', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('corpus_gold_pk', ['batch', 'item'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['corpus_gold', 'corpus_annotations', 'corpus_annotator_training', 'corpus_annotation_rules', 'corpus_flagged', 'corpus_shards', 'corpus_scans', 'corpus_source_events', 'corpus_sources']) {
    await db.schema.dropTable(table).execute();
  }
}
