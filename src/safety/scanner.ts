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
 *    - the end of its line, for `regex` entries.
 * 3. Safe to release. `safeOffset` (and the `released` text of each step) is the start of the
 *    earliest stretch that could still become a hit: the longest suffix of the normalised text
 *    that is a prefix of some keyword, every hit still waiting under (2), and, when the library
 *    has regex entries, the current line. Everything before it is final; no later hit starts
 *    before it. Normalisation is counted: with noise skipping on, a partial keyword and the
 *    noise after it are held (`法 轮 ` is held, `法 轮 好` is released); an invisible character
 *    is held with the partial it sits in; a line break ends every partial keyword and
 *    releases it (matches never cross a line break unless `crossLineBreaks` is set); a high
 *    surrogate at the end of a chunk waits for its pair. For literal and pinyin entries the
 *    held text is exactly what could still match; regex entries hold their line, since a
 *    regular expression cannot say whether a prefix could still match.
 * 4. Bounded memory: the scanner keeps only the held text and a ring of positions as long as
 *    the longest keyword (plus the current line, up to `REGEX_LINE_LIMIT` characters, for
 *    regex entries).
 */
import { ScanCore } from './scan-core.js';
import type { CompiledLibrary } from './compile.js';
import { ScannerStateError } from './errors.js';
import type { MatchMode, Severity } from './library.js';
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
    const matches = this.#core.hits.flatMap((hit) => toMatches(this.library, hit.ref, hit.start, hit.end, this.#held.slice(hit.start - this.#heldFrom, hit.end - this.#heldFrom)));
    this.#core.hits.length = 0;
    const releasedFrom = this.#heldFrom;
    const released = this.#held.slice(0, safe - this.#heldFrom);
    this.#held = this.#held.slice(safe - this.#heldFrom);
    this.#heldFrom = safe;
    return { matches, released, releasedFrom };
  }
}

function toMatches(c: CompiledLibrary, ref: number, start: number, end: number, original: string): KeywordMatch[] {
  if (ref & 1) {
    const entry = c.entries[ref >> 1];
    if (entry === undefined) return [];
    return [{ risk: entry.risk, keyword: entry.keyword, severity: entry.severity, mode: entry.mode, via: 'regex', start, end, original }];
  }
  const refs = c.patternEntries[ref >> 1] ?? [];
  const out: KeywordMatch[] = [];
  for (const r of refs) {
    const entry = c.entries[r >> 1];
    if (entry === undefined) continue;
    out.push({ risk: entry.risk, keyword: entry.keyword, severity: entry.severity, mode: entry.mode, via: r & 1 ? 'pinyin' : 'literal', start, end, original });
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
    const last = matches[matches.length - 1];
    if (last !== undefined && (hit.start < last.start || (hit.start === last.start && hit.end < last.end))) sorted = false;
    for (const m of toMatches(library, hit.ref, hit.start, hit.end, text.slice(hit.start, hit.end))) matches.push(m);
  }
  return sorted ? matches : matches.sort((a, b) => a.start - b.start || a.end - b.end);
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
