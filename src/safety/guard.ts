/**
 * @module safety/guard
 * The safety decision for one text: keyword hits, personal data and classifier labels, each
 * given an action by the policy, combined into one verdict (the strictest action). This is
 * what a gateway calls on every input and output (AI Measures Art. 14; GB/T 45654 asks for
 * both directions to be checked).
 */
import type { Classifier, ClassifierLabel, ClassifyContext } from './classifier.js';
import type { CompiledLibrary } from './compile.js';
import { ClassifierError } from './errors.js';
import { CLASSIFIER_UNAVAILABLE_REPLY } from './messages.js';
import type { PiiMatch, PiiOptions, RedactionStyle } from './pii.js';
import { detectPii, maskPii } from './pii.js';
import type { Action, Direction, PolicyRule, PolicySubject, SafetyPolicy } from './policy.js';
import { decideAction, defaultPolicy, stricter } from './policy.js';
import type { KeywordMatch } from './scanner.js';
import { KeywordScanner } from './scanner.js';
import { GuardStream } from './guard-stream.js';
import { IncrementalPiiDetector } from './pii-stream.js';
import type { Bilingual } from './taxonomy.js';

export interface GuardOptions {
  /** The keyword library in force; swap it later with `guard.keywords.swap()`. */
  library?: CompiledLibrary;
  policy?: SafetyPolicy;
  classifiers?: readonly Classifier[];
  pii?: PiiOptions | false;
  /** How personal data is redacted; keyword hits are always masked in full. */
  piiRedaction?: RedactionStyle;
  /** Language of the safe reply. */
  language?: keyof Bilingual;
}

export interface CheckOptions {
  direction: Direction;
  /** A user class with its own policy rules, e.g. `minor`. */
  userClass?: string;
  /** For output checks: the prompt the text answers (passed to guard models). */
  prompt?: string;
  signal?: AbortSignal;
}

export interface DecidedKeyword extends KeywordMatch {
  action: Action;
}

export interface DecidedPii extends PiiMatch {
  action: Action;
}

export interface DecidedLabel extends ClassifierLabel {
  classifier: string;
  action: Action;
}

export interface ClassifierFailure {
  classifier: string;
  code: string;
  message: string;
  /** `open`: the text was judged without it; `closed`: the text was blocked because of it. */
  onFailure: 'open' | 'closed';
}

/** What `findLocal` finds in a text: keyword hits and personal data, before the policy. */
export interface LocalFindings {
  matches: KeywordMatch[];
  pii: PiiMatch[];
}

export interface SafetyDecision {
  verdict: Action;
  matches: DecidedKeyword[];
  pii: DecidedPii[];
  labels: DecidedLabel[];
  /** Classifiers that failed; a non-empty list means the decision was made without them. */
  failures: ClassifierFailure[];
  /** For `block`: the reply to give instead of the content. */
  reply?: string;
  /** For `redact`: the text with every hit whose action is `redact` masked. */
  redacted?: string;
}

/**
 * Keyword scanning, personal-data detection, classifiers and a policy, put together.
 *
 * @example
 * const guard = new SafetyGuard({ library: compileLibrary(lib), classifiers: [qwen3GuardClassifier({ baseUrl })] });
 * const decision = await guard.check(userText, { direction: 'input', userClass: 'minor' });
 * if (decision.verdict === 'block') return decision.reply;
 */
export class SafetyGuard {
  readonly keywords: KeywordScanner | undefined;
  readonly #policy: SafetyPolicy;
  readonly #classifiers: readonly Classifier[];
  readonly #pii: PiiOptions | false;
  readonly #piiRedaction: RedactionStyle;
  readonly #language: keyof Bilingual;

  constructor(options: GuardOptions = {}) {
    this.keywords = options.library === undefined ? undefined : new KeywordScanner(options.library);
    this.#policy = options.policy ?? defaultPolicy;
    this.#classifiers = options.classifiers ?? [];
    this.#pii = options.pii ?? {};
    this.#piiRedaction = options.piiRedaction ?? 'partial';
    this.#language = options.language ?? 'zh';
  }

  /** Keywords and personal data only: synchronous, no network. */
  checkLocal(text: string, options: CheckOptions): SafetyDecision {
    return this.decideLocal(this.findLocal(text), options, text);
  }

