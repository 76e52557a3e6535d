import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLiteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { describeEachDatabase, describeEachStore } from '../../test/helpers/stores.js';
import { InvalidInputError } from '../errors.js';
import { openStore, parseDatabaseUrl, redactDatabaseUrl, sqliteSynchronousFrom, StoreConflictError, StoreUnavailableError } from './index.js';
import { migrations } from './migrations/index.js';
import { MIGRATION_NAMES } from './migrations/names.js';

describeEachStore('store', (getStore, getDatabase) => {
  it('migrates on open, and opening again is a no-op', async () => {
    const before = await getStore().operators.list();
    const again = await openStore(getDatabase().url);
    // Whatever other tests wrote is still there: migrating again changed nothing.
    expect(await again.operators.list()).toEqual(before);
    await again.close();
  });

  it('creates operators and refuses a duplicate name', async () => {
    const store = getStore();
    // Other tests of this suite may have made admins: count from what is there.
    const admins = await store.operators.countActiveAdmins();
    const admin = await store.operators.create({ name: 'alice', role: 'admin', passwordHash: 'h' });
    expect(await store.operators.findByName('alice')).toEqual(admin);
    await expect(store.operators.create({ name: 'alice', role: 'reviewer' })).rejects.toThrow(StoreConflictError);
    expect(await store.operators.countActiveAdmins()).toBe(admins + 1);
    await store.operators.disable(admin.id);
    expect(await store.operators.countActiveAdmins()).toBe(admins);
  });

  it('rejects a role outside admin, reviewer, auditor at the database', async () => {
    // The database's own CHECK constraint refuses it (SQLite and PostgreSQL both say so).
    await expect(getStore().operators.create({ name: 'mallory', role: 'root' as never })).rejects.toThrow(/check constraint/i);
  });

  it('finds live sessions only', async () => {
    const store = getStore();
    const bob = await store.operators.create({ name: 'bob', role: 'auditor' });
    const now = new Date('2026-11-28T00:00:00Z');
    await store.operators.createSession({ tokenHash: 'live', operatorId: bob.id, expiresAt: new Date('2026-11-29T00:00:00Z'), now });
    await store.operators.createSession({ tokenHash: 'old', operatorId: bob.id, expiresAt: new Date('2026-11-27T00:00:00Z'), now });
    expect((await store.operators.findSession('live', now))?.operator.name).toBe('bob');
    expect(await store.operators.findSession('old', now)).toBeUndefined();
    expect(await store.operators.findSession('unknown', now)).toBeUndefined();
    expect(await store.operators.purgeExpiredSessions(now)).toBe(1);
    await store.operators.disable(bob.id);
    expect(await store.operators.findSession('live', now)).toBeUndefined();
  });

  it('keeps settings with optimistic versions', async () => {
    const { settings } = getStore();
    expect(await settings.get('profile')).toBeUndefined();
    expect(await settings.set('profile', { a: 1 }, { expectedVersion: 0 })).toBe(1);
    await expect(settings.set('profile', { a: 2 }, { expectedVersion: 0 })).rejects.toThrow(/created by someone else/);
    expect(await settings.set('profile', { a: 2 }, { expectedVersion: 1 })).toBe(2);
    await expect(settings.set('profile', { a: 3 }, { expectedVersion: 1 })).rejects.toThrow(/changed since version 1/);
    expect(await settings.set('profile', { a: 4 })).toBe(3);
    expect(await settings.get('profile')).toMatchObject({ value: { a: 4 }, version: 3 });
  });

  it('rolls a failed transaction back whole', async () => {
    const store = getStore();
    await expect(
      store.transaction(async (tx) => {
        await tx.operators.create({ name: 'carol', role: 'reviewer' });
        await tx.settings.set('half', true);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.operators.findByName('carol')).toBeUndefined();
    expect(await store.settings.get('half')).toBeUndefined();
  });
});

describe('the list of migration names', () => {
  it('is the migrations of index.ts, in the order kysely runs them', () => {
    expect(Object.keys(migrations).sort()).toEqual([...MIGRATION_NAMES]);
    expect([...MIGRATION_NAMES].sort()).toEqual([...MIGRATION_NAMES]);
  });
});

/** A connection of the test's own to the database at `url`, beside any store. */
async function withDb<T>(url: string, work: (db: Kysely<unknown>) => Promise<T>): Promise<T> {
  const target = parseDatabaseUrl(url);
  const db =
    target.dialect === 'sqlite'
      ? new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLiteDatabase(target.path) }) })
      : new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: target.connectionString, max: 1 }) }) });
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** The migrations the database at `url` has run, by name. */
const migrationRows = (url: string) => withDb(url, async (db) => (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db)).rows.map((row) => row.name));

// Opening a store skips the migrator when the database has run exactly MIGRATION_NAMES; these
// check that anything else still goes to it: migrated when behind, refused when unknown. (Each
// suite has a database of its own: the tests may run in any order.)
describeEachDatabase('a database behind this version', (getDatabase) => {
  it('is migrated on open, then opens at once', async () => {
    const { url } = getDatabase();
    const { error } = await withDb(url, (db) => new Migrator({ db, provider: { getMigrations: async () => migrations } }).migrateTo(MIGRATION_NAMES.at(-3)!));
    expect(error).toBeUndefined();
    expect(await migrationRows(url)).toEqual(MIGRATION_NAMES.slice(0, -2));
    const migrated = await openStore(url);
    // The last migrations' tables are there (the spend limits of 2026-12-04-15).
    expect(await migrated.gatewayUsers.list()).toEqual([]);
    await migrated.close();
    expect(await migrationRows(url)).toEqual([...MIGRATION_NAMES]);
    await (await openStore(url)).close();
    expect(await migrationRows(url)).toEqual([...MIGRATION_NAMES]);
  });
});

