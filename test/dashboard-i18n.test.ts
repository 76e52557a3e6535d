/**
 * The dashboard's two languages: the same keys and enum values in both, every error code the
 * server's routes can answer with translated (a code added to a route without its zh and en
 * text fails here), Chinese text with Chinese punctuation, and server errors shown by code.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { beijing, errorText, messages } from '../web/src/i18n.js';

const ROOT = join(import.meta.dirname, '..');
/** What the dashboard calls: the server, the audit log, label inspection and the calendar under the tracker. */
const SOURCES = ['src/server', 'src/audit', 'src/label/inspect.ts', 'src/label/errors.ts', 'src/calendar', 'src/store/errors.ts', 'src/errors.ts'];
/** Codes only the command line sees. */
const CLI_ONLY = new Set(['E_SERVER_LISTEN']);

function files(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full).isDirectory()) return [full];
  return readdirSync(full).flatMap((name) => (name.endsWith('.test.ts') ? [] : files(join(path, name))));
}

function shape(value: unknown): unknown {
  if (typeof value === 'function') return 'function';
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]).sort(([a], [b]) => String(a).localeCompare(String(b))));
  return typeof value;
}

describe('dashboard messages', () => {
  it('have the same keys, enum values and error codes in Chinese and English', () => {
    expect(shape(messages.en)).toEqual(shape(messages.zh));
  });

  it('translate every error code the server can answer the dashboard with', () => {
    const codes = new Set<string>();
    for (const source of SOURCES) for (const file of files(source)) for (const m of readFileSync(file, 'utf8').matchAll(/'(E_[A-Z][A-Z_]+)'/g)) codes.add(m[1]!);
    const missing = [...codes].filter((code) => !CLI_ONLY.has(code) && (messages.zh.errors[code] === undefined || messages.en.errors[code] === undefined));
    expect(missing).toEqual([]);
    expect(codes.size).toBeGreaterThan(30);
  });

  it('use Chinese punctuation in Chinese text', () => {
    const texts: string[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === 'string') texts.push(value);
      else if (typeof value === 'function') texts.push(String((value as (...a: unknown[]) => unknown)('X', 'Y', 'Z')));
      else if (typeof value === 'object' && value !== null) Object.values(value).forEach(collect);
    };
    collect(messages.zh);
    const wrong = texts.filter((text) => /[\u4e00-\u9fff]/.test(text) && /[\u4e00-\u9fff）][:;,?!]|[:;,?!][\u4e00-\u9fff]|[\u4e00-\u9fff]\(|\)[\u4e00-\u9fff]/.test(text));
    expect(wrong).toEqual([]);
  });

  it('show a server error by its code, an unknown code as such, and a failed connection as one', () => {
    expect(errorText(messages.zh, { code: 'E_AUTH_LOCKED', message: 'too many failed sign-ins' })).toBe(messages.zh.errors.E_AUTH_LOCKED);
    expect(errorText(messages.en, { code: 'E_SOMETHING_NEW', message: 'x' })).toBe('Something went wrong (error code E_SOMETHING_NEW).');
    expect(errorText(messages.zh, new TypeError('Failed to fetch'))).toBe(messages.zh.networkError);
  });

  it('write times in Beijing time', () => {
    expect(beijing('2026-12-04T16:30:05Z')).toBe('2026-12-05 00:30:05');
    expect(beijing('2026-12-04T16:30:05Z', false)).toBe('2026-12-05 00:30');
  });
});
