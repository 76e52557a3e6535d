/**
 * @module safety/policy
 * What to do with each kind of hit, per risk and direction: allow, review (let through and
 * flag for a person), redact, or block with a safe reply. GB/T 45654 asks for input and output
 * controls for every risk; AI Measures Art. 10 asks for protection of minors, so user classes
 * can carry their own rules, which can only make a decision stricter, never looser.
 */
import type { Confidence } from './confidence.js';
import { confidences } from './confidence.js';
import { SafetyPolicyError } from './errors.js';
import type { Severity } from './library.js';
import { severities } from './library.js';
import { DEFAULT_SAFE_REPLY } from './messages.js';
import type { PiiType } from './pii.js';
import { piiTypes } from './pii.js';
import type { Bilingual, RiskCode } from './taxonomy.js';
import { isRiskCode, riskCategoryCodes } from './taxonomy.js';

export type Direction = 'input' | 'output';

/** Actions from loosest to strictest. */
export const actions = ['allow', 'review', 'redact', 'block'] as const;
export type Action = (typeof actions)[number];

export interface PolicyRule {
  /**
   * What the rule covers: a risk (`A1.6`), a category (`A1`), a personal-data type
   * (`pii:mobile`), all personal data (`pii`), or every risk (`*`; personal data excluded).
   */
  target: string;
  /** Omitted: both directions. */
  direction?: Direction;
  action: Action;
  /** Only hits of at least this severity; omitted: any. */
  minSeverity?: Severity;
  /**
   * Only keyword hits of at least this confidence (see `confidenceOf`); omitted: any. With a
   * `block` rule at `minConfidence: 'medium'` beside a `review` rule for the same target, a hit
   * found only through several transforms goes to a person instead of blocking the user.
   * Personal data and classifier labels count as high confidence.
   */
  minConfidence?: Confidence;
  /** The reply for a block under this rule; the policy's default otherwise. */
  safeReply?: Bilingual;
}

export interface SafetyPolicy {
  rules: PolicyRule[];
  /** Extra rules per user class (e.g. `minor`), applied on top: the stricter action wins. */
  userClasses: Record<string, PolicyRule[]>;
  safeReply: Bilingual;
}

/** What a policy is asked about. */
export interface PolicySubject {
  risk?: RiskCode;
  pii?: PiiType;
  severity: Severity;
  /** For keyword hits; omitted: high. */
  confidence?: Confidence;
}

export interface PolicyOutcome {
  action: Action;
  /** The rule that decided, or undefined when no rule matched (then: review). */
  rule?: PolicyRule;
}

/**
 * A starting policy: prohibited content (A.1) blocked both ways; discrimination blocked in
 * output and reviewed in input; commercial and model-quality risks reviewed; others' rights
 * redacted in output; personal data redacted in output. Minors: violence, obscenity and harm
 * to health blocked both ways, personal data redacted in input too.
 */
export const defaultPolicy: Readonly<SafetyPolicy> = Object.freeze({
  rules: [
    { target: '*', action: 'review' },
    { target: 'A1', action: 'block' },
    { target: 'A2', direction: 'input', action: 'review' },
    { target: 'A2', direction: 'output', action: 'block' },
    { target: 'A4', direction: 'output', action: 'redact' },
    { target: 'pii', direction: 'input', action: 'allow' },
    { target: 'pii', direction: 'output', action: 'redact' },
  ],
  userClasses: {
    minor: [
      { target: 'A1.6', action: 'block' },
      { target: 'A4.1', action: 'block' },
      { target: 'A2', action: 'block' },
      { target: 'pii', action: 'redact' },
    ],
  },
  safeReply: DEFAULT_SAFE_REPLY,
}) as SafetyPolicy;

