/**
 * @module safety/fold
 * The character fold: what each input character becomes under a set of normalisation
 * options. A fold is computed once per option set into a table over the Basic Multilingual
 * Plane (astral characters are folded on demand), and both the normaliser and the matcher's
 * inner loop read it, so they always agree.
 *
 * Each character folds to one of:
 * - a code point (>= 0): a significant character;
 * - `NOISE`: space, punctuation, symbol or emoji, skipped between a keyword's characters;
 * - `BREAK`: a line break, which ends any match in progress;
 * - `DROP`: an invisible character, as if it were not there;
 * - `EXPAND`: several of the above (NFKC `㎏` -> `kg`), listed in `expansion()`.
 */
import { homoglyphMap } from './homoglyphs.js';
import type { NoiseKind, NormaliserOptions } from './options.js';
import { traditionalToSimplifiedMap } from './traditional.js';

export const DROP = -1;
export const NOISE = -2;
export const BREAK = -3;
export const EXPAND = -4;
/** A high surrogate: the caller must read the pair and call `foldAstral`. */
export const SURROGATE = -5;

const INVISIBLE = /^[\p{Cf}\p{Mn}\p{Me}\u115F\u1160\u3164\uFFA0]$/u;
const LINE_BREAK = /^[\n\v\f\r\u0085\u2028\u2029]$/u;
const NOISE_CHAR = /^[\p{Z}\p{P}\p{S}\p{Cc}\p{Co}\p{Cn}]$/u;
const LATIN_WITH_MARKS = /^[a-zA-Z]\p{M}+$/u;

/**
 * Noise kinds as bits (see `noiseKinds` in options.ts), recorded for every gap between two
 * characters of a match. `ASCII_CLAUSE` is `, . ; : ! ?`, which ends a clause only with a
 * space in the same gap (`a. b`), never inside a word (`k.i.l.l`).
 */
export const NOISE_SPACE = 1;
export const NOISE_PUNCTUATION = 2;
export const NOISE_SYMBOL = 4;
export const NOISE_EMOJI = 8;
export const NOISE_INVISIBLE = 16;
export const NOISE_CLAUSE = 32;
export const NOISE_ASCII_CLAUSE = 64;

/** The bit of each noise kind name. */
export const noiseKindBits: Readonly<Record<NoiseKind, number>> = Object.freeze({
  space: NOISE_SPACE,
  punctuation: NOISE_PUNCTUATION,
  symbol: NOISE_SYMBOL,
  emoji: NOISE_EMOJI,
  invisible: NOISE_INVISIBLE,
  clause: NOISE_CLAUSE,
});

/** A gap's kinds as `noiseKinds` bits: ASCII clause punctuation with a space is a clause break, alone it is punctuation. */
export function gapKinds(bits: number): number {
  if ((bits & NOISE_ASCII_CLAUSE) === 0) return bits;
  return (bits & ~NOISE_ASCII_CLAUSE) | (bits & NOISE_SPACE ? NOISE_CLAUSE : NOISE_PUNCTUATION);
}

/**
 * Sentence and clause punctuation of Chinese text, in every width and form, and the paired
 * marks (quotes, brackets, title marks) that open or close a phrase (GB/T 15834): ordinary
 * text puts them between words, evasions put ASCII symbols inside a word instead.
 */
const CLAUSE_CHARS = new Set([...'，。、；：！？…‥｡､﹐﹑﹒﹔﹕﹖﹗︐︑︒︓︔︕︖．《》〈〉「」『』【】〔〕〖〗〘〙（）［］｛｝“”‘’﹁﹂﹃﹄︵︶︷︸︹︺︻︼︽︾︿﹀'].map((c) => c.codePointAt(0) as number));
const ASCII_CLAUSE_CHARS = new Set([...',.;:!?'].map((c) => c.codePointAt(0) as number));
const SPACE_CHAR = /^[\p{Z}\t]$/u;
const PUNCTUATION_CHAR = /^\p{P}$/u;

