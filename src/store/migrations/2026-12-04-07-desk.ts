/**
 * @module store/migrations/2026-12-04-07-desk
 * The compliance desk's tables (see tables/desk.ts). The reviewer's queue reads open cases in
 * due-date order, filtered by state, kind or assignee: each filter has an index that ends in
 * (due_date, reference), so a page is an index range scan, never a sort of the whole table.
 */
import type { Kysely } from 'kysely';
import { autoIncrementType, dialectOf } from '../dialect.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const blob = dialectOf(db) === 'postgres' ? 'bytea' : 'blob';
  await db.schema
    .createTable('desk_cases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('reference', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('open', 'integer', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('contact', 'text')
    .addColumn('contact_hash', 'text')
    .addColumn('contact_verified_at', 'text')
    .addColumn('account', 'text')
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('status_token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('assignee_id', 'text', (c) => c.references('operators.id').onDelete('set null'))
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('limit_days', 'integer', (c) => c.notNull())
    .addColumn('due_date', 'text', (c) => c.notNull())
    .addColumn('due_estimated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('paused_at', 'text')
    .addColumn('paused_remaining', 'integer')
    .addColumn('escalation', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('resolution', 'text')
    .addColumn('closed_at', 'text')
    .addColumn('feedback_at', 'text')
    .addColumn('erased_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('desk_cases_queue_open').on('desk_cases').columns(['open', 'due_date', 'reference']).execute();
  await db.schema.createIndex('desk_cases_queue_state').on('desk_cases').columns(['state', 'due_date', 'reference']).execute();
  await db.schema.createIndex('desk_cases_queue_kind').on('desk_cases').columns(['kind', 'open', 'due_date', 'reference']).execute();
  await db.schema.createIndex('desk_cases_queue_assignee').on('desk_cases').columns(['assignee_id', 'open', 'due_date', 'reference']).execute();
  await db.schema.createIndex('desk_cases_contact').on('desk_cases').column('contact_hash').execute();
  await db.schema.createIndex('desk_cases_account').on('desk_cases').column('account').execute();
  await db.schema
    .createTable('desk_events')
    .addColumn('id', autoIncrementType(db), (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().references('desk_cases.id').onDelete('cascade'))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('from_state', 'text')
    .addColumn('to_state', 'text')
    .addColumn('reason', 'text')
    .addColumn('public', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('details', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('desk_events_case').on('desk_events').columns(['case_id', 'id']).execute();
  await db.schema
    .createTable('desk_notes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().references('desk_cases.id').onDelete('cascade'))
    .addColumn('author_id', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('desk_notes_case').on('desk_notes').columns(['case_id', 'at']).execute();
  await db.schema
    .createTable('desk_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().references('desk_cases.id').onDelete('cascade'))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('desk_messages_case').on('desk_messages').columns(['case_id', 'at']).execute();
  await db.schema
    .createTable('desk_attachments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().references('desk_cases.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('bytes', blob)
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('desk_attachments_case').on('desk_attachments').columns(['case_id', 'created_at']).execute();
  await db.schema
    .createTable('desk_codes')
    .addColumn('case_id', 'text', (c) => c.primaryKey().references('desk_cases.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('salt', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sent_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
  await db.schema
    .createTable('desk_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.references('desk_cases.id').onDelete('set null'))
    .addColumn('to_address', 'text')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .addColumn('last_error', 'text')
    .execute();
  await db.schema.createIndex('desk_outbox_pending').on('desk_outbox').columns(['sent_at', 'next_attempt_at']).execute();
  await db.schema
    .createTable('desk_counters')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('last', 'integer', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['desk_counters', 'desk_outbox', 'desk_codes', 'desk_attachments', 'desk_messages', 'desk_notes', 'desk_events', 'desk_cases']) {
    await db.schema.dropTable(table).execute();
  }
}
