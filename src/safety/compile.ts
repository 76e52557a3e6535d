/**
 * @module safety/compile
 * Turns a keyword library into a `CompiledLibrary`: the fold for its transforms, every entry
 * and allow-list word folded the same way the text will be, and the automaton over them.
 * A compiled library is immutable, so a new one can be built while scans run on the old one
 * and swapped in with a single assignment (see `KeywordScanner`).
 */
import { buildAutomaton, narrowest, scanShortcuts } from './automaton.js';
import type { Automaton, CountArray, PatternSpec } from './automaton.js';
import { BREAK, DROP, EXPAND, FoldTable, NOISE, SURROGATE, isWordCodePoint, noiseKindBits } from './fold.js';
import { KeywordLibraryError } from './errors.js';
import type { KeywordEntry, KeywordLibrary } from './library.js';
import type { NoiseKind } from './options.js';
import { defaultNoise, noiseKinds } from './options.js';
import type { WordSegmenter } from './segmenter.js';
import { defaultSegmenter } from './segmenter.js';
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
  /** The scan loop's short cuts (`scanShortcuts` in automaton.ts): per node, how many glued characters rule out every pattern ending there. */
  readonly leftGlued: Int32Array;
  /** ... and the filter of symbol pairs that stand together in some pattern. */
  readonly pairFilter: Int32Array;
  /** Each pattern's length in symbols (in the narrowest array that holds them all, as `variantLength`). */
  readonly patternLength: CountArray;
  readonly patternFlags: Uint8Array;
  /**
   * The variants each pattern reports (none for a pure allow pattern): pattern `p` reports
   * `variantList[variantFrom[p] .. variantFrom[p + 1])`. Flat typed arrays keep the scanner's
   * per-hit work to a few reads.
   */
  readonly variantFrom: Int32Array;
  readonly variantList: Int32Array;
  /**
   * Per variant (one way a pattern reports: entries with the same folded keyword share a
   * pattern and differ in variants when their repeats, noise, word mode or exception phrases
   * differ), in parallel arrays so a large library makes no object per entry:
   * the entries it reports, as `entryIndex * 2 + (via pinyin ? 1 : 0)`;
   */
  readonly variantRefFrom: Int32Array;
  /** ... flattened: variant `v` reports `variantRefList[variantRefFrom[v] .. variantRefFrom[v + 1])`; */
  readonly variantRefList: Int32Array;
  /** the keyword's length before repeats were collapsed; */
  readonly variantLength: CountArray;
  /** the noise kind bits allowed inside it; */
  readonly variantNoise: Int32Array;
  /** how many times each character of the pattern stands in a row in the keyword (only for keywords that repeat one); */
  readonly variantRepeats: ReadonlyMap<number, Int32Array>;
  /** 1 in word-boundary mode; */
  readonly variantWords: Uint8Array;
  /** what the scanner checks of a hit (`CHECK_*`). */
  readonly variantCheck: Uint8Array;
  /** For each allow pattern: the variants it protects, or `true` for every keyword. */
  readonly allowTargets: ReadonlyMap<number, ReadonlySet<number> | true>;
  /** For allow patterns with repeated characters: how many each position needs. */
  readonly allowRuns: ReadonlyMap<number, Int32Array>;
  /** Cuts text into words, for variants in word-boundary mode; undefined when none is. */
  readonly segmenter: WordSegmenter | undefined;
  /**
   * The library's entries. A library restored from the compiled-library cache makes this list
   * on first use; scans ask for one entry at a time with `entry`, which makes only that one.
   */
  readonly entries: readonly KeywordEntry[];
  /** The entry at `index` (the same object as `entries[index]`), undefined out of range. */
  entry(index: number): KeywordEntry | undefined;
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
  /** The segmenter for word-boundary entries; jieba (loaded on first use) when omitted. */
  segmenter?: WordSegmenter;
}

/** What the scanner checks of a variant's hit: nothing; whether a clause break lies inside; repeats or gaps (a call). */
export const CHECK_NONE = 0;
export const CHECK_CLAUSE = 1;
export const CHECK_MORE = 2;

/** Every noise kind is allowed: nothing to check. */
export const NOISE_CHECK_NONE = 0;
/** Everything but clause breaks is allowed (the default): only whether a clause break lies inside. */
export const NOISE_CHECK_CLAUSE = 1;
/** Some other kind is not allowed: every gap inside the hit is checked. */
export const NOISE_CHECK_GAPS = 2;

