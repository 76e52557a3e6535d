/**
 * @module safety/lint
 * Warnings about library entries likely to match ordinary text (GB/T 45654 asks for accurate
 * hits, and every false hit in a gateway blocks a legitimate user):
 * - `single-character`: a keyword of one character matches in countless words;
 * - `inside-common-word`: the keyword is part of a frequent word (`色情` in `色情片` is fine,
 *   `华为` in `中华为` is not a word at all: the warning names the words so the owner decides);
 * - `spans-common-words`: the keyword is the end of one frequent word followed by the start of
 *   another (`台独` in `平台|独家`, `法轮` in `方法|轮流`);
 * - `short-pinyin`: a full pinyin spelling of four letters or fewer, or initials of three or
 *   fewer, which ordinary Latin text holds;
 * - `folds-to-nothing`: the keyword is only noise and can never match.
 * Frequent words come from a word list with frequencies (jieba's dictionary in the CLI).
 * Words already covered by an exception phrase, and entries in word-boundary mode, are not
 * warned about for the word checks: those are the remedies the warnings suggest.
 */
import type { CompiledLibrary } from './compile.js';
import type { KeywordLibrary } from './library.js';
import { pinyinVariants } from './pinyin.js';

export const lintKinds = ['single-character', 'inside-common-word', 'spans-common-words', 'short-pinyin', 'folds-to-nothing'] as const;
export type LintKind = (typeof lintKinds)[number];

export interface LintWarning {
  /** Index of the entry in the library. */
  entry: number;
  keyword: string;
  kind: LintKind;
  message: string;
  /** The frequent words (or `word|word` pairs) behind the warning, most frequent first. */
  examples: string[];
}

export interface LintOptions {
  /** Frequent words and their frequencies; without them the word checks are skipped. */
  words?: ReadonlyMap<string, number>;
  /** Words below this frequency are not frequent (jieba's dictionary: 300 keeps ~18,000 words). */
  minFrequency?: number;
}

const HAN = /\p{sc=Han}/u;
const MAX_EXAMPLES = 3;
const SHORT_PINYIN = 4;

/** Best (most frequent) words per key, at most `MAX_EXAMPLES` each. */
class WordIndex {
  readonly #best = new Map<string, { word: string; frequency: number }[]>();

  add(key: string, word: string, frequency: number): void {
    let list = this.#best.get(key);
    if (list === undefined) this.#best.set(key, (list = []));
    if (list.length === MAX_EXAMPLES && (list[MAX_EXAMPLES - 1] as { frequency: number }).frequency >= frequency) return;
    list.push({ word, frequency });
    list.sort((a, b) => b.frequency - a.frequency);
    if (list.length > MAX_EXAMPLES) list.length = MAX_EXAMPLES;
  }

  get(key: string): readonly { word: string; frequency: number }[] {
    return this.#best.get(key) ?? [];
  }
}

/**
 * Lints `library` (compiled as `compiled`, for the fold and the entries that fold to nothing).
 *
 * @example
 * lintLibrary(library, compileLibrary(library), { words: jiebaWordFrequencies() });
 */
export function lintLibrary(library: KeywordLibrary, compiled: CompiledLibrary, options: LintOptions = {}): LintWarning[] {
  const warnings: LintWarning[] = [];
  const minFrequency = options.minFrequency ?? 300;
  const inside = new WordIndex();
  const endings = new WordIndex();
  const beginnings = new WordIndex();
  for (const [word, frequency] of options.words ?? []) {
    if (frequency < minFrequency || word.length < 2) continue;
    for (let from = 0; from < word.length; from++) {
      for (let to = from + 1; to <= word.length; to++) {
        const part = word.slice(from, to);
        if (to - from < word.length && part.length >= 2) inside.add(part, word, frequency);
      }
    }
    for (let k = 1; k < word.length; k++) {
      endings.add(word.slice(k), word, frequency);
      beginnings.add(word.slice(0, k), word, frequency);
    }
  }
  const ignored = new Set(compiled.ignored.map((i) => i.keyword));
  const libraryAllow = library.allow;

  library.entries.forEach((entry, index) => {
    const warn = (kind: LintKind, message: string, examples: string[] = []): void => {
      warnings.push({ entry: index, keyword: entry.keyword, kind, message, examples });
    };
    if (entry.mode === 'regex') return;
    if (ignored.has(entry.keyword)) {
      warn('folds-to-nothing', 'is only spaces, punctuation or symbols under this library\'s transforms and can never match');
      return;
    }
    const chars = [...entry.keyword];
    if (chars.length === 1) warn('single-character', 'is a single character: it matches inside every word that holds it; use a longer phrase');
    if (entry.mode === 'pinyin' && library.transforms.pinyin) {
      // The full spelling is the longest all-Latin variant; the others are initials, which
      // collide with abbreviations sooner (`flg`), so they warn from one letter shorter.
      const latin = pinyinVariants(entry.keyword).filter((v) => /^[a-z]+$/i.test(v));
      const full = Math.max(0, ...latin.map((v) => v.length));
      const short = latin.filter((v) => (v.length === full ? v.length <= SHORT_PINYIN : v.length < SHORT_PINYIN));
      if (short.length > 0) warn('short-pinyin', `has short pinyin spellings (${short.join(', ')}) that ordinary Latin text holds; make the entry literal or use a longer phrase`, short);
    }
    if (options.words === undefined || entry.words === true || !HAN.test(entry.keyword)) return;
    const covered = (word: string): boolean => [...libraryAllow, ...(entry.allow ?? [])].some((phrase) => phrase.includes(word));
    const containing = inside
      .get(entry.keyword)
      .map((w) => w.word)
      .filter((w) => !covered(w));
    if (containing.length > 0) warn('inside-common-word', `is part of frequent words (${containing.join(', ')}); add the benign ones as exception phrases ("allow") or set "words": true`, containing);
    const pairs: { pair: string; frequency: number }[] = [];
    for (let k = 1; k < entry.keyword.length; k++) {
      const left = entry.keyword.slice(0, k);
      const right = entry.keyword.slice(k);
      const before = endings.get(left).find((w) => w.word !== entry.keyword);
      const after = beginnings.get(right).find((w) => w.word !== entry.keyword);
      if (before === undefined || after === undefined) continue;
      if (covered(before.word + after.word)) continue;
      pairs.push({ pair: `${before.word}|${after.word}`, frequency: Math.min(before.frequency, after.frequency) });
    }
    if (pairs.length > 0) {
      const examples = pairs.sort((a, b) => b.frequency - a.frequency).map((p) => p.pair);
      warn('spans-common-words', `can be the end of one frequent word and the start of the next (${examples.join(', ')}); add exception phrases ("allow") or set "words": true`, examples);
    }
  });
  return warnings;
}
