/**
 * @module gateway/guard
 * The content guard the gateway runs on what comes in and goes out (AI Measures Art. 4 and
 * 14; Deep Synthesis Provisions Art. 10: review inputs and outputs). It is a thin layer over
 * the safety engine: `SafetyGuard` decides whole texts (keywords and personal data, each hit
 * given its action by the policy, minors' rules included); on a stream it is a loop around the
 * engine's `IncrementalScanner`, each hit decided by the same policy, so text leaves only once
 * no keyword can still start in it.
 */
import { decideAction, type IncrementalScanner, type KeywordMatch, type SafetyGuard, type SafetyPolicy } from '../safety/index.js';
import type { Caller } from './identity.js';

/** What the guard does with a finding, weakest first (the safety engine's actions). */
export type GuardAction = 'allow' | 'review' | 'redact' | 'block';
export type Direction = 'input' | 'output';

const STRENGTH: Record<GuardAction, number> = { allow: 0, review: 1, redact: 2, block: 3 };

export interface GuardFinding {
  /** GB/T 45654 risk code; personal data counts as A4.6 (personal information). */
  risk: string;
  action: GuardAction;
  /** The library entry that matched, or the personal-data type. */
  keyword: string;
  source: 'keyword' | 'pii';
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

/** The character redacted keyword hits show in a stream (as the safety engine masks whole texts). */
const MASK = '*';

export function strongest(findings: readonly GuardFinding[]): GuardAction {
  let action: GuardAction = 'allow';
  for (const f of findings) if (STRENGTH[f.action] > STRENGTH[action]) action = f.action;
  return action;
}

/** Minors get the policy's `minor` user class (AI Measures Art. 10). */
function userClassOf(caller: Caller): string | undefined {
  return caller.user.minor ? 'minor' : undefined;
}

/**
 * The guard over the safety engine.
 *
 * @example
 * const guard = new PolicyGuard(new SafetyGuard({ library: compileLibrary(library), policy }), policy);
 * guard.check(prompt, 'input', caller).action; // 'block'
 */
export class PolicyGuard implements ContentGuard {
  readonly #safety: SafetyGuard;
  readonly #policy: SafetyPolicy;

  constructor(safety: SafetyGuard, policy: SafetyPolicy) {
    this.#safety = safety;
    this.#policy = policy;
  }

  check(text: string, direction: Direction, caller: Caller): TextVerdict {
    const userClass = userClassOf(caller);
    const decision = this.#safety.checkLocal(text, { direction, ...(userClass ? { userClass } : {}) });
    const findings: GuardFinding[] = [
      ...decision.matches.map((m): GuardFinding => ({ risk: m.risk, action: m.action, keyword: m.keyword, source: 'keyword', start: m.start, end: m.end })),
      ...decision.pii.map((p): GuardFinding => ({ risk: 'A4.6', action: p.action, keyword: p.type, source: 'pii', start: p.start, end: p.end })),
    ];
    return { action: decision.verdict, findings, text: decision.verdict === 'redact' ? (decision.redacted ?? text) : text };
  }

  stream(direction: Direction, caller: Caller): StreamGuard {
    const scanner = this.#safety.keywords?.stream();
    if (!scanner) return passThrough;
    const userClass = userClassOf(caller);
    return new KeywordStreamGuard(scanner, (m) => ({
      risk: m.risk,
      action: decideAction(this.#policy, { risk: m.risk, severity: m.severity }, direction, userClass).action,
      keyword: m.keyword,
      source: 'keyword',
      start: m.start,
      end: m.end,
    }));
  }
}

/** Without a keyword library nothing is held back. */
const passThrough: StreamGuard = {
  feed: (chunk) => ({ text: chunk, findings: [], blocked: false }),
  end: () => ({ text: '', findings: [], blocked: false }),
};

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
