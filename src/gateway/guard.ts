/**
 * @module gateway/guard
 * The content guard the gateway runs on what comes in and goes out (AI Measures Art. 4 and
 * 14; Deep Synthesis Provisions Art. 10: review inputs and outputs). It is a thin layer over
 * the safety engine: `SafetyGuard` decides whole texts (keywords and personal data, each hit
 * given its action by the policy, minors' rules included) and streams (`SafetyGuard.stream()`:
 * keyword hits and personal data found incrementally, so text leaves only once neither a
 * keyword nor a personal-data item can still start in it, redacted per policy).
 */
import type { Confidence, DecidedKeyword, DecidedPii, GuardStream, SafetyGuard } from '../safety/index.js';
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
  source: 'keyword' | 'pii' | 'classifier';
  /** Offsets into the checked text (for a stream: into everything fed so far). */
  start: number;
  end: number;
  /** Keyword hits: how sure the match is, and the transforms it needed (`noise`, `traditional`, ...). */
  confidence?: Confidence;
  transforms?: string[];
  /** Classifier labels: the model's score in [0, 1], where it gives one. */
  score?: number;
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
  /** Text that may go to the client now, redacted. On a block: only the text before the blocked hit. */
  text: string;
  /** Shared when empty: read only. */
  findings: readonly GuardFinding[];
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

export function strongest(findings: readonly GuardFinding[]): GuardAction {
  let action: GuardAction = 'allow';
  for (const f of findings) if (STRENGTH[f.action] > STRENGTH[action]) action = f.action;
  return action;
}

/** Minors get the policy's `minor` user class (AI Measures Art. 10), by the stored flag or the token's claim. */
function checkOptions(direction: Direction, caller: Caller): { direction: Direction; userClass?: string } {
  return caller.minor ? { direction, userClass: 'minor' } : { direction };
}

const keywordFinding = (m: DecidedKeyword): GuardFinding => ({ risk: m.risk, action: m.action, keyword: m.keyword, source: 'keyword', start: m.start, end: m.end, confidence: m.confidence, transforms: m.transforms });
const piiFinding = (p: DecidedPii): GuardFinding => ({ risk: 'A4.6', action: p.action, keyword: p.type, source: 'pii', start: p.start, end: p.end });

/** The findings of a stream step without any (most steps): one list for all, which nobody may change. */
const NO_FINDINGS: readonly GuardFinding[] = Object.freeze([]);

/** The findings of one stream step (most steps of a stream have none). */
function streamFindings(step: { matches: readonly DecidedKeyword[]; pii: readonly DecidedPii[] }): readonly GuardFinding[] {
  return step.matches.length === 0 && step.pii.length === 0 ? NO_FINDINGS : [...step.matches.map(keywordFinding), ...step.pii.map(piiFinding)];
}

/**
 * The guard over the safety engine.
 *
 * @example
 * const guard = new PolicyGuard(new SafetyGuard({ library: compileLibrary(library), policy }));
 * guard.check(prompt, 'input', caller).action; // 'block'
 */
export class PolicyGuard implements ContentGuard {
  readonly #safety: SafetyGuard;

  constructor(safety: SafetyGuard) {
    this.#safety = safety;
  }

  check(text: string, direction: Direction, caller: Caller): TextVerdict {
    const decision = this.#safety.checkLocal(text, checkOptions(direction, caller));
    const findings = [...decision.matches.map(keywordFinding), ...decision.pii.map(piiFinding)];
    return { action: decision.verdict, findings, text: decision.verdict === 'redact' ? (decision.redacted ?? text) : text };
  }

  stream(direction: Direction, caller: Caller): StreamGuard {
    return new EngineStreamGuard(this.#safety.stream(checkOptions(direction, caller)));
  }
}

class EngineStreamGuard implements StreamGuard {
  readonly #stream: GuardStream;

  constructor(stream: GuardStream) {
    this.#stream = stream;
  }

  feed(chunk: string): StreamStep {
    const step = this.#stream.feed(chunk);
    return { text: step.text, findings: streamFindings(step), blocked: step.blocked };
  }

  end(): StreamStep {
    const step = this.#stream.end();
    return { text: step.text, findings: streamFindings(step), blocked: step.blocked };
  }
}