describeEachDatabase('a database ahead of this version', (getDatabase) => {
  it('is refused, and nothing in it changes', async () => {
    const { url } = getDatabase();
    await (await openStore(url)).close();
    await withDb(url, (db) => sql`insert into kysely_migration (name, timestamp) values ('2099-01-01-01-future', '2099-01-01T00:00:00.000Z')`.execute(db));
    const error = await openStore(url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/2099-01-01-01-future is missing/);
    // As many migrations as this version's, one of them unknown: refused just the same.
    await withDb(url, (db) => sql`delete from kysely_migration where name = ${MIGRATION_NAMES.at(-1)!}`.execute(db));
    const rows = await migrationRows(url);
    expect(rows).toHaveLength(MIGRATION_NAMES.length);
    const sameCount = await openStore(url).catch((e: unknown) => e);
    expect(sameCount).toBeInstanceOf(StoreUnavailableError);
    expect((sameCount as Error).message).toMatch(/2099-01-01-01-future is missing/);
    expect(await migrationRows(url)).toEqual(rows);
  });
});

describe('database URLs', () => {
  it('defaults to ./hegui.db and resolves relative files against cwd', () => {
    expect(parseDatabaseUrl(undefined, '/srv')).toEqual({ dialect: 'sqlite', path: '/srv/hegui.db' });
    expect(parseDatabaseUrl('file:data/x.db', '/srv')).toEqual({ dialect: 'sqlite', path: '/srv/data/x.db' });
    expect(parseDatabaseUrl('file:///var/x.db')).toEqual({ dialect: 'sqlite', path: '/var/x.db' });
    expect(parseDatabaseUrl('file::memory:')).toEqual({ dialect: 'sqlite', path: ':memory:' });
    expect(parseDatabaseUrl('postgresql://u@h/db')).toEqual({ dialect: 'postgres', connectionString: 'postgresql://u@h/db' });
  });

  it('rejects what it does not understand, without echoing a password', () => {
    expect(() => parseDatabaseUrl('mysql://u:secret@h/db')).toThrow(/not understood/);
    expect(() => parseDatabaseUrl('file:')).toThrow(/file:PATH/);
    expect(redactDatabaseUrl('postgres://u:secret@h/db')).toBe('postgres://u:***@h/db');
  });
});

describe('opening failures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-open-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the folder of a new SQLite file', async () => {
    const store = await openStore(`file:${join(dir, 'nested', 'a.db')}`);
    await store.close();
    expect(existsSync(join(dir, 'nested', 'a.db'))).toBe(true);
  });

  it('explains an unreachable PostgreSQL server, password hidden', async () => {
    const error = await openStore('postgres://u:secret@127.0.0.1:1/db').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/connection refused/);
    expect((error as Error).message).not.toMatch(/secret/);
  });

  it('explains a file that is not a database', async () => {
    const error = await openStore(`file:${dir}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
  });
});

describe('when a SQLite commit reaches the disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hegui-sync-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads HEGUI_SQLITE_SYNCHRONOUS, and refuses a misspelt value rather than falling back', () => {
    expect(sqliteSynchronousFrom(undefined)).toBe('normal');
    expect(sqliteSynchronousFrom('')).toBe('normal');
    expect(sqliteSynchronousFrom(' FULL ')).toBe('full');
    expect(sqliteSynchronousFrom('Normal')).toBe('normal');
    for (const bad of ['ful', 'on', '2', 'extra']) {
      expect(() => sqliteSynchronousFrom(bad)).toThrow(InvalidInputError);
      expect(() => sqliteSynchronousFrom(bad)).toThrow(/HEGUI_SQLITE_SYNCHRONOUS .* full .* normal/);
    }
  });

  it.each([
    ['normal', 'synchronous = NORMAL'],
    ['full', 'synchronous = FULL'],
  ] as const)('opens with %s: the connection is set to %s and works', async (mode, pragma) => {
    const calls = vi.spyOn(SQLiteDatabase.prototype, 'pragma');
    try {
      const store = await openStore(`file:${join(dir, `${mode}.db`)}`, { sqliteSynchronous: mode });
      await store.operators.create({ name: `op-${mode}`, role: 'auditor' });
      expect((await store.operators.findByName(`op-${mode}`))?.role).toBe('auditor');
      await store.close();
      expect(calls.mock.calls.map((call) => call[0])).toContain(pragma);
    } finally {
      calls.mockRestore();
    }
  });

  it('refuses a misspelt environment value before it creates the file', async () => {
    const path = join(dir, 'never.db');
    vi.stubEnv('HEGUI_SQLITE_SYNCHRONOUS', 'fulll');
    try {
      await expect(openStore(`file:${path}`)).rejects.toThrow(/E_SQLITE_SYNCHRONOUS|HEGUI_SQLITE_SYNCHRONOUS "fulll"/);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(existsSync(path)).toBe(false);
  });
});