/** Checks a policy written by hand (e.g. in a config file); throws `SafetyPolicyError`. */
export function validatePolicy(policy: SafetyPolicy): SafetyPolicy {
  const check = (rule: PolicyRule, where: string): void => {
    if (!isTarget(rule.target)) {
      throw new SafetyPolicyError(`${where}: unknown target "${rule.target}" (use a risk like A1.6, a category like A1, pii, pii:<type> or *)`);
    }
    if (!(actions as readonly string[]).includes(rule.action)) {
      throw new SafetyPolicyError(`${where}: unknown action "${rule.action}" (use ${actions.join(', ')})`);
    }
    if (rule.direction !== undefined && rule.direction !== 'input' && rule.direction !== 'output') {
      throw new SafetyPolicyError(`${where}: direction must be input or output`);
    }
    if (rule.minSeverity !== undefined && !(severities as readonly string[]).includes(rule.minSeverity)) {
      throw new SafetyPolicyError(`${where}: unknown severity "${rule.minSeverity}" (use ${severities.join(', ')})`);
    }
    if (rule.minConfidence !== undefined && !(confidences as readonly string[]).includes(rule.minConfidence)) {
      throw new SafetyPolicyError(`${where}: unknown confidence "${rule.minConfidence}" (use ${confidences.join(', ')})`);
    }
  };
  policy.rules.forEach((rule, i) => check(rule, `rule ${i + 1}`));
  for (const [userClass, rules] of Object.entries(policy.userClasses)) rules.forEach((rule, i) => check(rule, `user class "${userClass}" rule ${i + 1}`));
  return policy;
}

function isTarget(target: string): boolean {
  if (target === '*' || target === 'pii' || isRiskCode(target)) return true;
  if ((riskCategoryCodes as readonly string[]).includes(target)) return true;
  return target.startsWith('pii:') && (piiTypes as readonly string[]).includes(target.slice(4));
}

/** How closely a rule's target fits a subject: 0 not at all, 3 exactly. */
function specificity(target: string, subject: PolicySubject): number {
  if (subject.pii !== undefined) {
    if (target === `pii:${subject.pii}`) return 3;
    return target === 'pii' ? 2 : 0;
  }
  if (subject.risk === undefined) return 0;
  if (target === subject.risk) return 3;
  if (target === subject.risk.slice(0, 2)) return 2;
  return target === '*' ? 1 : 0;
}

export function stricter(a: Action, b: Action): Action {
  return actions.indexOf(a) >= actions.indexOf(b) ? a : b;
}

function pick(rules: readonly PolicyRule[], subject: PolicySubject, direction: Direction): PolicyOutcome | undefined {
  let best: PolicyRule | undefined;
  let bestFit = 0;
  for (const rule of rules) {
    if (rule.direction !== undefined && rule.direction !== direction) continue;
    if (rule.minSeverity !== undefined && severities.indexOf(subject.severity) < severities.indexOf(rule.minSeverity)) continue;
    if (rule.minConfidence !== undefined && confidences.indexOf(subject.confidence ?? 'high') < confidences.indexOf(rule.minConfidence)) continue;
    const fit = specificity(rule.target, subject);
    if (fit === 0) continue;
    if (fit > bestFit || (fit === bestFit && best !== undefined && stricter(rule.action, best.action) === rule.action)) {
      best = rule;
      bestFit = fit;
    }
  }
  return best === undefined ? undefined : { action: best.action, rule: best };
}

/**
 * The action for one hit: the most specific matching rule (an exact risk beats its category,
 * which beats `*`; ties go to the stricter rule), then the user class's rules, which can only
 * tighten it. With no matching rule the hit is sent to review, never silently allowed.
 *
 * @example
 * decideAction(defaultPolicy, { risk: 'A1.6', severity: 'high' }, 'output', 'minor'); // { action: 'block', ... }
 */
export function decideAction(policy: SafetyPolicy, subject: PolicySubject, direction: Direction, userClass?: string): PolicyOutcome {
  const base = pick(policy.rules, subject, direction) ?? { action: 'review' as const };
  const classRules = userClass === undefined ? undefined : policy.userClasses[userClass];
  if (classRules === undefined) return base;
  const extra = pick(classRules, subject, direction);
  return extra !== undefined && stricter(extra.action, base.action) === extra.action && extra.action !== base.action ? extra : base;
}
