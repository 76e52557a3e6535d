/**
 * @module safety/pii-stream
 * Personal-data detection over a stream, with the same contract as the keyword scanner's
 * incremental API: `feed` returns the items that became final and the text that is safe to
 * release. What is held back is the trailing run of characters an identifier can be made of
 * (digits, Latin letters, `+ - . @ : _ %`, spaces and plate separators, plus a province
 * character before it), at most `PII_HOLD_LIMIT` units: anything before that run cannot be
 * part of an item that is still growing. A space belongs to the run only where an identifier
 * can hold one: after a digit (`138 0013 8000`, `+86 138...`, card groups) or after a plate's
 * province and letter (`京A 12345`). So Latin prose and code are held a word at a time, not
 * for a CJK-sized window: the run stops at the first space after a letter.
 */
import { ScannerStateError } from './errors.js';
import type { PiiMatch, PiiOptions } from './pii.js';
import { detectPii } from './pii.js';

/** The longest run held back; an e-mail address longer than this may be missed in a stream. */
export const PII_HOLD_LIMIT = 128;

const IDENTIFIER_CHAR = /[0-9A-Za-z\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A+\-.@:_% \u3000·•・]/u;
const PROVINCE_CHAR = /[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]/u;
const SPACE_CHAR = /[ \u3000]/u;
const DIGIT_CHAR = /[0-9\uFF10-\uFF19]/u;
/** A plate's issuing-office letter (GA 36-2018: no I or O), ASCII or full-width. */
const PLATE_LETTER_CHAR = /[A-HJ-NP-Z\uFF21-\uFF28\uFF2A-\uFF2E\uFF30-\uFF3A]/u;

/** True when the space at `at` in `text` can sit inside an identifier: after a digit, or after a plate's province and letter. */
function spaceJoins(text: string, at: number): boolean {
  const before = text[at - 1];
  if (before === undefined) return false;
  if (DIGIT_CHAR.test(before)) return true;
  const province = text[at - 2];
  return PLATE_LETTER_CHAR.test(before) && province !== undefined && PROVINCE_CHAR.test(province);
}
/** Characters of released text kept as left context, for the "not inside a longer run" checks. */
const CONTEXT = 2;

export interface PiiStep {
  matches: PiiMatch[];
  released: string;
  releasedFrom: number;
}

/**
 * @example
 * const pii = new IncrementalPiiDetector();
 * for (const delta of deltas) send(redactStep(pii.feed(delta)));
 */
export class IncrementalPiiDetector {
  readonly #options: PiiOptions;
  #held = '';
  #heldFrom = 0;
  #context = '';
  #ended = false;

  constructor(options: PiiOptions = {}) {
    this.#options = options;
  }

  /** Offset before which every item has been reported. */
  get safeOffset(): number {
    return this.#heldFrom;
  }

  feed(chunk: string): PiiStep {
    if (this.#ended) throw new ScannerStateError('feed() called after end(); create a new detector for a new text');
    this.#held += chunk;
    let hold = this.#held.length;
    const floor = Math.max(0, this.#held.length - PII_HOLD_LIMIT);
    while (hold > floor) {
      const ch = this.#held[hold - 1] as string;
      if (!IDENTIFIER_CHAR.test(ch) || (SPACE_CHAR.test(ch) && !spaceJoins(this.#held, hold - 1))) break;
      hold--;
    }
    if (hold > 0 && PROVINCE_CHAR.test(this.#held[hold - 1] as string)) hold--;
    // A high surrogate waits for its pair.
    if (hold === this.#held.length && hold > 0 && /[\uD800-\uDBFF]/.test(this.#held[hold - 1] as string)) hold--;
    return this.#release(hold);
  }

  end(): PiiStep {
    if (this.#ended) throw new ScannerStateError('end() called twice');
    this.#ended = true;
    return this.#release(this.#held.length);
  }

  #release(upTo: number): PiiStep {
    const region = this.#held.slice(0, upTo);
    const lookahead = this.#held.slice(upTo, upTo + 1);
    const text = this.#context + region + lookahead;
    const shift = this.#heldFrom - this.#context.length;
    const found = detectPii(text, this.#options);
    const matches = found.length === 0 ? found : found.filter((m) => m.start >= this.#context.length && m.end <= this.#context.length + region.length).map((m) => ({ ...m, start: m.start + shift, end: m.end + shift }));
    const releasedFrom = this.#heldFrom;
    this.#context = (this.#context + region).slice(-CONTEXT);
    this.#held = this.#held.slice(upTo);
    this.#heldFrom += upTo;
    return { matches, released: region, releasedFrom };
  }
}
