/**
 * @module safety/regex-entries
 * Keyword entries whose mode is `regex`. A regex sees one line of normalised text at a time
 * (folded and with noise removed: lower case, simplified characters, no spaces or
 * punctuation), so `\d{3,}元` catches `1 0 0 0 元` as well. Lines longer than
 * `REGEX_LINE_LIMIT` significant characters are evaluated in pieces of that size.
 */
import { KeywordLibraryError } from './errors.js';
import type { KeywordEntry } from './library.js';

/** Significant characters of one line kept for regex entries before they are evaluated. */
export const REGEX_LINE_LIMIT = 4096;

export interface RegexEntry {
  /** Index of the entry in the library. */
  entry: number;
  pattern: RegExp;
}

/** A regex hit, in indexes of the line's folded text. */
export interface RegexHit {
  entry: number;
  start: number;
  end: number;
}

export function compileRegexEntries(entries: readonly KeywordEntry[]): RegexEntry[] {
  const out: RegexEntry[] = [];
  entries.forEach((entry, i) => {
    if (entry.mode !== 'regex') return;
    let pattern: RegExp;
    try {
      pattern = new RegExp(entry.keyword, 'gu');
    } catch (error) {
      throw new KeywordLibraryError(`entry ${i + 1}: "${entry.keyword}" is not a valid regular expression (${(error as Error).message})`, { cause: error });
    }
    if (pattern.test('')) {
      throw new KeywordLibraryError(`entry ${i + 1}: the regular expression "${entry.keyword}" matches empty text; make it require at least one character`);
    }
    out.push({ entry: i, pattern });
  });
  return out;
}

/** Every non-overlapping hit of each regex in `line`. */
export function findRegexHits(regexes: readonly RegexEntry[], line: string): RegexHit[] {
  const hits: RegexHit[] = [];
  for (const { entry, pattern } of regexes) {
    pattern.lastIndex = 0;
    for (const m of line.matchAll(pattern)) {
      if (m[0].length > 0) hits.push({ entry, start: m.index, end: m.index + m[0].length });
    }
  }
  return hits;
}
