import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeEachStore } from '../../test/helpers/stores.js';
import { openStore, parseDatabaseUrl, redactDatabaseUrl, StoreConflictError, StoreUnavailableError } from './index.js';

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
