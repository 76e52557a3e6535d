/**
 * @module safety/regex-entries
 * Keyword entries whose mode is `regex`. A regex sees one line of normalised text at a time
 * (folded and with noise removed: lower case, simplified characters, no spaces or
 * punctuation), so `\d{3,}元` catches `1 0 0 0 元` as well.
 *
 * Patterns come from libraries that operators edit and that reload live into every replica, so
 * they run on RE2 (the re2js port): matching takes time linear in the text whatever the
 * pattern, and `(a|aa)+b` cannot stall a replica. Constructs RE2 has no linear-time match for
 * (backreferences, lookahead, lookbehind, possessive repeats) are refused when the library is
 * loaded, naming the entry.
 *
 * Lines longer than `REGEX_LINE_LIMIT` significant characters are evaluated in windows of that
 * size that overlap by `REGEX_WINDOW_OVERLAP`, so a match of up to that length is found whole
 * wherever the window boundary falls; a hit is reported once. Each scan has a time budget for
 * its regex entries (`REGEX_SCAN_BUDGET_MS`); a scan that exhausts it fails with
 * `RegexBudgetError` rather than answering "no hit" for text it did not finish reading.
 */
import { RE2JS } from 're2js';
import { HeguiError } from '../errors.js';
import { KeywordLibraryError } from './errors.js';
import type { KeywordEntry } from './library.js';

/** Significant characters of one line kept for regex entries before they are evaluated. */
export const REGEX_LINE_LIMIT = 4096;

/** Significant characters two consecutive windows of a long line share. */
export const REGEX_WINDOW_OVERLAP = 256;

/** Milliseconds of regex matching one scan may spend (whole text or stream). */
export const REGEX_SCAN_BUDGET_MS = 1000;

export interface RegexEntry {
  /** Index of the entry in the library. */
  entry: number;
  pattern: RE2JS;
}

/** A regex hit, in indexes of the line's folded text. */
export interface RegexHit {
  entry: number;
  start: number;
  end: number;
}

/** A scan spent its regex time budget: its text was not fully checked, so it has no verdict. */
export class RegexBudgetError extends HeguiError {
  constructor(budgetMs: number) {
    super('E_SAFETY_REGEX_BUDGET', `the library's regex entries took more than ${budgetMs} ms on this text; it was not fully checked (fewer or simpler regex entries, or shorter texts)`);
  }
}

/**
 * The regex entries among `entries`, compiled; throws `KeywordLibraryError` naming the first
 * unusable one. `entries[k]` is the library's entry `indexes[k]` when `indexes` is given (a
 * few entries picked out of a large library), else entry `k`.
 */
export function compileRegexEntries(entries: readonly KeywordEntry[], indexes?: readonly number[]): RegexEntry[] {
  const out: RegexEntry[] = [];
  entries.forEach((entry, k) => {
    const i = indexes === undefined ? k : (indexes[k] as number);
    if (entry.mode !== 'regex') return;
    let pattern: RE2JS;
    try {
      pattern = RE2JS.compile(RE2JS.translateRegExp(entry.keyword));
    } catch (error) {
      const why = (error as Error).message.replace(/^error parsing regexp: /, '');
      const linear = /\\[1-9]|\(\?[=!<]|[*+?}]\+/.test(entry.keyword)
        ? '; backreferences, lookahead, lookbehind and possessive repeats have no linear-time match and are not supported (regex entries run on RE2)'
        : '';
      throw new KeywordLibraryError(`entry ${i + 1}: "${entry.keyword}" is not a usable regular expression (${why})${linear}`, { cause: error });
    }
    if (pattern.matcher('').find()) {
      throw new KeywordLibraryError(`entry ${i + 1}: the regular expression "${entry.keyword}" matches empty text; make it require at least one character`);
    }
    out.push({ entry: i, pattern });
  });
  return out;
}

/** Every non-overlapping, non-empty hit of each regex in `line`. */
export function findRegexHits(regexes: readonly RegexEntry[], line: string, budget?: RegexBudget): RegexHit[] {
  const hits: RegexHit[] = [];
  for (const { entry, pattern } of regexes) {
    const started = budget?.start();
    const matcher = pattern.matcher(line);
    while (matcher.find()) {
      const start = matcher.start();
      const end = matcher.end();
      if (end > start) hits.push({ entry, start, end });
    }
    if (started !== undefined) budget?.spend(started);
  }
  return hits;
}

/** The regex time one scan may still spend; `clock` is in milliseconds (tests pass their own). */
export class RegexBudget {
  readonly #limitMs: number;
  readonly #clock: () => number;
  #spentMs = 0;

  constructor(limitMs = REGEX_SCAN_BUDGET_MS, clock: () => number = () => performance.now()) {
    this.#limitMs = limitMs;
    this.#clock = clock;
  }

  start(): number {
    return this.#clock();
  }

  /** @throws RegexBudgetError once the time since `started`, added up over the scan, passes the limit. */
  spend(started: number): void {
    this.#spentMs += this.#clock() - started;
    if (this.#spentMs > this.#limitMs) throw new RegexBudgetError(this.#limitMs);
  }
}

/** A regex hit in a window, in indexes of the window's code points: `[first, last]`. */
export interface WindowHit {
  entry: number;
  first: number;
  last: number;
}

/**
 * Evaluates the windows of one long line in turn. Each window but the last keeps its last
 * `REGEX_WINDOW_OVERLAP` code points for the next one: a hit starting there is left to the next
 * window, which sees it from its start, and a hit the next window finds inside one already
 * reported (of the same entry) is not reported again.
 */
export class RegexWindows {
  readonly #regexes: readonly RegexEntry[];
  readonly #budget: RegexBudget;
  /** Per entry: code points at the start of the next window covered by hits already reported. */
  readonly #covered = new Map<number, number>();

  constructor(regexes: readonly RegexEntry[], budget: RegexBudget = new RegexBudget()) {
    this.#regexes = regexes;
    this.#budget = budget;
  }

  /**
   * The hits of `points` (one window of folded code points) to report now. With `final` the
   * line ends here; otherwise the caller keeps the last `REGEX_WINDOW_OVERLAP` code points as
   * the start of the next window.
   */
  take(points: readonly number[], final: boolean): WindowHit[] {
    const keepFrom = final ? Infinity : Math.max(0, points.length - REGEX_WINDOW_OVERLAP);
    const units: number[] = [];
    let text = '';
    points.forEach((cp, index) => {
      const char = String.fromCodePoint(cp);
      text += char;
      for (let k = 0; k < char.length; k++) units.push(index);
    });
    const out: WindowHit[] = [];
    const reportedEnd = new Map<number, number>();
    for (const hit of findRegexHits(this.#regexes, text, this.#budget)) {
      const first = units[hit.start] as number;
      const last = units[hit.end - 1] as number;
      if (first < (this.#covered.get(hit.entry) ?? 0) || first >= keepFrom) continue;
      out.push({ entry: hit.entry, first, last });
      reportedEnd.set(hit.entry, Math.max(reportedEnd.get(hit.entry) ?? 0, last + 1));
    }
    this.#covered.clear();
    if (!final) for (const [entry, end] of reportedEnd) if (end > keepFrom) this.#covered.set(entry, end - keepFrom);
    return out;
  }
}
