/**
 * One store suite, every dialect: `describeEachStore('operators', (getStore) => { ... })`
 * runs its tests once on a fresh SQLite file and once on a fresh PostgreSQL database
 * (created for the suite and dropped after it), as `HEGUI_TEST_DB` and the global setup decide.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, inject, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';

export interface TestDatabase {
  dialect: 'sqlite' | 'postgres';
  /** The HEGUI_DATABASE_URL of this suite's database. */
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database of `dialect` for one suite. */
export async function createTestDatabase(dialect: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-store-'));
    return { dialect, url: `file:${join(dir, 'test.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const adminUrl = inject('databases').postgresUrl;
  const name = `hegui_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    dialect,
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/** The dialects this run tests, from the global setup. */
export function dialectsUnderTest(): ('sqlite' | 'postgres')[] {
  return inject('databases').dialects as ('sqlite' | 'postgres')[];
}

/**
 * Declares `suite` once per dialect under test, each with its own empty database and no store
 * opened on it: for suites that start a server over the database's URL.
 */
export function describeEachDatabase(name: string, suite: (getDatabase: () => TestDatabase) => void): void {
  for (const dialect of dialectsUnderTest()) {
    describe(`${name} [${dialect}]`, () => {
      let database: TestDatabase;
      beforeAll(async () => {
        database = await createTestDatabase(dialect);
      });
      afterAll(async () => database?.drop());
      suite(() => database);
    });
  }
  for (const dialect of inject('databases').missing) {
    describe.skip(`${name} [${dialect}: not reachable, see the warning above]`, () => {
      it('runs the suite on this dialect', () => undefined);
    });
  }
}

/**
 * Declares `suite` once per dialect under test, each with its own migrated store; with
 * `perTest`, every test gets a fresh database and store of its own (for suites whose tests
 * assert positions in one shared sequence, such as the audit chain's).
 */
export function describeEachStore(name: string, suite: (getStore: () => Store, getDatabase: () => TestDatabase) => void, options: { perTest?: boolean } = {}): void {
  for (const dialect of dialectsUnderTest()) {
    describe(`${name} [${dialect}]`, () => {
      let database: TestDatabase;
      let store: Store;
      const open = async (): Promise<void> => {
        database = await createTestDatabase(dialect);
        store = await openStore(database.url);
      };
      const close = async (): Promise<void> => {
        await store?.close();
        await database?.drop();
      };
      if (options.perTest) {
        beforeEach(open);
        afterEach(close);
      } else {
        beforeAll(open);
        afterAll(close);
      }
      suite(
        () => store,
        () => database,
      );
    });
  }
  for (const dialect of inject('databases').missing) {
    describe.skip(`${name} [${dialect}: not reachable, see the warning above]`, () => {
      it('runs the suite on this dialect', () => undefined);
    });
  }
}
