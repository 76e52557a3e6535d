/**
 * @module safety/scan-core
 * The matcher's inner loop: reads UTF-16 code units, folds each through the compiled
 * library's class table, steps the automaton over significant characters, and decides for
 * every candidate hit whether it is final. Whole-text and incremental scans both run here, so
 * a text split into chunks anywhere gives exactly the hits of the whole text.
 *
 * A candidate becomes final when nothing that can still arrive would change it:
 * - a keyword ending in a Latin letter or digit waits for the next character (word boundary);
 * - a keyword inside a live allow-list prefix waits until that allow-list word completes
 *   (then it is dropped) or can no longer complete (then it is reported);
 * - regex entries wait for the end of their line.
 */
import { PATTERN_ALLOW, PATTERN_LEFT_WORD, PATTERN_RIGHT_WORD } from './compile.js';
import type { CompiledLibrary } from './compile.js';
import { BREAK, DROP, EXPAND, NOISE, SURROGATE } from './fold.js';
import type { Folded } from './fold.js';
import { REGEX_LINE_LIMIT, REGEX_WINDOW_OVERLAP, RegexWindows } from './regex-entries.js';

/**
 * What a regex entry sees for a character: its fold, except that digits stay digits even when
 * look-alike folding reads them as letters, so `\\d` keeps its meaning.
 */
function regexView(unit: number, folded: Folded): Folded {
  if (unit >= 0x30 && unit <= 0x39) return unit;
  if (unit >= 0xff10 && unit <= 0xff19) return unit - 0xfee0;
  return folded;
}

/** A hit that is final: `ref` is `pattern * 2` for automaton hits or `entry * 2 + 1` for regex hits. */
export interface CoreHit {
  ref: number;
  start: number;
  end: number;
}

/** Right-boundary states of a candidate ending in a word character. */
const RIGHT_DECIDED = 0;
/** Nothing seen after it yet. */
const RIGHT_OPEN = 1;
/** Noise seen: the boundary holds; a repeat of its last character may still extend it. */
const RIGHT_HELD = 2;

/**
 * Noise (and invisible characters) tolerated between two characters of a keyword, in UTF-16
 * units. Evasions put one to a few symbols between characters; a longer run ends any partial
 * keyword, as a line break does, so a stream of noise after a partial keyword is never held
 * without bound.
 */
export const MAX_NOISE_RUN = 64;

interface Candidate {
  pattern: number;
  sigStart: number;
  start: number;
  end: number;
  right: number;
}

export class ScanCore {
  readonly #c: CompiledLibrary;
  readonly #collapse: boolean;
  readonly #mask: number;
  /** Plain arrays: a scan is often one short message, and typed arrays cost more to create. */
  readonly #ringStart: number[];
  readonly #ringPrevWord: number[];
  #node = 0;
  /** Index of the last significant character fed; -1 before the first. */
  #cur = -1;
  #prevClass = -1;
  #lastWord = 0;
  /** Noise and invisible units since the last significant character. */
  #gap = 0;
  #awaitRight = 0;
  readonly #candidates: Candidate[] = [];
  /** Regex entries: folded code points of the current line and their original spans. */
  readonly #line: number[] = [];
  readonly #lineStart: number[] = [];
  readonly #lineEnd: number[] = [];
  /** Evaluates the line's windows; made on the first line, so scans without regex entries skip it. */
  #regexWindows: RegexWindows | undefined;
  /** Final hits not yet taken by the caller. */
  readonly hits: CoreHit[] = [];

  constructor(compiled: CompiledLibrary) {
    this.#c = compiled;
    this.#collapse = compiled.fold.options.collapseRepeats;
    let size = 2;
    while (size <= compiled.automaton.maxDepth) size <<= 1;
    this.#mask = size - 1;
    this.#ringStart = new Array<number>(size).fill(0);
    this.#ringPrevWord = new Array<number>(size).fill(0);
  }

