/**
 * @module gateway/guard
 * The content guard the gateway runs on what comes in and goes out (AI Measures Art. 4 and
 * 14; Deep Synthesis Provisions Art. 10: review inputs and outputs). It is a thin layer over
 * the safety engine: the keyword scanner finds the hits, and a decision function turns each hit
 * into an action for its direction and caller. On a stream it is a loop around the engine's
 * `IncrementalScanner`, so text leaves only once no keyword can still start in it.
 */
import { createLibrary } from '../safety/library.js';
import { compileLibrary } from '../safety/compile.js';
import { type IncrementalScanner, KeywordScanner, type KeywordMatch } from '../safety/scanner.js';
import type { Caller } from './identity.js';

/** What the guard does with a finding, weakest first. */
export type GuardAction = 'allow' | 'review' | 'redact' | 'block';
export type Direction = 'input' | 'output';

const STRENGTH: Record<GuardAction, number> = { allow: 0, review: 1, redact: 2, block: 3 };

export interface GuardFinding {
  risk: string;
  action: GuardAction;
  /** The library entry that matched. */
  keyword: string;
  source: 'keyword';
  /** Offsets into the checked text (for a stream: into everything fed so far). */
  start: number;
  end: number;
}

export interface TextVerdict {
  /** The strongest action among the findings (`allow` without findings). */
  action: GuardAction;
  findings: GuardFinding[];
  /** The text to forward: redacted where a finding asked for it. */
  text: string;
}

/** What one step of a stream check released. */
export interface StreamStep {
  /** Text that may go to the client now. On a block: only the text before the blocked hit. */
  text: string;
  findings: GuardFinding[];
  blocked: boolean;
}

export interface StreamGuard {
  feed(chunk: string): StreamStep;
  /** The stream ended: every held character is decided. */
  end(): StreamStep;
}

export interface ContentGuard {
  check(text: string, direction: Direction, caller: Caller): TextVerdict;
  stream(direction: Direction, caller: Caller): StreamGuard;
}

/** Chooses the action for a keyword hit; the policy layer of the safety engine plugs in here. */
export type DecideAction = (match: KeywordMatch, direction: Direction, caller: Caller) => GuardAction;

/** Without a configured policy every keyword hit is blocked, in both directions. */
export const blockEveryHit: DecideAction = () => 'block';

/** The character redacted text shows instead of a hit. */
const MASK = '*';

export function strongest(findings: readonly GuardFinding[]): GuardAction {
  let action: GuardAction = 'allow';
  for (const f of findings) if (STRENGTH[f.action] > STRENGTH[action]) action = f.action;
  return action;
}

/**
 * The guard over a keyword library.
 *
 * @example
 * const guard = new KeywordGuard(new KeywordScanner(compileLibrary(library)));
 * guard.check(prompt, 'input', caller).action; // 'block'
 */
export class KeywordGuard implements ContentGuard {
  readonly #scanner: KeywordScanner;
  readonly #decide: DecideAction;

  constructor(scanner: KeywordScanner, decide: DecideAction = blockEveryHit) {
    this.#scanner = scanner;
    this.#decide = decide;
  }

  check(text: string, direction: Direction, caller: Caller): TextVerdict {
    const findings = this.#scanner.scan(text).map((m) => this.#finding(m, direction, caller));
    const action = strongest(findings);
    return { action, findings, text: action === 'redact' ? mask(text, 0, findings) : text };
  }

  stream(direction: Direction, caller: Caller): StreamGuard {
    return new KeywordStreamGuard(this.#scanner.stream(), (m) => this.#finding(m, direction, caller));
  }

  #finding(match: KeywordMatch, direction: Direction, caller: Caller): GuardFinding {
    return { risk: match.risk, action: this.#decide(match, direction, caller), keyword: match.keyword, source: 'keyword', start: match.start, end: match.end };
  }
}

class KeywordStreamGuard implements StreamGuard {
  readonly #scanner: IncrementalScanner;
  readonly #finding: (m: KeywordMatch) => GuardFinding;

  constructor(scanner: IncrementalScanner, finding: (m: KeywordMatch) => GuardFinding) {
    this.#scanner = scanner;
    this.#finding = finding;
  }

  feed(chunk: string): StreamStep {
    const step = this.#scanner.feed(chunk);
    return this.#decide(step.released, step.releasedFrom, step.matches);
  }

  end(): StreamStep {
    const step = this.#scanner.end();
    return this.#decide(step.released, step.releasedFrom, step.matches);
  }

  #decide(released: string, from: number, matches: readonly KeywordMatch[]): StreamStep {
    if (matches.length === 0) return { text: released, findings: [], blocked: false };
    const findings = matches.map(this.#finding);
    const blocking = findings.filter((f) => f.action === 'block');
    if (blocking.length > 0) {
      // Nothing from the first blocked hit on leaves: not even its leading characters.
      const cut = Math.max(0, Math.min(...blocking.map((f) => f.start)) - from);
      return { text: mask(released.slice(0, cut), from, findings), findings, blocked: true };
    }
    return { text: mask(released, from, findings), findings, blocked: false };
  }
}

/** `text` (which starts at offset `from`) with every redacted finding's characters masked. */
function mask(text: string, from: number, findings: readonly GuardFinding[]): string {
  let out = text;
  for (const f of findings) {
    if (f.action !== 'redact') continue;
    const start = Math.max(0, f.start - from);
    const end = Math.min(out.length, f.end - from);
    if (end > start) out = out.slice(0, start) + MASK.repeat(end - start) + out.slice(end);
  }
  return out;
}

/** A guard that finds nothing: used when no keyword library is configured. */
export function emptyGuard(): KeywordGuard {
  return new KeywordGuard(new KeywordScanner(compileLibrary(createLibrary('empty'))));
}

