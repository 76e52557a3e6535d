/**
 * @module store/migrations/2026-12-04-11-eval-runs
 * Evaluation runs (issue 16): the run, its sampled items with request, answer and judgement,
 * and the human reviews of uncertain items.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('eval_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('seed', 'bigint', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('items', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .execute();
  await db.schema
    .createTable('eval_run_items')
    .addColumn('run_id', 'text', (c) => c.notNull().references('eval_runs.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('item_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('risk', 'text')
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('prompt', 'text', (c) => c.notNull())
    .addColumn('group_json', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('request', 'text')
    .addColumn('answer', 'text')
    .addColumn('answer_meta', 'text')
    .addColumn('refused', 'text')
    .addColumn('safe', 'text')
    .addColumn('judges', 'text')
    .addColumn('error', 'text')
    .addColumn('completed_at', 'text')
    .addColumn('review_status', 'text', (c) => c.notNull())
    .addColumn('review_judgement', 'text')
    .addPrimaryKeyConstraint('eval_run_items_pk', ['run_id', 'seq'])
    .addUniqueConstraint('eval_run_items_item', ['run_id', 'item_id'])
    .execute();
  await db.schema.createIndex('eval_run_items_status').on('eval_run_items').columns(['run_id', 'status']).execute();
  await db.schema.createIndex('eval_run_items_review').on('eval_run_items').columns(['review_status']).execute();
  await db.schema
    .createTable('eval_reviews')
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('reviewer', 'text', (c) => c.notNull())
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('judgement', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('eval_reviews_pk', ['run_id', 'seq', 'reviewer'])
    .addUniqueConstraint('eval_reviews_round', ['run_id', 'seq', 'round'])
    .addForeignKeyConstraint('eval_reviews_item', ['run_id', 'seq'], 'eval_run_items', ['run_id', 'seq'], (c) => c.onDelete('cascade'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('eval_reviews').execute();
  await db.schema.dropTable('eval_run_items').execute();
  await db.schema.dropTable('eval_runs').execute();
}
