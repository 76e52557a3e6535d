/**
 * @module safety/scan-core
 * The matcher's inner loop: reads UTF-16 code units, folds each through the compiled
 * library's class table, steps the automaton over significant characters, and decides for
 * every candidate hit whether it is final. Whole-text and incremental scans both run here, so
 * a text split into chunks anywhere gives exactly the hits of the whole text.
 *
 * A pattern the automaton reports is a candidate only if the text honours the keyword (issue
 * 12: transforms never invent a match): each character the keyword repeats stands at least as
 * often in the text (`妈妈` is not in `我妈说`), and the gaps inside it hold only the noise its
 * library or entry allows (by default no clause punctuation: `法轮` is not in `方法，轮流`).
 * A keyword whose last character must stand once more waits for that repeat, holding its text.
 *
 * A candidate becomes final when nothing that can still arrive would change it:
 * - a keyword ending in a Latin letter or digit waits for the next character (word boundary);
 * - a keyword inside a live allow-list prefix waits until that allow-list word completes
 *   (then it is dropped if the phrase protects it) or can no longer complete (then it is reported);
 * - regex entries wait for the end of their line.
 */
import { CHECK_CLAUSE, CHECK_MORE, NOISE_CHECK_CLAUSE, NOISE_CHECK_GAPS, PATTERN_ALLOW, PATTERN_LEFT_WORD, PATTERN_RIGHT_WORD, noiseCheckOf } from './compile.js';
import type { CompiledLibrary } from './compile.js';
import { BREAK, DROP, EXPAND, NOISE, NOISE_ASCII_CLAUSE, NOISE_CLAUSE, NOISE_SPACE, NOISE_SYMBOL, SURROGATE, gapKinds } from './fold.js';
import type { Folded } from './fold.js';
import { NEVER_GLUED, pairBit, pairShift } from './automaton.js';
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

/** A hit that is final: `ref` is `variant * 2` for automaton hits or `entry * 2 + 1` for regex hits. */
export interface CoreHit {
  ref: number;
  start: number;
  end: number;
}

/** A run check that fails before the keyword's last character. */
const RUNS_FAIL = -0x40000000;

/** One repeat in a `#ringInfo` entry. */
const RUN_ONE = 256;

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

/**
 * Whether a gap holds a clause break (see `gapKinds`). A run of repeats never crosses one: in
 * `峰，峰` the two are two characters of two clauses, not one doubled character.
 */
function endsClause(gap: number): boolean {
  return (gap & NOISE_CLAUSE) !== 0 || (gap & (NOISE_ASCII_CLAUSE | NOISE_SPACE)) === (NOISE_ASCII_CLAUSE | NOISE_SPACE);
}

const referenceTables = new WeakMap<CompiledLibrary, { leftGlued: Int32Array; pairs: Int32Array }>();

/** Tables that take no short cut: every report is settled and every pair may follow (for tests). */
function referenceShortcuts(c: CompiledLibrary): { leftGlued: Int32Array; pairs: Int32Array } {
  let tables = referenceTables.get(c);
  if (tables === undefined) referenceTables.set(c, (tables = { leftGlued: new Int32Array(c.automaton.size).fill(NEVER_GLUED), pairs: new Int32Array(32).fill(-1) }));
  return tables;
}

interface Candidate {
  variant: number;
  sigStart: number;
  start: number;
  end: number;
  right: number;
}

export class ScanCore {
  readonly #c: CompiledLibrary;
  readonly #collapse: boolean;
  readonly #mask: number;
  /** `scanShortcuts` (automaton.ts): the compiled library's, or for the reference core, none. */
  readonly #leftGlued: Int32Array;
  readonly #pairs: Int32Array;
  /** False for the reference core: a candidate waiting for its right boundary sends the next character down the general path. */
  readonly #fastRight: boolean;
  /** Plain arrays: a scan is often one short message, and typed arrays cost more to create. */
  readonly #ringStart: number[];
  /**
   * Per significant character, packed in one number so the inner loop makes one store:
   * bit 0, whether the character before it was a word character; bits 1-7, the noise kinds in
   * the gap before it; from bit 8 up, how many times it stands in a row (repeats collapsed).
   */
  readonly #ringInfo: number[];
  #node = 0;
  /** Index of the last significant character fed; -1 before the first. */
  #cur = -1;
  #prevClass = -1;
  #lastWord = 0;
  /** How many of the latest significant characters, up to the current one, have bit 0 of their `#ringInfo` set (at most; 0 is always safe). */
  #glued = 0;
  /** Noise and invisible units since the last significant character. */
  #gap = 0;
  /** Noise kinds since the last significant character. */
  #gapMask = 0;
  /** Index of the latest significant character with a clause break before it. */
  #clauseAt = -1;
  /** Index of the current character when a keyword ending on it needs more repeats of it; else -2. */
  #repeatAt = -2;
  /** Where the earliest such keyword starts: text from here is held until its repeats are decided. */
  #repeatHold = 0;
  #awaitRight = 0;
  readonly #candidates: Candidate[] = [];
  /** Allow phrases that ended at the current character: `[sigStart, pattern, ...]`. */
  readonly #covers: number[] = [];
  /** Regex entries: folded code points of the current line and their original spans. */
  readonly #line: number[] = [];
  readonly #lineStart: number[] = [];
  readonly #lineEnd: number[] = [];
  /** Evaluates the line's windows; made on the first line, so scans without regex entries skip it. */
  #regexWindows: RegexWindows | undefined;
  /** Final hits not yet taken by the caller. */
  readonly hits: CoreHit[] = [];

