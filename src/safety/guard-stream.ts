/**
 * @module safety/guard-stream
 * The guard over a stream (a model's output as it is generated): keyword hits and personal
 * data found incrementally, each given its action by the policy, and text released only when
 * neither detector can still change it. Redacted hits are masked in the released text; the
 * first blocking hit stops the stream, and nothing from its first character on is released
 * (AI Measures Art. 14: stop generating and transmitting illegal content).
 */
import type { Action } from './policy.js';
import { stricter } from './policy.js';
import type { DecidedKeyword, DecidedPii } from './guard.js';
import type { IncrementalPiiDetector } from './pii-stream.js';
import type { KeywordMatch, IncrementalScanner } from './scanner.js';
import type { PiiMatch, RedactionStyle } from './pii.js';
import { maskPii } from './pii.js';

export interface GuardStreamStep {
  /** Text to send now: final, with redacted hits masked. */
  text: string;
  /** Offset of `text` in the whole stream. */
  from: number;
  matches: DecidedKeyword[];
  pii: DecidedPii[];
  /** The strictest action so far. */
  verdict: Action;
  /** True once a hit was blocked: nothing more will be released. */
  blocked: boolean;
  /** On the step that blocks: the safe reply to send instead. */
  reply?: string;
}

export interface GuardStreamParts {
  keywords: IncrementalScanner | undefined;
  pii: IncrementalPiiDetector | undefined;
  decideKeyword(match: KeywordMatch): DecidedKeyword;
  decidePii(item: PiiMatch): DecidedPii;
  piiRedaction: RedactionStyle;
  reply: string;
}

interface Mask {
  start: number;
  end: number;
  /** Replacement, as long as the span. */
  text: string;
}

export class GuardStream {
  readonly #parts: GuardStreamParts;
  /** Text fed and not yet released, starting at `#from`. */
  #pending = '';
  #from = 0;
  #masks: Mask[] = [];
  #verdict: Action = 'allow';
  #blocked = false;

  constructor(parts: GuardStreamParts) {
    this.#parts = parts;
  }

  feed(chunk: string): GuardStreamStep {
    if (this.#blocked) return this.#empty();
    this.#pending += chunk;
    const k = this.#parts.keywords?.feed(chunk);
    const p = this.#parts.pii?.feed(chunk);
    return this.#step(k?.matches ?? [], p?.matches ?? [], Math.min(this.#parts.keywords?.safeOffset ?? Infinity, this.#parts.pii?.safeOffset ?? Infinity, this.#from + this.#pending.length));
  }

  end(): GuardStreamStep {
    if (this.#blocked) return this.#empty();
    const k = this.#parts.keywords?.end();
    const p = this.#parts.pii?.end();
    return this.#step(k?.matches ?? [], p?.matches ?? [], this.#from + this.#pending.length);
  }

  #step(keywordHits: readonly KeywordMatch[], piiHits: readonly PiiMatch[], safe: number): GuardStreamStep {
    // The usual step of a stream, without a hit: the safe text is released, nothing to decide.
    if (keywordHits.length === 0 && piiHits.length === 0) return this.#release(safe, [], [], false);
    const matches = keywordHits.map((m) => this.#parts.decideKeyword(m));
    const pii = piiHits.map((m) => this.#parts.decidePii(m));
    for (const hit of [...matches, ...pii]) this.#verdict = stricter(this.#verdict, hit.action);
    for (const m of matches) if (m.action === 'redact') this.#masks.push({ start: m.start, end: m.end, text: '*'.repeat(m.end - m.start) });
    for (const item of pii) if (item.action === 'redact') this.#masks.push({ start: item.start, end: item.end, text: maskPii(item, this.#parts.piiRedaction) });
    const blocking = [...matches, ...pii].filter((hit) => hit.action === 'block');
    let upTo = safe;
    if (blocking.length > 0) {
      this.#blocked = true;
      // Only text that is final on both sides and lies before the first blocked hit leaves.
      upTo = Math.max(this.#from, Math.min(safe, ...blocking.map((hit) => hit.start)));
    }
    return this.#release(upTo, matches, pii, blocking.length > 0);
  }

  /** Releases the pending text up to offset `upTo`, masked, as the step that found `matches` and `pii`. */
  #release(upTo: number, matches: DecidedKeyword[], pii: DecidedPii[], blocks: boolean): GuardStreamStep {
    const from = this.#from;
    const text = this.#masked(this.#pending.slice(0, upTo - from), from);
    this.#pending = this.#pending.slice(upTo - from);
    this.#from = upTo;
    if (this.#masks.length > 0) this.#masks = this.#masks.filter((mask) => mask.end > upTo);
    const step: GuardStreamStep = { text, from, matches, pii, verdict: this.#verdict, blocked: this.#blocked };
    if (blocks) step.reply = this.#parts.reply;
    return step;
  }

  /** `text` (starting at `from`) with every mask that overlaps it applied. */
  #masked(text: string, from: number): string {
    let out = text;
    for (const mask of this.#masks) {
      const start = Math.max(mask.start, from);
      const end = Math.min(mask.end, from + text.length);
      if (start >= end) continue;
      out = out.slice(0, start - from) + mask.text.slice(start - mask.start, end - mask.start) + out.slice(end - from);
    }
    return out;
  }

  #empty(): GuardStreamStep {
    return { text: '', from: this.#from, matches: [], pii: [], verdict: this.#verdict, blocked: true };
  }
}