/** The variants of each pattern as flat arrays (a counting sort by pattern), leaving out silenced patterns. */
function flatVariants(patterns: number, variantPattern: readonly number[], silenced: Uint8Array): { variantFrom: Int32Array; variantList: Int32Array } {
  const variantFrom = new Int32Array(patterns + 1);
  for (const p of variantPattern) if (!silenced[p]) variantFrom[p + 1] = (variantFrom[p + 1] as number) + 1;
  for (let p = 0; p < patterns; p++) variantFrom[p + 1] = (variantFrom[p + 1] as number) + (variantFrom[p] as number);
  const next = variantFrom.slice(0, patterns);
  const variantList = new Int32Array(variantFrom[patterns] as number);
  variantPattern.forEach((p, i) => {
    if (silenced[p]) return;
    variantList[next[p] as number] = i;
    next[p] = (next[p] as number) + 1;
  });
  return { variantFrom, variantList };
}

/** Each variant's entry refs as flat arrays, so a cached library restores them without an array per variant. */
function flatRefs(refs: readonly (readonly number[])[]): { variantRefFrom: Int32Array; variantRefList: Int32Array } {
  const variantRefFrom = new Int32Array(refs.length + 1);
  refs.forEach((r, v) => (variantRefFrom[v + 1] = (variantRefFrom[v] as number) + r.length));
  const variantRefList = new Int32Array(variantRefFrom[refs.length] as number);
  refs.forEach((r, v) => variantRefList.set(r, variantRefFrom[v]));
  return { variantRefFrom, variantRefList };
}

const NO_PHRASES: readonly string[] = Object.freeze([]);

const ALL_NOISE = noiseMask(noiseKinds);
const ALL_BUT_CLAUSE = ALL_NOISE & ~noiseKindBits.clause;

/** What must be checked of the noise inside a hit of a variant allowing `noise` (`NOISE_CHECK_*`). */
export function noiseCheckOf(noise: number): number {
  if (noise === ALL_NOISE) return NOISE_CHECK_NONE;
  return noise === ALL_BUT_CLAUSE ? NOISE_CHECK_CLAUSE : NOISE_CHECK_GAPS;
}

interface Folding {
  symbols: string;
  first: number;
  last: number;
  /** How many times each symbol stands in a row; undefined when none repeats. */
  runs: number[] | undefined;
  /** Characters before repeats were collapsed. */
  length: number;
}