  /**
   * With `reference`, the core takes none of the scan loop's short cuts (see `scanShortcuts` in automaton.ts), so
   * tests can check that they change nothing.
   */
  constructor(compiled: CompiledLibrary, reference = false) {
    this.#c = compiled;
    this.#collapse = compiled.fold.options.collapseRepeats;
    let size = 2;
    while (size <= compiled.automaton.maxDepth) size <<= 1;
    this.#mask = size - 1;
    const shortcuts = reference ? referenceShortcuts(compiled) : { leftGlued: compiled.leftGlued, pairs: compiled.pairFilter };
    this.#leftGlued = shortcuts.leftGlued;
    this.#pairs = shortcuts.pairs;
    this.#fastRight = !reference;
    this.#ringStart = new Array<number>(size).fill(0);
    this.#ringInfo = new Array<number>(size).fill(0);
  }

  /** Makes the core as new for another text (whole-text scans of many short texts reuse one). */
  reset(): void {
    this.#node = 0;
    this.#cur = -1;
    this.#prevClass = -1;
    this.#lastWord = 0;
    this.#glued = 0;
    this.#gap = 0;
    this.#gapMask = 0;
    this.#clauseAt = -1;
    this.#repeatAt = -2;
    this.#repeatHold = 0;
    this.#awaitRight = 0;
    this.#candidates.length = 0;
    this.#covers.length = 0;
    this.#line.length = 0;
    this.#lineStart.length = 0;
    this.#lineEnd.length = 0;
    this.#regexWindows = undefined;
    this.hits.length = 0;
    this.#ringStart.fill(0);
    this.#ringInfo.fill(0);
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
    const leftGlued = this.#leftGlued;
    const pairs = this.#pairs;
    const shift = pairShift(pairs.length);
    const fastRight = this.#fastRight;
    const report = a.report;
    const ring = this.#ringStart;
    const ringInfo = this.#ringInfo;
    const kinds = c.fold.noiseKinds;
    const mask = this.#mask;
    const collapse = this.#collapse;
    const regex = c.regexes.length > 0;
    // `node` is flagged here: (node << 1) | 1 when a pattern ends on its suffix chain.
    let node = (this.#node << 1) | ((report[this.#node] as number) >= 0 ? 1 : 0);
    // The symbol on the edge into the current node: the last one stepped.
    let last = edgeSymbol[this.#node] as number;
    let cur = this.#cur;
    let prevClass = this.#prevClass;
    let lastWord = this.#lastWord;
    let glued = this.#glued;
    let gap = this.#gap;
    let gapMask = this.#gapMask;
    for (let i = from; i < to; i++) {
      const unit = text.charCodeAt(i);
      const cls = unitClass[unit] as number;
      if (cls >= 0 && !(collapse && cls === prevClass) && !regex && (fastRight || this.#awaitRight === 0)) {
        // The next significant character decides candidates waiting for their right boundary.
        if (this.#awaitRight !== 0) this.#resolveRight(cls & 1);
        prevClass = cls;
        gap = 0;
        cur++;
        ring[cur & mask] = base + i;
        ringInfo[cur & mask] = RUN_ONE | (gapMask << 1) | lastWord;
        glued = lastWord === 0 ? 0 : glued + 1;
        gapMask = 0;
        lastWord = cls & 1;
        const symbol = cls >> 1;
        if (symbol === 0) node = 0;
        else {
          const bit = pairBit(last, symbol, shift);
          if (node === 0 || (((pairs[bit >>> 5] as number) >>> (bit & 31)) & 1) === 0) node = rootNext[symbol] as number;
          else for (;;) {
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
        last = symbol;
        if ((node & 1 && glued < (leftGlued[node >> 1] as number)) || this.#candidates.length > 0) {
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
          gapMask |= kinds[unit] as number;
          if (endsClause(gapMask)) {
            prevClass = -1;
            this.#clauseAt = cur + 1;
          }
          if (++gap > MAX_NOISE_RUN) {
            node = 0;
            prevClass = -1;
          }
          continue;
        }
        if (cls >= 0 && cls === prevClass && this.#repeatAt !== cur) {
          gap = 0;
          gapMask = 0;
          // A repeat after noise restarts a character that was glued to a word (see #feedFolded).
          let info = (ringInfo[cur & mask] as number) + RUN_ONE;
          if (lastWord === 0 && (info & 1) === 1) {
            ring[cur & mask] = base + i;
            info--;
            glued = 0;
          }
          ringInfo[cur & mask] = info;
          continue;
        }
        if (cls === BREAK) {
          node = 0;
          prevClass = -1;
          lastWord = 0;
          gap = 0;
          gapMask = 0;
          continue;
        }
      }
      // Everything else takes the general path, with the state written back first.
      this.#node = node >> 1;
      this.#cur = cur;
      this.#prevClass = prevClass;
      this.#lastWord = lastWord;
      this.#glued = glued;
      this.#gap = gap;
      this.#gapMask = gapMask;
      if (cls === SURROGATE && i + 1 < to) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          const cp = ((unit - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
          for (const f of c.fold.foldAstral(cp)) this.#feedFolded(f, c.classOfFolded(f), base + i, base + i + 2, f === NOISE || f === DROP ? c.fold.astralNoiseKind(cp) : 0);
          i++;
        } else this.#feedFolded(unit, 0, base + i, base + i + 1, 0);
      } else if (cls === SURROGATE) this.#feedFolded(unit, 0, base + i, base + i + 1, 0);
      else if (cls === EXPAND) {
        for (const f of c.fold.expansion(unit)) this.#feedFolded(f, c.classOfFolded(f), base + i, base + i + 1, NOISE_SYMBOL);
      } else this.#feedFolded(regex ? regexView(unit, c.fold.bmp[unit] as Folded) : (c.fold.bmp[unit] as Folded), cls, base + i, base + i + 1, kinds[unit] as number);
      node = (this.#node << 1) | ((report[this.#node] as number) >= 0 ? 1 : 0);
      last = edgeSymbol[this.#node] as number;
      cur = this.#cur;
      prevClass = this.#prevClass;
      lastWord = this.#lastWord;
      glued = this.#glued;
      gap = this.#gap;
      gapMask = this.#gapMask;
    }
    this.#node = node >> 1;
    this.#cur = cur;
    this.#prevClass = prevClass;
    this.#lastWord = lastWord;
    this.#glued = glued;
    this.#gap = gap;
    this.#gapMask = gapMask;
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
    this.#gapMask = 0;
    this.#repeatAt = -2;
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
    if (this.#repeatAt === this.#cur && this.#prevClass !== -1) safe = Math.min(safe, this.#repeatHold);
    const lineStart = this.#lineStart[0];
    if (lineStart !== undefined) safe = Math.min(safe, lineStart);
    return safe;
  }

  /** One folded character on the general path (markers, expansions, astral, pending decisions). */
  #feedFolded(folded: Folded, cls: number, start: number, end: number, kind: number): void {
    if ((cls === DROP || cls === NOISE) && ++this.#gap > MAX_NOISE_RUN) {
      this.finish();
      return;
    }
    if (cls === DROP || cls === NOISE) {
      this.#gapMask |= kind;
      if (endsClause(this.#gapMask)) {
        this.#prevClass = -1;
        this.#clauseAt = this.#cur + 1;
      }
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
      this.#gapMask = 0;
      // A repeat after noise starts afresh when the first one was glued to a word before it:
      // in `this s.e.x` the keyword starts at the second `s`, a word boundary.
      const at = this.#cur & this.#mask;
      // The run still counts the first one: `all ladies` needs its three `l`s.
      let info = (this.#ringInfo[at] as number) + RUN_ONE;
      if (this.#lastWord === 0 && (info & 1) === 1) {
        this.#ringStart[at] = start;
        info--;
        this.#glued = 0;
      }
      this.#ringInfo[at] = info;
      // A repeat belongs to the character before it: a candidate ending there now ends here.
      for (const candidate of this.#candidates) if (candidate.right !== RIGHT_DECIDED) candidate.end = end;
      if (this.#c.regexes.length > 0) this.#pushLine(folded, start, end);
      if (this.#repeatAt === this.#cur) this.#settleRepeat(end);
      return;
    }
    this.#resolveRight(cls & 1);
    this.#prevClass = cls;
    const cur = ++this.#cur;
    this.#ringStart[cur & this.#mask] = start;
    this.#ringInfo[cur & this.#mask] = RUN_ONE | (this.#gapMask << 1) | this.#lastWord;
    this.#glued = this.#lastWord === 0 ? 0 : this.#glued + 1;
    this.#gapMask = 0;
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
      node = (a.failFlagged[node] as number) >> 1;
    }
  }

  /** Collects the patterns ending at the current character, then decides what it can. */
  #settle(end: number): void {
    // Kept under the engine's inlining limit (460 bytes of bytecode), so it is inlined into the
    // scan loop: the rare work (allow phrases, repeats, narrowed noise) is in calls.
    const c = this.#c;
    const a = c.automaton;
    const cur = this.#cur;
    for (let t = a.report[this.#node] as number; t >= 0; t = a.report[(a.failFlagged[t] as number) >> 1] as number) {
      const pattern = a.terminal[t] as number;
      const sigStart = cur - (c.patternLength[pattern] as number) + 1;
      const flags = c.patternFlags[pattern] as number;
      if (flags & PATTERN_LEFT_WORD && (this.#ringInfo[sigStart & this.#mask] as number) & 1) continue;
      if (flags & PATTERN_ALLOW) this.#allowEnds(pattern, sigStart);
      for (let k = c.variantFrom[pattern] as number, last = c.variantFrom[pattern + 1] as number; k < last; k++) {
        const variant = c.variantList[k] as number;
        const check = c.variantCheck[variant] as number;
        if (check !== CHECK_CLAUSE || this.#clauseAt <= sigStart) this.#addCandidate(variant, sigStart, end, flags, check === CHECK_MORE);
      }
    }
    if (this.#covers.length > 0) this.#applyCovers();
    if (this.#candidates.length > 0) this.#settleCandidates();
  }

  /**
   * A keyword pattern ends here. A keyword whose last character must stand more times than it
   * does so far is not a candidate yet: the scanner notes that a repeat of this character must
   * be checked (`#settleRepeat`) and holds the text from the keyword's start until it is.
   */
  #addCandidate(variant: number, sigStart: number, end: number, flags: number, more: boolean): void {
    const deficit = more ? this.#variantDeficit(variant, sigStart) : 0;
    if (deficit === RUNS_FAIL) return;
    if (deficit > 0) {
      const start = this.#ringStart[sigStart & this.#mask] as number;
      this.#repeatHold = this.#repeatAt === this.#cur ? Math.min(this.#repeatHold, start) : start;
      this.#repeatAt = this.#cur;
      return;
    }
    this.#pushCandidate(variant, sigStart, end, flags);
  }

  #pushCandidate(variant: number, sigStart: number, end: number, flags: number): void {
    const right = flags & PATTERN_RIGHT_WORD ? RIGHT_OPEN : RIGHT_DECIDED;
    if (right !== RIGHT_DECIDED) this.#awaitRight++;
    this.#candidates.push({ variant, sigStart, start: this.#ringStart[sigStart & this.#mask] as number, end, right });
  }

  /**
   * A repeat of the current character arrived while some keyword ending here still needed one:
   * every such keyword whose last character now stands exactly as often as it must is a
   * candidate (exactly, so each is found once); the others keep waiting.
   */
  #settleRepeat(end: number): void {
    const c = this.#c;
    const a = c.automaton;
    let waiting = false;
    for (let t = a.report[this.#node] as number; t >= 0; t = a.report[(a.failFlagged[t] as number) >> 1] as number) {
      const pattern = a.terminal[t] as number;
      const sigStart = this.#cur - (c.patternLength[pattern] as number) + 1;
      const flags = c.patternFlags[pattern] as number;
      if (flags & PATTERN_LEFT_WORD && (this.#ringInfo[sigStart & this.#mask] as number) & 1) continue;
      for (let k = c.variantFrom[pattern] as number, last = c.variantFrom[pattern + 1] as number; k < last; k++) {
        const variant = c.variantList[k] as number;
        if (c.variantCheck[variant] !== CHECK_MORE) continue;
        const deficit = this.#variantDeficit(variant, sigStart);
        if (deficit === 0) this.#pushCandidate(variant, sigStart, end, flags);
        else if (deficit > 0) waiting = true;
      }
    }
    if (!waiting) this.#repeatAt = -2;
    if (this.#candidates.length > 0) this.#settleCandidates();
  }

  /** An allow phrase ends here: it covers what starts at or after `sigStart` (applied once every pattern ending here is collected). */
  #allowEnds(pattern: number, sigStart: number): void {
    const deficit = this.#runDeficit(this.#c.allowRuns.get(pattern), sigStart);
    if (deficit !== RUNS_FAIL && deficit <= 0) this.#covers.push(sigStart, pattern);
  }

  #applyCovers(): void {
    const covers = this.#covers;
    for (let i = 0; i < covers.length; i += 2) this.#dropCovered(covers[i] as number, this.#c.allowTargets.get(covers[i + 1] as number));
    covers.length = 0;
  }

  /** For a variant with repeats or narrowed noise: `RUNS_FAIL`, or how many more repeats its last character needs (<= 0: none). */
  #variantDeficit(variant: number, sigStart: number): number {
    const c = this.#c;
    const noise = c.variantNoise[variant] as number;
    const check = noiseCheckOf(noise);
    if (check === NOISE_CHECK_CLAUSE ? this.#clauseAt > sigStart : check === NOISE_CHECK_GAPS && !this.#noiseFits(noise, sigStart)) return RUNS_FAIL;
    return this.#runDeficit(c.variantRepeats.get(variant), sigStart);
  }

  /**
   * Checks the repeats a keyword (or allow phrase) needs against the runs in the text:
   * `RUNS_FAIL` when a character before the last stands too few times, else how many more
   * times the last character must stand (zero or less: enough).
   */
  #runDeficit(repeats: Int32Array | undefined, sigStart: number): number {
    if (repeats === undefined) return 0;
    const lastAt = repeats.length - 1;
    for (let k = 0; k < lastAt; k++) if ((this.#ringInfo[(sigStart + k) & this.#mask] as number) >> 8 < (repeats[k] as number)) return RUNS_FAIL;
    return (repeats[lastAt] as number) - ((this.#ringInfo[(sigStart + lastAt) & this.#mask] as number) >> 8);
  }

  /** Whether every gap inside the match holds only noise kinds in `allowed`. */
  #noiseFits(allowed: number, sigStart: number): boolean {
    for (let k = sigStart + 1; k <= this.#cur; k++) if (gapKinds(((this.#ringInfo[k & this.#mask] as number) >> 1) & 0x7f) & ~allowed) return false;
    return true;
  }

  /**
   * The next significant character decides the right boundary of candidates ending in a word
   * character: another word character means the keyword was part of a longer word.
   */
  #resolveRight(nextIsWord: number): void {
    if (this.#awaitRight === 0) return;
    const candidates = this.#candidates;
    let kept = 0;
    for (const candidate of candidates) {
      if (candidate.right === RIGHT_OPEN && nextIsWord === 1) continue;
      candidate.right = RIGHT_DECIDED;
      candidates[kept++] = candidate;
    }
    candidates.length = kept;
    this.#awaitRight = 0;
  }

  /**
   * An allow phrase just ended at the current character; every candidate it protects that lies
   * wholly inside it (all waiting candidates end at or before here) is a false positive.
   */
  #dropCovered(allowFrom: number, targets: ReadonlySet<number> | true | undefined): void {
    this.#removeCandidates((candidate) => candidate.sigStart >= allowFrom && (targets === true || targets?.has(candidate.variant) === true));
    this.#awaitRight = this.#candidates.reduce((n, candidate) => n + (candidate.right === RIGHT_DECIDED ? 0 : 1), 0);
  }

  #removeCandidates(drop: (candidate: Candidate) => boolean): void {
    const candidates = this.#candidates;
    let kept = 0;
    for (const candidate of candidates) if (!drop(candidate)) candidates[kept++] = candidate;
    candidates.length = kept;
  }

  /** Reports every candidate that no live allow-list prefix can still cover. */
  #settleCandidates(): void {
    const allowDepth = this.#c.automaton.allowLive[this.#node] as number;
    const candidates = this.#candidates;
    let kept = 0;
    for (const candidate of candidates) {
      if (candidate.right !== RIGHT_DECIDED || allowDepth >= this.#cur - candidate.sigStart + 1) candidates[kept++] = candidate;
      else this.hits.push({ ref: candidate.variant * 2, start: candidate.start, end: candidate.end });
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
