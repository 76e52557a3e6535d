/**
 * Runs once before the test files: finds out which database dialects the store suites can use,
 * so a missing PostgreSQL is reported loudly once and its suites skip (or fail, when CI asked
 * for it by name in HEGUI_TEST_DB).
 */
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    databases: { dialects: string[]; postgresUrl: string; missing: string[] };
  }
}

export const DEFAULT_TEST_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

async function postgresReachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const requested = (process.env.HEGUI_TEST_DB ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const explicit = requested.length > 0;
  const wanted = explicit ? requested : ['sqlite', 'postgres'];
  const postgresUrl = process.env.HEGUI_TEST_POSTGRES_URL ?? DEFAULT_TEST_POSTGRES_URL;
  const dialects: string[] = [];
  const missing: string[] = [];
  for (const dialect of wanted) {
    if (dialect === 'sqlite') dialects.push('sqlite');
    else if (dialect === 'postgres') {
      const problem = await postgresReachable(postgresUrl);
      if (problem === undefined) dialects.push('postgres');
      else if (explicit) throw new Error(`HEGUI_TEST_DB asks for postgres, but ${postgresUrl} is not reachable: ${problem}`);
      else {
        missing.push('postgres');
        console.warn(
          `\n!!! PostgreSQL is not reachable at ${postgresUrl} (${problem}).\n!!! The store suites run on SQLite only; start PostgreSQL or set HEGUI_TEST_POSTGRES_URL to run them on both.\n`,
        );
      }
    } else throw new Error(`HEGUI_TEST_DB: unknown dialect "${dialect}" (use sqlite, postgres or both, comma-separated)`);
  }
  project.provide('databases', { dialects, postgresUrl, missing });
}