function noiseMask(kinds: readonly NoiseKind[]): number {
  return kinds.reduce((mask, kind) => mask | noiseKindBits[kind], 0);
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
  /**
   * A keyword's symbols as a string (one code unit per symbol), its first and last folded code
   * points and, when repeats are collapsed, how many times each symbol stands in a row.
   */
  const toSymbols = (text: string): Folding | undefined => {
    codes.length = 0;
    // Runs are recorded only once a character repeats (few keywords do).
    let runs: number[] | undefined;
    let previous = -1;
    let first = -1;
    for (let i = 0; i < text.length; i++) {
      let f = bmp[text.charCodeAt(i)] as number;
      if (f === EXPAND || f === SURROGATE) return toSymbolsSlow(text);
      if (f < 0) continue;
      if (collapse && f === previous) {
        runs ??= new Array<number>(codes.length).fill(1);
        runs[runs.length - 1] = (runs[runs.length - 1] as number) + 1;
        continue;
      }
      if (first < 0) first = f;
      previous = f;
      f = symbolFor(f);
      codes.push(f);
      runs?.push(1);
    }
    if (codes.length === 0) return undefined;
    return { symbols: String.fromCharCode.apply(null, codes), first, last: previous, runs, length: runs === undefined ? codes.length : runs.reduce((a, b) => a + b, 0) };
  };
  const toSymbolsSlow = (text: string): Folding | undefined => {
    const folded: number[] = [];
    const counts: number[] = [];
    let previous = -1;
    for (const f of fold.foldText(text)) {
      if (f < 0) continue;
      if (collapse && f === previous) {
        counts[counts.length - 1] = (counts[counts.length - 1] as number) + 1;
        continue;
      }
      previous = f;
      folded.push(f);
      counts.push(1);
    }
    if (folded.length === 0) return undefined;
    const repeated = counts.some((n) => n > 1);
    return { symbols: String.fromCharCode(...folded.map(symbolFor)), first: folded[0] as number, last: folded[folded.length - 1] as number, runs: repeated ? counts : undefined, length: counts.reduce((a, b) => a + b, 0) };
  };

  const patternIndex = new Map<string, number>();
  const specs: PatternSpec[] = [];
  const flags: number[] = [];
  const variantIndex = new Map<string, number>();
  const plainVariant: number[] = [];
  const variantPattern: number[] = [];
  const variantRefs: number[][] = [];
  const variantLength: number[] = [];
  const variantNoise: number[] = [];
  const variantRepeats = new Map<number, Int32Array>();
  const variantWords: number[] = [];
  const variantCheck: number[] = [];
  /** Per allow pattern: the variants it protects, or `true` for every keyword (library-wide). */
  const allowTargets = new Map<number, Set<number> | true>();
  const allowRuns = new Map<number, Int32Array>();
  const ignored: IgnoredEntry[] = [];
  const boundary = library.transforms.latinWordBoundary;
  const libraryNoise = noiseMask(library.noise ?? defaultNoise);
  const patternOf = (folded: Folding): number => {
    let index = patternIndex.get(folded.symbols);
    if (index === undefined) {
      index = specs.length;
      patternIndex.set(folded.symbols, index);
      specs.push({ symbols: folded.symbols, allow: false, keyword: false });
      let f = 0;
      if (boundary && isWordCodePoint(folded.first)) f |= PATTERN_LEFT_WORD;
      if (boundary && isWordCodePoint(folded.last)) f |= PATTERN_RIGHT_WORD;
      flags.push(f);
    }
    return index;
  };
  /** Adds a keyword pattern for `entry` (ref `entryIndex * 2 + pinyin`) and returns its variant. */
  const addKeyword = (text: string, entry: KeywordEntry, ref: number): number | undefined => {
    const folded = toSymbols(text);
    if (folded === undefined) return undefined;
    const pattern = patternOf(folded);
    (specs[pattern] as PatternSpec).keyword = true;
    const repeats = folded.runs;
    const noise = entry.noise === undefined ? libraryNoise : noiseMask(entry.noise);
    const words = entry.words === true;
    const allow = entry.allow ?? NO_PHRASES;
    // Most entries are plain (no repeats, the library's noise, no word mode, no phrases): one
    // variant per pattern found by index; the others are told apart by a key.
    const plain = repeats === undefined && noise === libraryNoise && !words && allow.length === 0;
    const key = plain ? '' : `${pattern}|${repeats?.join(',') ?? ''}|${noise}|${words ? 1 : 0}|${allow.join('\u0000')}`;
    let variant = plain ? plainVariant[pattern] : variantIndex.get(key);
    if (variant === undefined) {
      variant = variantPattern.length;
      if (plain) plainVariant[pattern] = variant;
      else variantIndex.set(key, variant);
      variantPattern.push(pattern);
      variantRefs.push([]);
      variantLength.push(folded.length);
      variantNoise.push(noise);
      if (repeats !== undefined) variantRepeats.set(variant, Int32Array.from(repeats));
      variantWords.push(words ? 1 : 0);
      const noiseCheck = noiseCheckOf(noise);
      variantCheck.push(repeats !== undefined || noiseCheck === NOISE_CHECK_GAPS ? CHECK_MORE : noiseCheck === NOISE_CHECK_CLAUSE ? CHECK_CLAUSE : CHECK_NONE);
    }
    (variantRefs[variant] as number[]).push(ref);
    return variant;
  };
  const addAllow = (text: string, target: number | true): void => {
    const folded = toSymbols(text);
    if (folded === undefined) return;
    const pattern = patternOf(folded);
    (specs[pattern] as PatternSpec).allow = true;
    flags[pattern] = (flags[pattern] as number) | PATTERN_ALLOW;
    if (folded.runs !== undefined) allowRuns.set(pattern, Int32Array.from(folded.runs));
    const targets = allowTargets.get(pattern);
    if (target === true || targets === true) allowTargets.set(pattern, true);
    else if (targets === undefined) allowTargets.set(pattern, new Set([target]));
    else targets.add(target);
  };

  library.entries.forEach((entry, i) => {
    if (entry.mode === 'regex') return;
    const literal = addKeyword(entry.keyword, entry, i * 2);
    if (literal === undefined) {
      ignored.push({ keyword: entry.keyword, reason: 'folds to nothing under this library\'s transforms' });
      return;
    }
    // The entry's variants are listed only when it has exception phrases (few entries do).
    const own = entry.allow !== undefined && entry.allow.length > 0 ? [literal] : undefined;
    if (entry.mode === 'pinyin' && library.transforms.pinyin) {
      for (const spelling of pinyinVariants(entry.keyword)) {
        const variant = addKeyword(spelling, entry, i * 2 + 1);
        if (variant !== undefined) own?.push(variant);
      }
    }
    if (own !== undefined) for (const phrase of entry.allow ?? NO_PHRASES) for (const variant of own) addAllow(phrase, variant);
  });
  for (const word of library.allow) addAllow(word, true);
  // A pattern that is both a library-wide allow word and a keyword is allowed: the allow-list
  // exists to overrule.
  const silenced = new Uint8Array(specs.length);
  allowTargets.forEach((targets, pattern) => {
    if (targets === true) {
      silenced[pattern] = 1;
      (specs[pattern] as PatternSpec).keyword = false;
    }
  });

  if (alphabetSize > 0xffff) throw new KeywordLibraryError(`the library uses ${alphabetSize - 1} distinct characters; at most 65,535 are supported`);
  if (specs.some((s) => s.symbols.length > 0xffff)) throw new KeywordLibraryError('a keyword or phrase of the library is longer than 65,535 characters once folded; at most 65,535 are supported');
  const automaton = buildAutomaton(specs, alphabetSize);
  const patternLength = narrowest(Int32Array.from(specs, (s) => s.symbols.length));
  const patternFlags = Uint8Array.from(flags);
  const { leftGlued, pairs } = scanShortcuts(automaton, (pattern) => ((patternFlags[pattern] as number) & PATTERN_LEFT_WORD) !== 0, patternLength);
  const shortcuts = { leftGlued, pairFilter: pairs };
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
  return assembleCompiled({
    name: library.name,
    version: library.version,
    updatedAt: library.updatedAt,
    fold,
    bmpSymbol,
    astralSymbol,
    unitClass,
    automaton,
    ...shortcuts,
    patternLength,
    patternFlags,
    ...flatVariants(specs.length, variantPattern, silenced),
    ...flatRefs(variantRefs),
    variantLength: narrowest(Int32Array.from(variantLength)),
    variantNoise: Int32Array.from(variantNoise),
    variantRepeats,
    variantWords: Uint8Array.from(variantWords),
    variantCheck: Uint8Array.from(variantCheck),
    allowTargets,
    allowRuns,
    entries: entryList(library.entries),
    allowWords: library.allow,
    ignored,
  }, options?.segmenter);
}

