/**
 * @module safety/scanner
 * Keyword scanning over whole texts and over streams. Offsets are UTF-16 code unit offsets
 * into the original text (for a stream: into everything fed so far), so `text.slice(start,
 * end)` is the evidence a reviewer sees, whatever normalisation found it.
 *
 * The incremental scanner is what a streaming gateway is built on (AI Measures Art. 14: stop
 * generating and transmitting illegal content). Its contract:
 *
 * 1. Same hits. Feeding a text in any chunks (even one UTF-16 unit at a time, splitting
 *    surrogate pairs) and calling `end()` yields exactly the hits of `scanText` on the whole
 *    text, with the same offsets.
 * 2. As soon as possible. A hit is returned by the `feed` call that brings the character that
 *    makes it final: its last character, unless it must wait for one of
 *    - its right word boundary: a keyword ending in a Latin letter or digit waits for the next
 *      character (`kill` in `kills` is no hit); after noise it also absorbs repeats of its
 *      last character (`kil l`);
 *    - an allow-list word that contains it and could still complete (`大法` waits while
 *      `大法官` is possible);
 *    - for an entry in word-boundary mode, `WORD_CONTEXT` more characters (or the end), which
 *      the segmenter needs to see the words around it;
 *    - the end of its line, for `regex` entries.
 * 3. Safe to release. `safeOffset` (and the `released` text of each step) is the start of the
 *    earliest stretch that could still become a hit: the longest suffix of the normalised text
 *    that is a prefix of some keyword, every hit still waiting under (2), and, when the library
 *    has regex entries, the current line. Everything before it is final; no later hit starts
 *    before it. Normalisation is counted: with noise skipping on, a partial keyword and the
 *    noise after it are held (`法 轮 ` is held, `法 轮 好` is released); an invisible character
 *    is held with the partial it sits in; a line break ends every partial keyword and
 *    releases it (matches never cross a line break unless `crossLineBreaks` is set); a high
 *    surrogate at the end of a chunk waits for its pair; a keyword still short of a repeat of
 *    its last character (`哈哈` of `哈哈哈`) is held until the next character decides it. For literal and pinyin entries the
 *    held text is exactly what could still match; regex entries hold their line, since a
 *    regular expression cannot say whether a prefix could still match.
 * 4. Bounded memory: the scanner keeps only the held text and a ring of positions as long as
 *    the longest keyword (plus the current line, up to `REGEX_LINE_LIMIT` characters, for
 *    regex entries).
 */
import { ScanCore } from './scan-core.js';
import type { CoreHit } from './scan-core.js';
import type { CompiledLibrary } from './compile.js';
import type { Confidence, MatchTransform } from './confidence.js';
import { confidenceOf, transformsOf } from './confidence.js';
import { WORD_CONTEXT, atWordBoundaries } from './word-boundary.js';
import { ScannerStateError } from './errors.js';
import type { MatchMode, Severity } from './library.js';
import type { WordSegmenter } from './segmenter.js';
import type { RiskCode } from './taxonomy.js';

export interface KeywordMatch {
  risk: RiskCode;
  /** The library entry that matched (for a regex entry, its pattern). */
  keyword: string;
  severity: Severity;
  mode: MatchMode;
  /** `pinyin` when the text held a pinyin spelling or initials of the keyword. */
  via: 'literal' | 'pinyin' | 'regex';
  /** UTF-16 offsets into the original text: `[start, end)`. */
  start: number;
  end: number;
  /** The original text of the hit, exactly as written. */
  original: string;
  /** What the hit needed to be found, empty when it is written as the keyword is. */
  transforms: MatchTransform[];
  /** `high` with no transform, `medium` with one, `low` with two or more. */
  confidence: Confidence;
}

/** What one `feed` or `end` call produced. */
export interface ScanStep {
  /** Hits that became final, in the order they became final. */
  matches: KeywordMatch[];
  /** Text that can now be released: `[releasedFrom, releasedFrom + released.length)`. */
  released: string;
  releasedFrom: number;
}

/**
 * Scans a stream chunk by chunk with the library it was created with; a library swapped in
 * later applies to the next stream, never halfway through this one.
 *
 * @example
 * const scanner = new IncrementalScanner(compiled);
 * for await (const delta of modelStream) {
 *   const step = scanner.feed(delta);
 *   if (step.matches.length > 0) return stopGeneration(step.matches);
 *   send(step.released);
 * }
 * send(scanner.end().released);
 */
