/**
 * @module store/url
 * Where the database lives. `HEGUI_DATABASE_URL` picks it: unset means the embedded SQLite
 * file `./hegui.db`; `file:PATH` another SQLite file (`file::memory:` for a throwaway one);
 * `postgres://...` or `postgresql://...` a PostgreSQL server.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../errors.js';

export type DatabaseTarget =
  | { dialect: 'sqlite'; path: string }
  | { dialect: 'postgres'; connectionString: string };

export const DEFAULT_DATABASE_FILE = 'hegui.db';

/** Reads a database URL; relative SQLite paths resolve against `cwd`. */
export function parseDatabaseUrl(url: string | undefined, cwd: string = process.cwd()): DatabaseTarget {
  if (url === undefined || url.trim() === '') return { dialect: 'sqlite', path: resolve(cwd, DEFAULT_DATABASE_FILE) };
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: 'postgres', connectionString: url };
  if (url.startsWith('file:')) {
    const rest = url.slice('file:'.length);
    if (rest === ':memory:') return { dialect: 'sqlite', path: ':memory:' };
    if (rest.startsWith('//')) return { dialect: 'sqlite', path: fileURLToPath(url) };
    if (rest === '') throw invalid(url);
    return { dialect: 'sqlite', path: isAbsolute(rest) ? rest : resolve(cwd, rest) };
  }
  throw invalid(url);
}

/** The URL with any password hidden, for logs and error messages. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/i, '$1:***@');
}

function invalid(url: string): InvalidInputError {
  return new InvalidInputError(
    'E_DATABASE_URL',
    `HEGUI_DATABASE_URL "${redactDatabaseUrl(url)}" is not understood; use file:PATH for SQLite (e.g. file:./hegui.db) or postgres://USER@HOST:PORT/DB for PostgreSQL`,
  );
}