/** The kind of a code point that folds to noise or is dropped, from the original character. */
export function noiseKindOf(cp: number, dropped: boolean): number {
  if (dropped) return NOISE_INVISIBLE;
  if (CLAUSE_CHARS.has(cp)) return NOISE_CLAUSE;
  if (ASCII_CLAUSE_CHARS.has(cp)) return NOISE_ASCII_CLAUSE;
  const char = String.fromCodePoint(cp);
  if (SPACE_CHAR.test(char) || LINE_BREAK.test(char)) return NOISE_SPACE;
  if (EMOJI.test(char)) return NOISE_EMOJI;
  if (PUNCTUATION_CHAR.test(char)) return NOISE_PUNCTUATION;
  return NOISE_SYMBOL;
}

/** A folded character: a code point, or one of the markers above. */
export type Folded = number;

/** A fold table's contents (see `FoldTable.saved`). */
export interface SavedFold {
  bmp: Int32Array;
  noiseKinds: Uint8Array;
  expansions: [number, readonly Folded[]][];
}

export class FoldTable {
  readonly options: Readonly<NormaliserOptions>;
  /** Fold of each UTF-16 code unit; `SURROGATE` for high surrogates. */
  readonly bmp: Int32Array;
  /** For code units that fold to noise or are dropped: their noise kind bit; 0 otherwise. */
  readonly noiseKinds: Uint8Array;
  readonly #expansions = new Map<number, readonly Folded[]>();
  readonly #astral = new Map<number, readonly Folded[]>();
  #homoglyphs: Map<number, number> | undefined;
  #simplified: Map<number, number> | undefined;

