/**
 * @module store/open
 * Opens the database named by a URL, applies pending migrations, and hands out the typed
 * repositories. SQLite runs embedded (better-sqlite3, WAL); PostgreSQL through a `pg` pool.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql, SqliteDialect } from 'kysely';
import { type Checkpointer, startCheckpointer } from './checkpointer.js';
import { InvalidInputError } from '../errors.js';
import { StoreUnavailableError } from './errors.js';
import { MIGRATION_NAMES } from './migrations/names.js';
import type { Database } from './schema.js';
import { Store } from './store.js';
import { type DatabaseTarget, parseDatabaseUrl, redactDatabaseUrl } from './url.js';

export interface OpenStoreOptions {
  /** Apply pending migrations (default true; the server and CLI always do). */
  migrate?: boolean;
  /** Largest PostgreSQL pool (default 10). */
  poolSize?: number;
  /**
   * SQLite: checkpoint the WAL on a worker thread every `checkpointMs` instead of inside the
   * commit that fills it, so no request waits for the checkpoint's fsyncs (the server sets it).
   */
  checkpointInBackground?: boolean;
  /** How often the background checkpoint runs (default 250 ms). */
  checkpointMs?: number;
  /** The WAL size past which the background checkpoint truncates it (default 64 MiB). */
  walTruncateBytes?: number;
  /**
   * SQLite: when a commit reaches the disk (default `HEGUI_SQLITE_SYNCHRONOUS`, else `normal`).
   * `normal`: a commit is in the WAL file when it returns, so it survives the process being
   * killed, but it is fsynced only at the next checkpoint: a power loss or an OS crash can lose
   * the last commits (never the file's consistency). `full`: every commit is fsynced before it
   * returns, so it survives a power loss too, at the price of one fsync per commit.
   */
  sqliteSynchronous?: SqliteSynchronous;
}

/** When a SQLite commit reaches the disk (`OpenStoreOptions.sqliteSynchronous`). */
export type SqliteSynchronous = 'normal' | 'full';

/**
 * Reads `HEGUI_SQLITE_SYNCHRONOUS` (`normal` or `full`, any case; unset or empty: `normal`).
 *
 * @throws InvalidInputError (E_SQLITE_SYNCHRONOUS) for any other value: a durability setting
 * that is misspelt must not quietly fall back to the weaker one.
 */
export function sqliteSynchronousFrom(value: string | undefined): SqliteSynchronous {
  const mode = (value ?? '').trim().toLowerCase();
  if (mode === '' || mode === 'normal') return 'normal';
  if (mode === 'full') return 'full';
  throw new InvalidInputError('E_SQLITE_SYNCHRONOUS', `HEGUI_SQLITE_SYNCHRONOUS "${value}" is not understood; use full (every commit fsynced: survives a power loss) or normal (the default: survives a killed process; a power loss can lose the last commits)`);
}

/** Opens the store at `url` (see `parseDatabaseUrl`), migrated to the latest schema. */
export async function openStore(url?: string, options: OpenStoreOptions = {}): Promise<Store> {
  const target = parseDatabaseUrl(url);
  let db: Kysely<Database>;
  let sqlite: SQLite.Database | undefined;
  let checkpointer: Checkpointer | undefined;
  if (target.dialect === 'sqlite') {
    sqlite = await openSqlite(target.path, options.sqliteSynchronous ?? sqliteSynchronousFrom(process.env.HEGUI_SQLITE_SYNCHRONOUS));
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    if (options.checkpointInBackground && target.path !== ':memory:') checkpointer = await checkpointInBackground(sqlite, target.path, options.checkpointMs ?? 250, options.walTruncateBytes);
  } else {
    db = await openPostgres(target, options.poolSize ?? 10);
  }
  const store = new Store(db, target.dialect, describeTarget(target), { sqlite, onClose: checkpointer && (() => checkpointer.stop()) });
  try {
    await db.selectNoFrom((eb) => eb.val(1).as('ok')).execute();
    if (options.migrate ?? true) await migrateToLatest(db);
  } catch (cause) {
    await checkpointer?.stop().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    if (cause instanceof StoreUnavailableError) throw cause;
    throw new StoreUnavailableError(`cannot use the database at ${store.location}: ${explain(cause)}`, { cause });
  }
  return store;
}

