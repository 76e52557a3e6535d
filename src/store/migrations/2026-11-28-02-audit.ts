/**
 * @module store/migrations/2026-11-28-02-audit
 * The audit log: hash-chained events, their risk index, the chain head, purge checkpoints.
 */
import { type Kysely, sql } from 'kysely';
import { dialectOf } from '../dialect.js';
import { AUDIT_GENESIS_HASH } from '../tables/audit.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = dialectOf(db) === 'postgres';
  // SQLite: `integer primary key` makes seq the rowid (no second index); PostgreSQL needs 64 bits.
  const int64 = postgres ? 'bigint' : 'integer';
  const bytes = postgres ? 'bytea' : 'blob';
  await db.schema
    .createTable('audit_events')
    .addColumn('seq', int64, (c) => c.primaryKey())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text')
    .addColumn('risks', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('content', bytes)
    .addColumn('content_sha256', 'text')
    .addColumn('content_key_id', 'text')
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
  await db.schema.createIndex('audit_events_type').on('audit_events').columns(['type', 'seq']).execute();
  await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor', 'seq']).execute();

  await db.schema
    .createTable('audit_event_risks')
    .addColumn('seq', int64, (c) => c.notNull().references('audit_events.seq').onDelete('cascade'))
    .addColumn('risk', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text')
    .addPrimaryKeyConstraint('audit_event_risks_pk', ['seq', 'risk'])
    .execute();
  await db.schema.createIndex('audit_event_risks_risk').on('audit_event_risks').columns(['risk', 'seq']).execute();
  await db.schema.createIndex('audit_event_risks_at').on('audit_event_risks').column('at').execute();

  await db.schema
    .createTable('audit_head')
    .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('seq', int64, (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await sql`insert into audit_head (id, seq, hash) values (1, 0, ${AUDIT_GENESIS_HASH})`.execute(db);

  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('seq', int64, (c) => c.primaryKey())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('first_seq', int64, (c) => c.notNull())
    .addColumn('purged_before', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_checkpoints').execute();
  await db.schema.dropTable('audit_head').execute();
  await db.schema.dropTable('audit_event_risks').execute();
  await db.schema.dropTable('audit_events').execute();
}
