/**
 * @module safety/options
 * The normalisation transforms a keyword library can switch on or off. Each one defeats a
 * common way of hiding a keyword from a literal filter; the same transforms run over the
 * keywords and over the scanned text, so matching happens in one canonical form.
 */

export interface NormaliserOptions {
  /** Unicode NFKC compatibility folding: full-width forms, circled and styled letters, ligatures. */
  nfkc: boolean;
  /** Full-width ASCII to half-width (part of NFKC; used alone when `nfkc` is off). */
  width: boolean;
  /** Case folding (lower case). */
  caseFold: boolean;
  /** Traditional and variant Chinese characters to simplified (OpenCC character tables). */
  traditional: boolean;
  /** Removes zero-width, bidirectional, variation-selector and combining characters. */
  invisible: boolean;
  /** Skips spaces, punctuation, symbols and emoji between the characters of a keyword. */
  skipNoise: boolean;
  /** Treats a run of the same character as one (`法法轮功` as `法轮功`). */
  collapseRepeats: boolean;
  /** Folds Cyrillic and Greek look-alikes and digit or symbol substitutions onto Latin letters. */
  homoglyphs: boolean;
  /** Adds pinyin spellings and initials for keywords whose mode is `pinyin`. */
  pinyin: boolean;
  /**
   * Lets a match continue across a line break. Off by default: two words on separate lines
   * are never joined into a keyword (GB/T 45654 asks for accurate hits, not invented ones).
   */
  crossLineBreaks: boolean;
  /** Keywords that begin or end with a Latin letter or digit match whole words only. */
  latinWordBoundary: boolean;
}

/** Every transform on, line breaks kept as separators. */
export const defaultNormaliserOptions: Readonly<NormaliserOptions> = Object.freeze({
  nfkc: true,
  width: true,
  caseFold: true,
  traditional: true,
  invisible: true,
  skipNoise: true,
  collapseRepeats: true,
  homoglyphs: true,
  pinyin: true,
  crossLineBreaks: false,
  latinWordBoundary: true,
});

/** Every transform off: plain literal matching. */
export const literalNormaliserOptions: Readonly<NormaliserOptions> = Object.freeze({
  nfkc: false,
  width: false,
  caseFold: false,
  traditional: false,
  invisible: false,
  skipNoise: false,
  collapseRepeats: false,
  homoglyphs: false,
  pinyin: false,
  crossLineBreaks: false,
  latinWordBoundary: false,
});

export function resolveOptions(partial?: Partial<NormaliserOptions>): NormaliserOptions {
  return { ...defaultNormaliserOptions, ...partial };
}

/**
 * What may stand between two characters of a keyword when `skipNoise` is on. Evasions put
 * spaces, symbols, emoji, invisible characters or ASCII punctuation inside a word (`法.轮.功`);
 * ordinary writing puts clause punctuation between words (`方法，轮流`), so a match may not
 * cross it unless a library or an entry says so:
 * - `space`: spaces of every width, tabs;
 * - `punctuation`: punctuation that does not end a clause (`.` `-` `·` `《`, ...);
 * - `symbol`: symbols and other non-letters (`*` `|` `~` `★`, ...);
 * - `emoji`;
 * - `invisible`: zero-width, bidirectional and combining characters (when `invisible` drops them);
 * - `clause`: sentence and clause punctuation (，。、；：！？… and their small and half-width
 *   forms), Chinese quotes, brackets and title marks (“”「」《》（）【】...), and ASCII
 *   `, . ; : ! ?` together with a space in the same gap (`打赌. 博物馆`).
 */
export const noiseKinds = ['space', 'punctuation', 'symbol', 'emoji', 'invisible', 'clause'] as const;
export type NoiseKind = (typeof noiseKinds)[number];

/** Everything evasions use; clause punctuation ends a match. */
export const defaultNoise: readonly NoiseKind[] = Object.freeze(['space', 'punctuation', 'symbol', 'emoji', 'invisible']);
