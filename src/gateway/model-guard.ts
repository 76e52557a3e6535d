/**
 * @module gateway/model-guard
 * Guard models on the gateway's path (issue 13): classifiers (Qwen3Guard, Llama Guard, an
 * OpenAI-compatible moderation endpoint) judge the input as the model reads it and each whole
 * answer, within a time budget, behind a circuit breaker (safety/classifier-reliable). Their
 * labels get an action from the same safety policy as keyword hits (minors' rules included)
 * and combine with the keyword verdict: the strictest wins.
 *
 * A classifier that fails (error, budget passed, circuit open) follows its `onFailure` rule:
 * `open` lets the text through, recorded as `classifier-degraded`; `closed` blocks it. A
 * classifier label cannot point at a span, so a `redact` action on one is carried out as a
 * block: there is nothing to mask but the whole text.
 *
 * Streams: `after` (default) lets text flow as the keyword guard releases it and has the
 * classifiers judge the text so far in the background, every `checkChars` characters and at
 * the end; a flagged verdict ends the stream (`content_filter`) at the next chunk. `sentence`
 * holds released text back until the classifiers have judged it, at each sentence end or
 * every `checkChars` characters, so nothing they flag reaches the client, at the cost of a
 * classifier round trip per sentence.
 */
import type { Classifier, FailureMode, SafetyPolicy } from '../safety/index.js';
import { decideAction, llamaGuardClassifier, openAiModerationClassifier, qwen3GuardClassifier, ReliableClassifier, stricter } from '../safety/index.js';
import type { GatewayConfig } from './config.js';
import { GatewayConfigError } from './errors.js';
import type { Direction, GuardAction, GuardFinding } from './guard.js';
import type { Caller } from './identity.js';

export interface ClassifierFailureNote {
  classifier: string;
  message: string;
  onFailure: FailureMode;
}

export interface ModelVerdict {
  /** The strictest action of the labels, `block` for a failed fail-closed classifier. */
  action: GuardAction;
  findings: GuardFinding[];
  failures: ClassifierFailureNote[];
}

export type StreamMode = 'after' | 'sentence';

interface ModelGuardOptions {
  input: readonly Classifier[];
  output: readonly Classifier[];
  policy: SafetyPolicy;
  stream: StreamMode;
  checkChars: number;
  /** Characters of the answer so far a stream check sends (its tail): a guard model's window, not the whole answer each time. */
  windowChars: number;
}

export class ModelGuard {
  readonly stream: StreamMode;
  readonly checkChars: number;
  readonly windowChars: number;
  readonly #input: readonly Classifier[];
  readonly #output: readonly Classifier[];
  readonly #policy: SafetyPolicy;

  constructor(options: ModelGuardOptions) {
    this.#input = options.input;
    this.#output = options.output;
    this.#policy = options.policy;
    this.stream = options.stream;
    this.checkChars = options.checkChars;
    this.windowChars = options.windowChars;
  }

  /** True when some classifier judges this direction. */
  has(direction: Direction): boolean {
    return (direction === 'input' ? this.#input : this.#output).length > 0;
  }

  /** The classifiers themselves (their circuit state and counts, for health and metrics). */
  get classifiers(): readonly Classifier[] {
    return [...new Set([...this.#input, ...this.#output])];
  }

  /** Every classifier of the direction, in parallel; `prompt` is what an answer answers. */
  async check(text: string, direction: Direction, caller: Caller, prompt?: string): Promise<ModelVerdict> {
    const classifiers = direction === 'input' ? this.#input : this.#output;
    const userClass = caller.minor ? 'minor' : undefined;
    const settled = await Promise.allSettled(classifiers.map((c) => c.classify(text, { direction, ...(prompt === undefined ? {} : { prompt }) })));
    const findings: GuardFinding[] = [];
    const failures: ClassifierFailureNote[] = [];
    let action: GuardAction = 'allow';
    settled.forEach((outcome, i) => {
      const classifier = classifiers[i] as Classifier;
      if (outcome.status === 'rejected') {
        failures.push({ classifier: classifier.name, message: String((outcome.reason as Error)?.message ?? outcome.reason), onFailure: classifier.onFailure });
        if (classifier.onFailure === 'closed') action = 'block';
        return;
      }
      for (const label of outcome.value.labels) {
        const decided = decideAction(this.#policy, { risk: label.risk, severity: label.severity }, direction, userClass).action;
        const taken: GuardAction = decided === 'redact' ? 'block' : decided;
        findings.push({ risk: label.risk, action: taken, keyword: `${classifier.name}:${label.label}`, source: 'classifier', start: 0, end: text.length, ...(label.score === undefined ? {} : { score: label.score }) });
        action = stricter(action, taken);
      }
    });
    return { action, findings, failures };
  }
}

/** The model guard the configuration asks for, or undefined when it names no classifier. */
export function createModelGuard(config: GatewayConfig, policy: SafetyPolicy, env: Record<string, string | undefined>, now?: () => number): ModelGuard | undefined {
  const models = config.safety.models;
  if (models.classifiers.length === 0) return undefined;
  const input: Classifier[] = [];
  const output: Classifier[] = [];
  for (const entry of models.classifiers) {
    const apiKey = entry.apiKeyEnv === undefined ? undefined : env[entry.apiKeyEnv];
    if (entry.apiKeyEnv !== undefined && !apiKey) throw new GatewayConfigError(`safety.models.classifiers: ${entry.name ?? entry.kind} reads its key from ${entry.apiKeyEnv}, which is not set`);
    const options = {
      baseUrl: entry.baseUrl,
      ...(apiKey ? { apiKey } : {}),
      ...(entry.model ? { model: entry.model } : {}),
      ...(entry.name ? { name: entry.name } : {}),
      onFailure: entry.onFailure,
      // The budget bounds each call; the adapter's own timeout only backs it up.
      timeoutMs: models.budgetMs * 2,
    };
    const inner = entry.kind === 'qwen3guard' ? qwen3GuardClassifier(options) : entry.kind === 'llamaguard' ? llamaGuardClassifier(options) : openAiModerationClassifier(options);
    const reliable = new ReliableClassifier(inner, { budgetMs: models.budgetMs, failures: models.breaker.failures, cooldownMs: models.breaker.cooldownSeconds * 1000, ...(now ? { now } : {}) });
    if (entry.directions.includes('input')) input.push(reliable);
    if (entry.directions.includes('output')) output.push(reliable);
  }
  return new ModelGuard({ input, output, policy, stream: models.stream, checkChars: models.checkChars, windowChars: models.windowChars });
}
