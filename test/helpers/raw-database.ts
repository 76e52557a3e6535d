/**
 * A second, raw connection to a suite's database, for tests that must reach past the
 * repositories (e.g. tampering with audit rows the way an intruder with SQL access would).
 */
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { AUDIT_GENESIS_HASH, type Database } from '../../src/store/index.js';
import type { TestDatabase } from './stores.js';

/** Kysely over its own connection to `database`; destroy it after use. */
export function rawDatabase(database: TestDatabase): Kysely<Database> {
  if (database.dialect === 'sqlite') {
    const file = new SQLite(database.url.slice('file:'.length));
    file.pragma('busy_timeout = 5000');
    return new Kysely<Database>({ dialect: new SqliteDialect({ database: file }) });
  }
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 2 }) }) });
}

/** Empties the audit log (events, risk index, checkpoints) and resets its head to genesis. */
export async function resetAuditLog(db: Kysely<Database>): Promise<void> {
  await db.deleteFrom('audit_event_risks').execute();
  await db.deleteFrom('audit_events').execute();
  await db.deleteFrom('audit_checkpoints').execute();
  await db.updateTable('audit_head').set({ seq: 0, hash: AUDIT_GENESIS_HASH }).execute();
}