/**
 * A library's entries as a compiled library holds them: the library's own list, or columns the
 * compiled-library cache restored, which make an entry object only when it is asked for.
 */
export interface EntryTable {
  readonly count: number;
  /** The entry at `index`, the same object each time; undefined out of range. */
  at(index: number): KeywordEntry | undefined;
  /** Every entry, in order (the objects `at` returns). */
  list(): readonly KeywordEntry[];
  /** The indexes of the entries of mode `regex`, in order. */
  regexIndexes(): number[];
}

/** The entry table of a list of entries. */
export function entryList(entries: readonly KeywordEntry[]): EntryTable {
  return {
    count: entries.length,
    at: (index) => entries[index],
    list: () => entries,
    regexIndexes: () => entries.flatMap((entry, i) => (entry.mode === 'regex' ? [i] : [])),
  };
}

/**
 * Everything a compiled library is made of, without what is derived again on assembly (the
 * regex entries, the segmenter, `classOfFolded`, the entry list): what the compiled-library
 * cache stores.
 */
export interface CompiledParts extends Omit<CompiledLibrary, 'regexes' | 'segmenter' | 'classOfFolded' | 'entries' | 'entry'> {
  /** Folded BMP code point -> alphabet symbol (0: not in any pattern). */
  readonly bmpSymbol: Int32Array;
  readonly astralSymbol: ReadonlyMap<number, number>;
  readonly entries: EntryTable;
}

const partsOf = new WeakMap<CompiledLibrary, CompiledParts>();

/** The parts a compiled library was assembled from (for the cache). */
export function compiledParts(compiled: CompiledLibrary): CompiledParts | undefined {
  return partsOf.get(compiled);
}

/** A compiled library from its parts, as `compileLibrary` built them or the cache restored them. */
export function assembleCompiled(parts: CompiledParts, segmenter?: WordSegmenter): CompiledLibrary {
  const { bmpSymbol, astralSymbol, entries, ...rest } = parts;
  const symbolOf = (cp: number): number => (cp < 0x10000 ? (bmpSymbol[cp] as number) : (astralSymbol.get(cp) ?? 0));
  const compiled: CompiledLibrary = Object.freeze({
    ...rest,
    get entries(): readonly KeywordEntry[] {
      return entries.list();
    },
    entry: (index: number): KeywordEntry | undefined => entries.at(index),
    segmenter: parts.variantWords.includes(1) ? (segmenter ?? defaultSegmenter()) : undefined,
    regexes: regexesOf(entries),
    classOfFolded: (f: number): number => (f < 0 ? f : (symbolOf(f) << 1) | (isWordCodePoint(f) ? 1 : 0)),
  });
  partsOf.set(compiled, parts);
  return compiled;
}

function regexesOf(entries: EntryTable): RegexEntry[] {
  const indexes = entries.regexIndexes();
  return compileRegexEntries(indexes.map((i) => entries.at(i) as KeywordEntry), indexes);
}

function sameOptions(fold: FoldTable, library: KeywordLibrary): boolean {
  const a = fold.options as unknown as Record<string, boolean>;
  const b = library.transforms as unknown as Record<string, boolean>;
  return Object.keys(b).every((k) => a[k] === b[k]);
}