export class IncrementalScanner {
  readonly library: CompiledLibrary;
  readonly #core: ScanCore;
  /** Text from `#heldFrom` to the end of what was fed, not yet released. */
  #held = '';
  #heldFrom = 0;
  #consumed = 0;
  #ended = false;
  /** Up to `WORD_CONTEXT` units released just before `#heldFrom`: left context for word-boundary checks. */
  #context = '';
  /** Hits of word-boundary entries waiting for their right context. */
  #waiting: CoreHit[] = [];

  constructor(library: CompiledLibrary) {
    this.library = library;
    this.#core = new ScanCore(library);
  }

  /** Offset up to which text has been fed. */
  get consumed(): number {
    return this.#consumed;
  }

  /** Offset before which no hit can start any more; everything before it has been released. */
  get safeOffset(): number {
    return this.#heldFrom;
  }

  feed(chunk: string): ScanStep {
    if (this.#ended) throw new ScannerStateError('feed() called after end(); create a new scanner for a new text');
    this.#held += chunk;
    const startInHeld = this.#consumed - this.#heldFrom;
    let stop = this.#held.length;
    // A high surrogate at the end waits for its pair.
    const lastUnit = this.#held.charCodeAt(stop - 1);
    if (stop > startInHeld && lastUnit >= 0xd800 && lastUnit <= 0xdbff) stop--;
    this.#core.run(this.#held, startInHeld, stop, this.#heldFrom);
    this.#consumed = this.#heldFrom + stop;
    return this.#step(this.#core.safeOffset(this.#consumed));
  }

  /** Ends the stream: every remaining decision is made and all text is released. */
  end(): ScanStep {
    if (this.#ended) throw new ScannerStateError('end() called twice');
    if (this.#consumed < this.#heldFrom + this.#held.length) {
      this.#core.run(this.#held, this.#consumed - this.#heldFrom, this.#held.length, this.#heldFrom);
      this.#consumed = this.#heldFrom + this.#held.length;
    }
    this.#core.finish();
    this.#ended = true;
    return this.#step(this.#consumed);
  }

  #step(safe: number): ScanStep {
    const c = this.library;
    const matches: KeywordMatch[] = [];
    for (const hit of this.#core.hits) {
      if (needsWords(c, hit.ref)) this.#waiting.push(hit);
      else matches.push(...toMatches(c, hit.ref, hit.start, hit.end, this.#held.slice(hit.start - this.#heldFrom, hit.end - this.#heldFrom)));
    }
    this.#core.hits.length = 0;
    let upTo = safe;
    if (this.#waiting.length > 0) {
      // The text this scanner still has: the left context, then everything held.
      const from = this.#heldFrom - this.#context.length;
      const known = this.#context + this.#held;
      const still: CoreHit[] = [];
      for (const hit of this.#waiting) {
        if (!this.#ended && this.#consumed < hit.end + WORD_CONTEXT) {
          still.push(hit);
          upTo = Math.min(upTo, hit.start);
          continue;
        }
        const windowStart = Math.max(0, hit.start - WORD_CONTEXT);
        const window = known.slice(windowStart - from, Math.min(this.#consumed, hit.end + WORD_CONTEXT) - from);
        if (atWordBoundaries(c, c.segmenter as WordSegmenter, window, windowStart, hit.start, hit.end)) matches.push(...toMatches(c, hit.ref, hit.start, hit.end, known.slice(hit.start - from, hit.end - from)));
      }
      this.#waiting = still;
    }
    const releasedFrom = this.#heldFrom;
    const released = this.#held.slice(0, upTo - this.#heldFrom);
    this.#held = this.#held.slice(upTo - this.#heldFrom);
    this.#heldFrom = upTo;
    this.#context = (this.#context + released).slice(-WORD_CONTEXT);
    return { matches, released, releasedFrom };
  }
}

/** Whether a core hit belongs to a word-boundary variant. */
function needsWords(c: CompiledLibrary, ref: number): boolean {
  return (ref & 1) === 0 && c.variantWords[ref >> 1] === 1;
}

function toMatches(c: CompiledLibrary, ref: number, start: number, end: number, original: string): KeywordMatch[] {
  if (ref & 1) {
    const entry = c.entry(ref >> 1);
    if (entry === undefined) return [];
    const transforms = transformsOf(c, original, undefined, false);
    return [{ risk: entry.risk, keyword: entry.keyword, severity: entry.severity, mode: entry.mode, via: 'regex', start, end, original, transforms, confidence: confidenceOf(transforms) }];
  }
  const variant = ref >> 1;
  const from = c.variantRefFrom[variant];
  const to = c.variantRefFrom[variant + 1];
  if (from === undefined || to === undefined) return [];
  const length = c.variantLength[variant];
  const out: KeywordMatch[] = [];
  for (let k = from; k < to; k++) {
    const r = c.variantRefList[k] as number;
    const entry = c.entry(r >> 1);
    if (entry === undefined) continue;
    const transforms = transformsOf(c, original, length, (r & 1) === 1);
    out.push({ risk: entry.risk, keyword: entry.keyword, severity: entry.severity, mode: entry.mode, via: r & 1 ? 'pinyin' : 'literal', start, end, original, transforms, confidence: confidenceOf(transforms) });
  }
  return out;
}

/**
 * Every keyword hit in `text`, ordered by start (then end). Same results as feeding the text to
 * an `IncrementalScanner` in any chunks (the same core runs underneath, without the
 * bookkeeping a stream needs).
 */
export function scanText(library: CompiledLibrary, text: string): KeywordMatch[] {
  const core = new ScanCore(library);
  core.run(text, 0, text.length, 0);
  core.finish();
  const matches: KeywordMatch[] = [];
  let sorted = true;
  for (const hit of core.hits) {
    if (needsWords(library, hit.ref)) {
      const windowStart = Math.max(0, hit.start - WORD_CONTEXT);
      const window = text.slice(windowStart, Math.min(text.length, hit.end + WORD_CONTEXT));
      if (!atWordBoundaries(library, library.segmenter as WordSegmenter, window, windowStart, hit.start, hit.end)) continue;
    }
    const last = matches[matches.length - 1];
    if (last !== undefined && (hit.start < last.start || (hit.start === last.start && hit.end < last.end))) sorted = false;
    for (const m of toMatches(library, hit.ref, hit.start, hit.end, text.slice(hit.start, hit.end))) matches.push(m);
  }
  return sorted ? matches : matches.sort((a, b) => a.start - b.start || a.end - b.end);
}

const riskCores = new WeakMap<CompiledLibrary, ScanCore>();

/**
 * The risk codes of every keyword hit in `text`, sorted, each once: the risks of `scanText`'s
 * matches, without building the matches (for counting a corpus, where an item needs only its
 * risks; its matches are built only when it is kept for review).
 */
export function scanRisks(library: CompiledLibrary, text: string): RiskCode[] {
  // One core per library, reset for each text: a corpus scan calls this for millions of short texts.
  let core = riskCores.get(library);
  if (core === undefined) riskCores.set(library, (core = new ScanCore(library)));
  else core.reset();
  core.run(text, 0, text.length, 0);
  core.finish();
  const risks: RiskCode[] = [];
  for (const hit of core.hits) {
    if (needsWords(library, hit.ref)) {
      const windowStart = Math.max(0, hit.start - WORD_CONTEXT);
      const window = text.slice(windowStart, Math.min(text.length, hit.end + WORD_CONTEXT));
      if (!atWordBoundaries(library, library.segmenter as WordSegmenter, window, windowStart, hit.start, hit.end)) continue;
    }
    if (hit.ref & 1) {
      const entry = library.entry(hit.ref >> 1);
      if (entry !== undefined && !risks.includes(entry.risk)) risks.push(entry.risk);
      continue;
    }
    const variant = hit.ref >> 1;
    const to = library.variantRefFrom[variant + 1];
    if (to === undefined) continue;
    for (let k = library.variantRefFrom[variant] as number; k < to; k++) {
      const entry = library.entry((library.variantRefList[k] as number) >> 1);
      if (entry !== undefined && !risks.includes(entry.risk)) risks.push(entry.risk);
    }
  }
  return risks.length > 1 ? risks.sort() : risks;
}

/**
 * Holds the library in force and lets a new one replace it at any moment: scans already
 * running finish on the library they started with, the next scan uses the new one. Nothing
 * waits, because a compiled library is immutable and the swap is one assignment.
 */
export class KeywordScanner {
  #library: CompiledLibrary;

  constructor(library: CompiledLibrary) {
    this.#library = library;
  }

  get library(): CompiledLibrary {
    return this.#library;
  }

  /** Puts `library` in force for every scan started from now on; returns the one it replaced. */
  swap(library: CompiledLibrary): CompiledLibrary {
    const previous = this.#library;
    this.#library = library;
    return previous;
  }

  scan(text: string): KeywordMatch[] {
    return scanText(this.#library, text);
  }

  stream(): IncrementalScanner {
    return new IncrementalScanner(this.#library);
  }
}