  /**
   * The keyword hits and personal data in `text`, before the policy: the part of `checkLocal`
   * that reads the text. A text cut just after line breaks (see `safety/split`) can be searched
   * part by part, even on other threads; with each part's offsets moved by where it starts,
   * the parts' findings put end to end are the whole text's.
   */
  findLocal(text: string): LocalFindings {
    return { matches: this.keywords?.scan(text) ?? [], pii: this.#pii === false ? [] : detectPii(text, this.#pii) };
  }

  /**
   * The decision for findings of `findLocal`, which it takes over: each hit gets its `action`
   * in place (a 20 M-character file has hundreds of thousands of hits; a copy of each doubled
   * the work). `text` (or a function giving it, called only when the verdict is `redact`) is the
   * text they were found in.
   */
  decideLocal(found: LocalFindings, options: CheckOptions, text: string | (() => string)): SafetyDecision {
    // The policy's answer depends only on the subject's fields: decided once per kind of hit.
    const known = new Map<string, { action: Action; rule?: PolicyRule }>();
    let verdict = 'allow' as Action;
    let blocked = false;
    let blocking: PolicyRule | undefined;
    const apply = (hit: object, key: string, subject: PolicySubject): void => {
      let outcome = known.get(key);
      if (outcome === undefined) known.set(key, (outcome = this.#decide(subject, options)));
      (hit as { action: Action }).action = outcome.action;
      if (outcome.action !== verdict) verdict = stricter(verdict, outcome.action);
      if (!blocked && outcome.action === 'block') {
        blocked = true;
        blocking = outcome.rule;
      }
    };
    for (const m of found.matches) apply(m, `${m.risk}\u0000${m.severity}\u0000${m.confidence}`, { risk: m.risk, severity: m.severity, confidence: m.confidence });
    for (const p of found.pii) apply(p, `pii\u0000${p.type}`, { pii: p.type, severity: 'high' });
    const matches = found.matches as DecidedKeyword[];
    const pii = found.pii as DecidedPii[];
    const decision: SafetyDecision = { verdict, matches, pii, labels: [], failures: [] };
    // As `#combine` words them: the first blocking hit's rule's reply, else the policy's.
    if (verdict === 'block') decision.reply = (blocking?.safeReply ?? this.#policy.safeReply)[this.#language];
    if (verdict === 'redact') decision.redacted = this.#redact(typeof text === 'string' ? text : text(), matches, pii);
    return decision;
  }

  /** Everything, classifiers included (run in parallel). */
  async check(text: string, options: CheckOptions): Promise<SafetyDecision> {
    const local = this.checkLocal(text, options);
    const context: ClassifyContext = { direction: options.direction, ...(options.prompt === undefined ? {} : { prompt: options.prompt }), ...(options.signal === undefined ? {} : { signal: options.signal }) };
    const settled = await Promise.allSettled(this.#classifiers.map((c) => c.classify(text, context)));
    const labels: DecidedLabel[] = [];
    const failures: ClassifierFailure[] = [];
    settled.forEach((outcome, i) => {
      const classifier = this.#classifiers[i] as Classifier;
      if (outcome.status === 'fulfilled') {
        for (const label of outcome.value.labels) labels.push({ ...label, classifier: classifier.name, ...this.#decide({ risk: label.risk, severity: label.severity }, options) });
        return;
      }
      const error = outcome.reason instanceof ClassifierError ? outcome.reason : new ClassifierError(classifier.name, String((outcome.reason as Error)?.message ?? outcome.reason), { cause: outcome.reason });
      failures.push({ classifier: classifier.name, code: error.code, message: error.message, onFailure: classifier.onFailure });
    });
    return this.#combine(text, local.matches, local.pii, labels, failures);
  }

  /**
   * A guard over a stream, e.g. a model's output as it is generated: feed each delta, send
   * `step.text`, stop when `step.blocked`. Keyword hits and personal data are found as the text
   * arrives; classifiers, which need the whole text, are not run on streams.
   *
   * @example
   * const stream = guard.stream({ direction: 'output', userClass: 'minor' });
   * for await (const delta of model) {
   *   const step = stream.feed(delta);
   *   send(step.text);
   *   if (step.blocked) return send(step.reply);
   * }
   * send(stream.end().text);
   */
  stream(options: CheckOptions): GuardStream {
    return new GuardStream({
      keywords: this.keywords?.stream(),
      pii: this.#pii === false ? undefined : new IncrementalPiiDetector(this.#pii),
      decideKeyword: (m) => ({ ...m, action: this.#decide({ risk: m.risk, severity: m.severity, confidence: m.confidence }, options).action }),
      decidePii: (p) => ({ ...p, action: this.#decide({ pii: p.type, severity: 'high' }, options).action }),
      piiRedaction: this.#piiRedaction,
      reply: this.#policy.safeReply[this.#language],
    });
  }

  #decide(subject: PolicySubject, options: CheckOptions): { action: Action; rule?: PolicyRule } {
    const outcome = decideAction(this.#policy, subject, options.direction, options.userClass);
    return outcome.rule === undefined ? { action: outcome.action } : { action: outcome.action, rule: outcome.rule };
  }

  #combine(text: string, matches: (DecidedKeyword & { rule?: PolicyRule })[], pii: (DecidedPii & { rule?: PolicyRule })[], labels: (DecidedLabel & { rule?: PolicyRule })[], failures: ClassifierFailure[]): SafetyDecision {
    const all = [...matches, ...pii, ...labels];
    let verdict: Action = 'allow';
    for (const hit of all) verdict = stricter(verdict, hit.action);
    const closed = failures.some((f) => f.onFailure === 'closed');
    if (closed) verdict = 'block';
    const strip = <T extends { rule?: PolicyRule }>(hit: T): Omit<T, 'rule'> => {
      const { rule: _rule, ...rest } = hit;
      return rest;
    };
    const decision: SafetyDecision = { verdict, matches: matches.map(strip), pii: pii.map(strip), labels: labels.map(strip), failures };
    if (verdict === 'block') {
      const blocking = all.find((hit) => hit.action === 'block');
      const reply = closed && blocking === undefined ? CLASSIFIER_UNAVAILABLE_REPLY : (blocking?.rule?.safeReply ?? this.#policy.safeReply);
      decision.reply = reply[this.#language];
    }
    if (verdict === 'redact') decision.redacted = this.#redact(text, matches, pii);
    return decision;
  }

  #redact(text: string, matches: DecidedKeyword[], pii: DecidedPii[]): string {
    const chars = text.split('');
    for (const m of matches) if (m.action === 'redact') for (let i = m.start; i < m.end; i++) chars[i] = '*';
    for (const p of pii) {
      if (p.action !== 'redact') continue;
      const masked = maskPii(p, this.#piiRedaction);
      for (let i = 0; i < masked.length; i++) chars[p.start + i] = masked[i] as string;
    }
    return chars.join('');
  }
}
