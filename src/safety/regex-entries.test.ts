/**
 * Regex entries: linear-time matching whatever the pattern, constructs without a linear-time
 * match refused at load, no hit lost where a long line's windows meet, and a time budget.
 */
import { describe, expect, it } from 'vitest';
import { compileLibrary } from './compile.js';
import { KeywordLibraryError } from './errors.js';
import type { KeywordEntry } from './library.js';
import { parseLibrary } from './library-schema.js';
import { compileRegexEntries, REGEX_LINE_LIMIT, REGEX_WINDOW_OVERLAP, RegexBudget, RegexBudgetError, RegexWindows } from './regex-entries.js';
import { IncrementalScanner, scanText } from './scanner.js';

function library(entries: Partial<KeywordEntry>[]) {
  return compileLibrary(parseLibrary({ name: 'test', entries: entries.map((e) => ({ risk: 'A3.5', mode: 'regex', ...e })) }));
}

const spans = (compiled: ReturnType<typeof library>, text: string): [number, number, string][] => scanText(compiled, text).map((m) => [m.start, m.end, m.original]);

describe('regex entries', () => {
  it('run (a|aa)+b over a long run of a in linear time (the backtracking engine needs hours at 64 characters)', () => {
    const lib = library([{ keyword: '(a|aa)+b' }, { keyword: '(x+x+)+y' }]);
    expect(scanText(lib, `${'a'.repeat(64)}c ${'x'.repeat(5000)}`)).toEqual([]);
    expect(spans(lib, `${'a'.repeat(63)}b`)).toEqual([[0, 64, `${'a'.repeat(63)}b`]]);
  });

  it('refuses backreferences, lookaround and possessive repeats at load, naming the entry and why', () => {
    for (const keyword of ['(a)\\1', '(?=a)b', '(?<!a)b', 'a++']) {
      let error: unknown;
      try {
        library([{ keyword: 'fine\\d+' }, { keyword }]);
      } catch (caught) {
        error = caught;
      }
      expect(error, keyword).toBeInstanceOf(KeywordLibraryError);
      expect(error).toMatchObject({ code: 'E_SAFETY_LIBRARY_INVALID', message: expect.stringMatching(/^entry 2: .*no linear-time match/) });
    }
    expect(() => compileRegexEntries([{ keyword: 'a*', mode: 'regex', risk: 'A3.5' } as KeywordEntry])).toThrow(KeywordLibraryError);
  });

  it('finds a match wherever the window boundary falls in a long line, once', () => {
    const lib = library([{ keyword: '\\d{4,}元' }]);
    for (let pad = REGEX_LINE_LIMIT - 20; pad <= REGEX_LINE_LIMIT + 8; pad++) {
      const text = `${'x'.repeat(pad)}12345元`;
      expect(spans(lib, text), `padding ${pad}`).toEqual([[pad, pad + 6, '12345元']]);
    }
    // Past the second boundary too, and in a stream cut anywhere.
    const far = 2 * (REGEX_LINE_LIMIT - REGEX_WINDOW_OVERLAP) + 3;
    const text = `${'y'.repeat(far)}8888元 and 9999元`;
    const whole = spans(lib, text);
    expect(whole).toEqual([
      [far, far + 5, '8888元'],
      [far + 10, far + 15, '9999元'],
    ]);
    for (const size of [1000, 4093]) {
      const scanner = new IncrementalScanner(lib);
      const hits = [];
      for (let i = 0; i < text.length; i += size) hits.push(...scanner.feed(text.slice(i, i + size)).matches);
      hits.push(...scanner.end().matches);
      expect(hits.map((m) => [m.start, m.end, m.original])).toEqual(whole);
    }
  });

  it('reports a hit that spans the overlap once, not again from the next window', () => {
    const lib = library([{ keyword: 'z{100,}' }]);
    const start = REGEX_LINE_LIMIT - REGEX_WINDOW_OVERLAP - 50;
    expect(spans(lib, `${'q'.repeat(start)}${'z'.repeat(120)}`)).toEqual([[start, start + 120, 'z'.repeat(120)]]);
  });

  it('fails a scan that spends its time budget with RegexBudgetError instead of answering no hit', () => {
    // Every reading of this clock is 60 ms after the one before: each regex pass takes 60 ms.
    let clock = 0;
    const budget = new RegexBudget(100, () => (clock += 60));
    const windows = new RegexWindows(compileRegexEntries([{ keyword: 'q\\d', mode: 'regex', risk: 'A3.5' } as KeywordEntry]), budget);
    const points = [...'abc'].map((c) => c.codePointAt(0) as number);
    expect(windows.take(points, false)).toEqual([]);
    let error: unknown;
    try {
      windows.take(points, true);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RegexBudgetError);
    expect(error).toMatchObject({ code: 'E_SAFETY_REGEX_BUDGET', message: expect.stringContaining('100 ms') });
  });
});