/**
 * The drivers load with the dialect they serve: a command on the SQLite default never loads
 * pg, and one on PostgreSQL never loads the SQLite addon (issue 14, "load only what runs").
 */
async function openSqlite(path: string, synchronous: SqliteSynchronous): Promise<SQLite.Database> {
  if (path !== ':memory:') {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (cause) {
      throw new StoreUnavailableError(`cannot create the folder for the SQLite file ${path}: ${explain(cause)}`, { cause });
    }
  }
  let database: SQLite.Database;
  try {
    const { default: SQLiteDatabase } = await import('better-sqlite3');
    database = new SQLiteDatabase(path);
    if (path !== ':memory:') database.pragma('journal_mode = WAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    database.pragma(synchronous === 'full' ? 'synchronous = FULL' : 'synchronous = NORMAL');
  } catch (cause) {
    throw new StoreUnavailableError(`cannot open the SQLite file ${path}: ${explain(cause)}`, { cause });
  }
  return database;
}

/**
 * Turns SQLite's automatic checkpoint off on `sqlite` and starts the worker that checkpoints
 * instead; if the worker cannot start, the automatic checkpoint stays (and the reason is logged).
 */
async function checkpointInBackground(sqlite: SQLite.Database, path: string, intervalMs: number, truncateBytes?: number): Promise<Checkpointer | undefined> {
  try {
    const checkpointer = await startCheckpointer(path, intervalMs, (message) => console.error(`store: a background WAL checkpoint of ${path} failed (the next one retries): ${message}`), truncateBytes);
    sqlite.pragma('wal_autocheckpoint = 0');
    return checkpointer;
  } catch (cause) {
    console.error(`store: WAL checkpoints stay inside commits: the checkpoint worker did not start: ${explain(cause)}`);
    return undefined;
  }
}

async function openPostgres(target: Extract<DatabaseTarget, { dialect: 'postgres' }>, max: number): Promise<Kysely<Database>> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: target.connectionString, max, connectionTimeoutMillis: 10_000 });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Applies the pending migrations. A database that has run exactly the migrations hegui knows
 * (one query on kysely's table) needs none, and the migrations are not even loaded; anything
 * else (a new database, pending migrations, an unknown or out-of-order one) goes to kysely's
 * migrator, which migrates or refuses as it always has.
 */
async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  if (await isCurrent(db)) return;
  const { migrations } = await import('./migrations/index.js');
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new StoreUnavailableError(`migration ${failed} failed: ${explain(error)}`, { cause: error });
  }
}

/**
 * True when the migrations the database has run, in the order kysely's migrator reads them
 * (by time run, then name), are exactly {@link MIGRATION_NAMES}: the migrator would then find
 * nothing to do. False when they differ or the table cannot be read (no table yet).
 */
async function isCurrent(db: Kysely<Database>): Promise<boolean> {
  let rows: { name: string; timestamp: string }[];
  try {
    rows = (await sql<{ name: string; timestamp: string }>`select name, timestamp from kysely_migration`.execute(db)).rows;
  } catch {
    return false;
  }
  if (rows.length !== MIGRATION_NAMES.length) return false;
  const executed = rows
    .sort((a, b) => (a.timestamp === b.timestamp ? a.name.localeCompare(b.name) : new Date(a.timestamp).getTime() - new Date(b.timestamp).getTime()))
    .map((row) => row.name);
  return executed.every((name, i) => name === MIGRATION_NAMES[i]);
}

function describeTarget(target: DatabaseTarget): string {
  return target.dialect === 'sqlite' ? `sqlite:${target.path}` : redactDatabaseUrl(target.connectionString);
}

function explain(cause: unknown): string {
  if (cause instanceof AggregateError && cause.errors.length > 0) return explain(cause.errors[0]);
  const error = cause as NodeJS.ErrnoException;
  if (error?.code === 'ECONNREFUSED') return 'connection refused — is the PostgreSQL server running and listening there?';
  if (error?.code === 'ENOTFOUND') return 'host not found';
  return error instanceof Error ? error.message : String(cause);
}
