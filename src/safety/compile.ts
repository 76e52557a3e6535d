/**
 * @module safety/compile
 * Turns a keyword library into a `CompiledLibrary`: the fold for its transforms, every entry
 * and allow-list word folded the same way the text will be, and the automaton over them.
 * A compiled library is immutable, so a new one can be built while scans run on the old one
 * and swapped in with a single assignment (see `KeywordScanner`).
 */
import { buildAutomaton } from './automaton.js';
import type { Automaton, PatternSpec } from './automaton.js';
import { BREAK, DROP, EXPAND, FoldTable, NOISE, SURROGATE, isWordCodePoint } from './fold.js';
import { KeywordLibraryError } from './errors.js';
import type { KeywordEntry, KeywordLibrary } from './library.js';
import { pinyinVariants } from './pinyin.js';
import { compileRegexEntries } from './regex-entries.js';
import type { RegexEntry } from './regex-entries.js';

/** Pattern flags. */
export const PATTERN_ALLOW = 1;
export const PATTERN_LEFT_WORD = 2;
export const PATTERN_RIGHT_WORD = 4;

/** How a pattern was derived from its entry. */
export type MatchVia = 'literal' | 'pinyin';

export interface IgnoredEntry {
  keyword: string;
  reason: string;
}

export interface CompiledLibrary {
  readonly name: string;
  readonly version: string;
  readonly updatedAt: string;
  readonly fold: FoldTable;
  /** Class of each UTF-16 code unit: `(symbol << 1) | isWord` when significant, else a fold marker. */
  readonly unitClass: Int32Array;
  readonly automaton: Automaton;
  readonly patternLength: Int32Array;
  readonly patternFlags: Uint8Array;
  /** For each pattern, the entries it reports, as `entryIndex * 2 + (via pinyin ? 1 : 0)`. */
  readonly patternEntries: readonly (readonly number[])[];
  readonly entries: readonly KeywordEntry[];
  readonly regexes: readonly RegexEntry[];
  readonly allowWords: readonly string[];
  /** Entries that fold to nothing (only noise) and so can never match. */
  readonly ignored: readonly IgnoredEntry[];
  /** Class of a folded code point (for astral characters and expansions). */
  classOfFolded(folded: number): number;
}

export interface CompileOptions {
  /** Reuse a fold built for the same transforms (saves ~50 ms per compile). */
  fold?: FoldTable;
}

/**
 * Compiles a library for scanning.
 *
 * @example
 * const compiled = compileLibrary(parseLibrary(JSON.parse(text)));
 * const hits = scanText(compiled, '法 轮 功');
 */