  /**
   * Builds the table for `options`, or takes it from `saved` (a table `saved()` returned for
   * the same options, e.g. from a compiled-library cache), which skips the ~50 ms build.
   */
  constructor(options: NormaliserOptions, saved?: SavedFold) {
    this.options = Object.freeze({ ...options });
    if (saved !== undefined) {
      this.bmp = saved.bmp;
      this.noiseKinds = saved.noiseKinds;
      for (const [unit, folded] of saved.expansions) this.#expansions.set(unit, folded);
      return;
    }
    this.#homoglyphs = options.homoglyphs ? homoglyphMap() : undefined;
    this.#simplified = options.traditional ? traditionalToSimplifiedMap() : undefined;
    this.bmp = new Int32Array(0x10000);
    this.noiseKinds = new Uint8Array(0x10000);
    for (let unit = 0; unit < 0x10000; unit++) {
      if (unit >= 0xd800 && unit <= 0xdbff) {
        this.bmp[unit] = SURROGATE;
        continue;
      }
      const folded = isPlainIdeograph(unit) ? [this.#simplified?.get(unit) ?? unit] : this.#foldCodePoint(unit);
      if (folded.length === 0) {
        this.bmp[unit] = DROP;
        this.noiseKinds[unit] = NOISE_INVISIBLE;
      } else if (folded.length === 1) {
        this.bmp[unit] = folded[0] as number;
        if (folded[0] === NOISE) this.noiseKinds[unit] = noiseKindOf(unit, false);
      } else {
        this.bmp[unit] = EXPAND;
        this.#expansions.set(unit, folded);
      }
    }
  }

  /** The table's contents, enough to rebuild it with `new FoldTable(options, saved)`. */
  saved(): SavedFold {
    return { bmp: this.bmp, noiseKinds: this.noiseKinds, expansions: [...this.#expansions] };
  }

  /** The folds of a BMP code unit whose table entry is `EXPAND`. */
  expansion(unit: number): readonly Folded[] {
    return this.#expansions.get(unit) ?? [];
  }

  /** The folds of an astral code point (emoji, CJK extension B and beyond, math letters). */
  foldAstral(codePoint: number): readonly Folded[] {
    let folded = this.#astral.get(codePoint);
    if (folded === undefined) {
      folded = this.#foldCodePoint(codePoint);
      // Bounded: a text cycling through many rare astral characters cannot grow it without limit.
      if (this.#astral.size < 8192) this.#astral.set(codePoint, folded);
    }
    return folded;
  }

  /** The noise kind bit of an astral code point that folds to noise or is dropped. */
  astralNoiseKind(codePoint: number): number {
    const folded = this.foldAstral(codePoint);
    return noiseKindOf(codePoint, folded.length === 0);
  }

  /** Folds a whole string: code points and the `NOISE` and `BREAK` markers (drops removed). */
  foldText(text: string): number[] {
    const out: number[] = [];
    for (const char of text) {
      const cp = char.codePointAt(0) as number;
      for (const f of cp > 0xffff ? this.foldAstral(cp) : this.#unitFolds(cp)) out.push(f);
    }
    return out;
  }

  #unitFolds(unit: number): readonly Folded[] {
    const f = this.bmp[unit] as number;
    if (f === EXPAND) return this.expansion(unit);
    if (f === DROP) return [];
    return [f];
  }

  #foldCodePoint(cp: number): Folded[] {
    const o = this.options;
    // A restored table builds its maps only when an astral character needs them.
    if (o.homoglyphs) this.#homoglyphs ??= homoglyphMap();
    if (o.traditional) this.#simplified ??= traditionalToSimplifiedMap();
    const char = String.fromCodePoint(cp);
    if (LINE_BREAK.test(char)) return [o.crossLineBreaks && o.skipNoise ? NOISE : BREAK];
    if (o.invisible && INVISIBLE.test(char)) return [];
    let text = char;
    if (o.nfkc) {
      text = text.normalize('NFKC');
      // Latin letters with diacritics fold to the bare letter, so `kïll` and `kill` meet.
      if (o.invisible) {
        const decomposed = text.normalize('NFD');
        if (LATIN_WITH_MARKS.test(decomposed)) text = decomposed.charAt(0);
      }
    } else if (o.width) {
      text = foldWidth(text);
    }
    if (o.caseFold) text = text.toLowerCase();
    const out: Folded[] = [];
    for (const part of text) {
      let p = part.codePointAt(0) as number;
      if (o.invisible && INVISIBLE.test(part)) continue;
      p = this.#homoglyphs?.get(p) ?? p;
      p = this.#simplified?.get(p) ?? p;
      const folded = String.fromCodePoint(p);
      if (LINE_BREAK.test(folded)) out.push(BREAK);
      else if (o.skipNoise && NOISE_CHAR.test(folded)) {
        if (out[out.length - 1] !== NOISE) out.push(NOISE);
      } else out.push(p);
    }
    return out;
  }
}

/**
 * CJK unified ideographs (and extension A) and Hangul syllables: NFKC leaves them alone, they
 * have no case and are never noise, so only the traditional-to-simplified map can change them.
 * Skipping the general path for these ~43,000 code units keeps building a fold fast.
 */
function isPlainIdeograph(unit: number): boolean {
  return (unit >= 0x4e00 && unit <= 0x9fff) || (unit >= 0x3400 && unit <= 0x4dbf) || (unit >= 0xac00 && unit <= 0xd7a3);
}

/** Full-width ASCII (U+FF01..U+FF5E) and the ideographic space to their half-width forms. */
function foldWidth(text: string): string {
  const cp = text.codePointAt(0) as number;
  if (cp >= 0xff01 && cp <= 0xff5e) return String.fromCodePoint(cp - 0xfee0);
  if (cp === 0x3000) return ' ';
  return text;
}

const EMOJI = /^\p{Extended_Pictographic}$/u;

/**
 * True for letters and digits of scripts written with spaces between words (Latin, Greek,
 * Cyrillic, ...): the characters a word boundary is made of. Han, kana and Hangul are not,
 * because Chinese and Japanese run words together.
 */
export function isWordCodePoint(cp: number): boolean {
  if (cp < 0x80) return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a);
  if (isPlainIdeograph(cp)) return false;
  const char = String.fromCodePoint(cp);
  if (EMOJI.test(char)) return false;
  return /^[\p{L}\p{N}]$/u.test(char) && !/^[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}\p{sc=Bopomofo}]$/u.test(char);
}