  /**
   * Scans `text[from, to)`, whose first code unit is at original offset `base`. A high
   * surrogate at `to - 1` must not be passed: the caller keeps it for the next chunk.
   */
  run(text: string, from: number, to: number, base: number): void {
    const c = this.#c;
    const unitClass = c.unitClass;
    const a = c.automaton;
    const rootNext = a.rootNext;
    const firstChild = a.firstChild;
    const childCount = a.childCount;
    const edgeSymbol = a.symbol;
    const reports = a.reports;
    const fail = a.failFlagged;
    const report = a.report;
    const ring = this.#ringStart;
    const ringPrev = this.#ringPrevWord;
    const mask = this.#mask;
    const collapse = this.#collapse;
    const regex = c.regexes.length > 0;
    // `node` is flagged here: (node << 1) | 1 when a pattern ends on its suffix chain.
    let node = (this.#node << 1) | ((report[this.#node] as number) >= 0 ? 1 : 0);
    let cur = this.#cur;
    let prevClass = this.#prevClass;
    let lastWord = this.#lastWord;
    let gap = this.#gap;
    for (let i = from; i < to; i++) {
      const unit = text.charCodeAt(i);
      const cls = unitClass[unit] as number;
      if (cls >= 0 && this.#awaitRight === 0 && !(collapse && cls === prevClass) && !regex) {
        prevClass = cls;
        gap = 0;
        cur++;
        ring[cur & mask] = base + i;
        ringPrev[cur & mask] = lastWord;
        lastWord = cls & 1;
        const symbol = cls >> 1;
        if (symbol === 0) node = 0;
        else {
          for (;;) {
            if (node === 0) {
              node = rootNext[symbol] as number;
              break;
            }
            const id = node >> 1;
            let lo = firstChild[id] as number;
            let hi = lo + (childCount[id] as number) - 1;
            let next = 0;
            while (lo <= hi) {
              const mid = (lo + hi) >> 1;
              const s = edgeSymbol[mid] as number;
              if (s === symbol) {
                next = (mid << 1) | (reports[mid] as number);
                break;
              }
              if (s < symbol) lo = mid + 1;
              else hi = mid - 1;
            }
            if (next !== 0) {
              node = next;
              break;
            }
            node = fail[id] as number;
          }
        }
        if (node & 1 || this.#candidates.length > 0) {
          this.#node = node >> 1;
          this.#cur = cur;
          this.#settle(base + i + 1);
        }
        continue;
      }
      if (this.#candidates.length === 0 && !regex) {
        // Common non-significant cases with nothing waiting, handled without leaving the loop.
        if (cls === NOISE || cls === DROP) {
          if (cls === NOISE) lastWord = 0;
          if (++gap > MAX_NOISE_RUN) {
            node = 0;
            prevClass = -1;
          }
          continue;
        }
        if (cls >= 0 && cls === prevClass) {
          gap = 0;
          // A repeat after noise restarts a character that was glued to a word (see #feedFolded).
          if (lastWord === 0 && ringPrev[cur & mask] === 1) {
            ring[cur & mask] = base + i;
            ringPrev[cur & mask] = 0;
          }
          continue;
        }
        if (cls === BREAK) {
          node = 0;
          prevClass = -1;
          lastWord = 0;
          gap = 0;
          continue;
        }
      }
      // Everything else takes the general path, with the state written back first.
      this.#node = node >> 1;
      this.#cur = cur;
      this.#prevClass = prevClass;
      this.#lastWord = lastWord;
      this.#gap = gap;
      if (cls === SURROGATE && i + 1 < to) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          const cp = ((unit - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
          for (const f of c.fold.foldAstral(cp)) this.#feedFolded(f, c.classOfFolded(f), base + i, base + i + 2);
          i++;
        } else this.#feedFolded(unit, 0, base + i, base + i + 1);
      } else if (cls === SURROGATE) this.#feedFolded(unit, 0, base + i, base + i + 1);
      else if (cls === EXPAND) {
        for (const f of c.fold.expansion(unit)) this.#feedFolded(f, c.classOfFolded(f), base + i, base + i + 1);
      } else this.#feedFolded(regex ? regexView(unit, c.fold.bmp[unit] as Folded) : (c.fold.bmp[unit] as Folded), cls, base + i, base + i + 1);
      node = (this.#node << 1) | ((report[this.#node] as number) >= 0 ? 1 : 0);
      cur = this.#cur;
      prevClass = this.#prevClass;
      lastWord = this.#lastWord;
      gap = this.#gap;
    }
    this.#node = node >> 1;
    this.#cur = cur;
    this.#prevClass = prevClass;
    this.#lastWord = lastWord;
    this.#gap = gap;
  }

  /** Ends the text: every waiting candidate is decided and the last line goes to the regexes. */
  finish(): void {
    this.#resolveRight(0);
    this.#node = 0;
    this.#settleCandidates();
    this.#flushLine();
    this.#prevClass = -1;
    this.#lastWord = 0;
    this.#gap = 0;
  }

  /**
   * The original offset before which no hit can start any more: the start of the longest
   * suffix that can still grow into a keyword, of any undecided candidate, and of the current
   * line when the library has regex entries. Text before it can be released.
   */
  safeOffset(consumed: number): number {
    let safe = consumed;
    const live = this.#c.automaton.keywordLive[this.#node] as number;
    if (live > 0) safe = Math.min(safe, this.#ringStart[(this.#cur - live + 1) & this.#mask] as number);
    for (const candidate of this.#candidates) safe = Math.min(safe, candidate.start);
    const lineStart = this.#lineStart[0];
    if (lineStart !== undefined) safe = Math.min(safe, lineStart);
    return safe;
  }

  /** One folded character on the general path (markers, expansions, astral, pending decisions). */
  #feedFolded(folded: Folded, cls: number, start: number, end: number): void {
    if ((cls === DROP || cls === NOISE) && ++this.#gap > MAX_NOISE_RUN) {
      this.finish();
      return;
    }
    if (cls === DROP) return;
    if (cls === NOISE) {
      for (const candidate of this.#candidates) if (candidate.right === RIGHT_OPEN) candidate.right = RIGHT_HELD;
      this.#lastWord = 0;
      if (this.#candidates.length > 0) this.#settleCandidates();
      return;
    }
    if (cls === BREAK) {
      this.finish();
      return;
    }
    this.#gap = 0;
    if (this.#collapse && cls === this.#prevClass) {
      // A repeat after noise starts afresh when the first one was glued to a word before it:
      // in `this s.e.x` the keyword starts at the second `s`, a word boundary.
      const at = this.#cur & this.#mask;
      if (this.#lastWord === 0 && this.#ringPrevWord[at] === 1) {
        this.#ringStart[at] = start;
        this.#ringPrevWord[at] = 0;
      }
      // A repeat belongs to the character before it: a candidate ending there now ends here.
      for (const candidate of this.#candidates) if (candidate.right !== RIGHT_DECIDED) candidate.end = end;
      if (this.#c.regexes.length > 0) this.#pushLine(folded, start, end);
      return;
    }
    this.#resolveRight(cls & 1);
    this.#prevClass = cls;
    const cur = ++this.#cur;
    this.#ringStart[cur & this.#mask] = start;
    this.#ringPrevWord[cur & this.#mask] = this.#lastWord;
    this.#lastWord = cls & 1;
    this.#node = this.#step(this.#node, cls >> 1);
    if (this.#c.regexes.length > 0) this.#pushLine(folded, start, end);
    this.#settle(end);
  }

  /** Regex entries see every significant character, repeats included. */
  #pushLine(folded: Folded, start: number, end: number): void {
    this.#line.push(folded);
    this.#lineStart.push(start);
    this.#lineEnd.push(end);
    if (this.#line.length >= REGEX_LINE_LIMIT) this.#flushLine(false);
  }

  #step(from: number, symbol: number): number {
    if (symbol === 0) return 0;
    const a = this.#c.automaton;
    let node = from;
    for (;;) {
      if (node === 0) return (a.rootNext[symbol] as number) >> 1;
      const first = a.firstChild[node] as number;
      for (let n = first; n < first + (a.childCount[node] as number); n++) if (a.symbol[n] === symbol) return n;
      node = a.fail[node] as number;
    }
  }

  /** Collects the patterns ending at the current character, then decides what it can. */
  #settle(end: number): void {
    const c = this.#c;
    const a = c.automaton;
    const cur = this.#cur;
    let allowFrom = Infinity;
    for (let t = a.report[this.#node] as number; t >= 0; t = a.report[a.fail[t] as number] as number) {
      const pattern = a.terminal[t] as number;
      const sigStart = cur - (c.patternLength[pattern] as number) + 1;
      const flags = c.patternFlags[pattern] as number;
      if (flags & PATTERN_LEFT_WORD && this.#ringPrevWord[sigStart & this.#mask]) continue;
      if (flags & PATTERN_ALLOW) allowFrom = Math.min(allowFrom, sigStart);
      else {
        const right = flags & PATTERN_RIGHT_WORD ? RIGHT_OPEN : RIGHT_DECIDED;
        if (right !== RIGHT_DECIDED) this.#awaitRight++;
        this.#candidates.push({ pattern, sigStart, start: this.#ringStart[sigStart & this.#mask] as number, end, right });
      }
    }
    if (allowFrom !== Infinity) this.#dropCovered(allowFrom);
    if (this.#candidates.length > 0) this.#settleCandidates();
  }

  /**
   * The next significant character decides the right boundary of candidates ending in a word
   * character: another word character means the keyword was part of a longer word.
   */
  #resolveRight(nextIsWord: number): void {
    if (this.#awaitRight === 0) return;
    const kept = this.#candidates.filter((candidate) => !(candidate.right === RIGHT_OPEN && nextIsWord));
    for (const candidate of kept) candidate.right = RIGHT_DECIDED;
    this.#candidates.length = 0;
    this.#candidates.push(...kept);
    this.#awaitRight = 0;
  }

  /** An allow-list word just ended; every candidate starting inside it is a false positive. */
  #dropCovered(allowFrom: number): void {
    const kept = this.#candidates.filter((candidate) => candidate.sigStart < allowFrom);
    this.#candidates.length = 0;
    this.#candidates.push(...kept);
    this.#awaitRight = kept.reduce((n, candidate) => n + (candidate.right === RIGHT_DECIDED ? 0 : 1), 0);
  }

  /** Reports every candidate that no live allow-list prefix can still cover. */
  #settleCandidates(): void {
    const allowDepth = this.#c.automaton.allowLive[this.#node] as number;
    const candidates = this.#candidates;
    let kept = 0;
    for (const candidate of candidates) {
      if (candidate.right !== RIGHT_DECIDED || allowDepth >= this.#cur - candidate.sigStart + 1) candidates[kept++] = candidate;
      else this.hits.push({ ref: candidate.pattern * 2, start: candidate.start, end: candidate.end });
    }
    candidates.length = kept;
  }

  /** Evaluates the line so far; unless `final`, its last `REGEX_WINDOW_OVERLAP` characters stay for the next window. */
  #flushLine(final = true): void {
    if (this.#line.length === 0) return;
    this.#regexWindows ??= new RegexWindows(this.#c.regexes);
    for (const hit of this.#regexWindows.take(this.#line, final)) {
      this.hits.push({ ref: hit.entry * 2 + 1, start: this.#lineStart[hit.first] as number, end: this.#lineEnd[hit.last] as number });
    }
    const done = final ? this.#line.length : this.#line.length - REGEX_WINDOW_OVERLAP;
    this.#line.splice(0, done);
    this.#lineStart.splice(0, done);
    this.#lineEnd.splice(0, done);
  }
}