export function compileLibrary(library: KeywordLibrary, options?: CompileOptions): CompiledLibrary {
  const fold = options?.fold && sameOptions(options.fold, library) ? options.fold : new FoldTable(library.transforms);
  // Alphabet: folded code point -> symbol (1, 2, ...); a dense table for the BMP.
  const bmpSymbol = new Int32Array(0x10000);
  const astralSymbol = new Map<number, number>();
  let alphabetSize = 1;
  const symbolFor = (cp: number): number => {
    if (cp < 0x10000) {
      let s = bmpSymbol[cp] as number;
      if (s === 0) bmpSymbol[cp] = s = alphabetSize++;
      return s;
    }
    let s = astralSymbol.get(cp);
    if (s === undefined) astralSymbol.set(cp, (s = alphabetSize++));
    return s;
  };
  const symbolOf = (cp: number): number => (cp < 0x10000 ? (bmpSymbol[cp] as number) : (astralSymbol.get(cp) ?? 0));
  const collapse = library.transforms.collapseRepeats;
  const bmp = fold.bmp;
  const codes: number[] = [];
  /** A keyword's symbols as a string (one code unit per symbol), with its first and last folded code points. */
  const toSymbols = (text: string): { symbols: string; first: number; last: number } | undefined => {
    codes.length = 0;
    let previous = -1;
    let first = -1;
    for (let i = 0; i < text.length; i++) {
      let f = bmp[text.charCodeAt(i)] as number;
      if (f === EXPAND || f === SURROGATE) return toSymbolsSlow(text);
      if (f < 0 || (collapse && f === previous)) continue;
      if (first < 0) first = f;
      previous = f;
      f = symbolFor(f);
      codes.push(f);
    }
    if (codes.length === 0) return undefined;
    return { symbols: String.fromCharCode.apply(null, codes), first, last: previous };
  };
  const toSymbolsSlow = (text: string): { symbols: string; first: number; last: number } | undefined => {
    const folded: number[] = [];
    let previous = -1;
    for (const f of fold.foldText(text)) {
      if (f < 0 || (collapse && f === previous)) continue;
      previous = f;
      folded.push(f);
    }
    if (folded.length === 0) return undefined;
    return { symbols: String.fromCharCode(...folded.map(symbolFor)), first: folded[0] as number, last: folded[folded.length - 1] as number };
  };

  const patternIndex = new Map<string, number>();
  const specs: PatternSpec[] = [];
  const flags: number[] = [];
  const patternEntries: number[][] = [];
  const ignored: IgnoredEntry[] = [];
  const boundary = library.transforms.latinWordBoundary;
  const addPattern = (text: string, allow: boolean, ref: number): boolean => {
    const folded = toSymbols(text);
    if (folded === undefined) return false;
    let index = patternIndex.get(folded.symbols);
    if (index === undefined) {
      index = specs.length;
      patternIndex.set(folded.symbols, index);
      specs.push({ symbols: folded.symbols, allow });
      let f = 0;
      if (boundary && isWordCodePoint(folded.first)) f |= PATTERN_LEFT_WORD;
      if (boundary && isWordCodePoint(folded.last)) f |= PATTERN_RIGHT_WORD;
      flags.push(f);
      patternEntries.push([]);
    }
    if (allow) {
      (specs[index] as PatternSpec).allow = true;
      flags[index] = (flags[index] as number) | PATTERN_ALLOW;
    } else (patternEntries[index] as number[]).push(ref);
    return true;
  };

  library.entries.forEach((entry, i) => {
    if (entry.mode === 'regex') return;
    if (!addPattern(entry.keyword, false, i * 2)) {
      ignored.push({ keyword: entry.keyword, reason: 'folds to nothing under this library\'s transforms' });
      return;
    }
    if (entry.mode === 'pinyin' && library.transforms.pinyin) {
      for (const variant of pinyinVariants(entry.keyword)) addPattern(variant, false, i * 2 + 1);
    }
  });
  for (const word of library.allow) addPattern(word, true, -1);
  // A pattern that is both allowed and a keyword is allowed: the allow-list exists to overrule.
  specs.forEach((spec, i) => {
    if (spec.allow) patternEntries[i] = [];
  });

  if (alphabetSize > 0xffff) throw new KeywordLibraryError(`the library uses ${alphabetSize - 1} distinct characters; at most 65,535 are supported`);
  const automaton = buildAutomaton(specs, alphabetSize);
  const unitClass = new Int32Array(0x10000);
  const classOfFolded = (f: number): number => {
    if (f < 0) return f;
    return (symbolOf(f) << 1) | (isWordCodePoint(f) ? 1 : 0);
  };
  const asciiWord = (f: number): number => (f < 0x80 ? (isWordCodePoint(f) ? 1 : 0) : -1);
  for (let unit = 0; unit < 0x10000; unit++) {
    const f = fold.bmp[unit] as number;
    if (f === DROP || f === NOISE || f === BREAK || f === EXPAND || f === SURROGATE) unitClass[unit] = f;
    else {
      const word = asciiWord(f);
      unitClass[unit] = word >= 0 ? (symbolOf(f) << 1) | word : classOfFolded(f);
    }
  }
  const regexes = compileRegexEntries(library.entries);
  return Object.freeze({
    name: library.name,
    version: library.version,
    updatedAt: library.updatedAt,
    fold,
    unitClass,
    automaton,
    patternLength: Int32Array.from(specs, (s) => s.symbols.length),
    patternFlags: Uint8Array.from(flags),
    patternEntries,
    entries: library.entries,
    regexes,
    allowWords: library.allow,
    ignored,
    classOfFolded,
  });
}

function sameOptions(fold: FoldTable, library: KeywordLibrary): boolean {
  const a = fold.options as unknown as Record<string, boolean>;
  const b = library.transforms as unknown as Record<string, boolean>;
  return Object.keys(b).every((k) => a[k] === b[k]);
}
