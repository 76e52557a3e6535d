/**
 * @module safety/classifier-reliable
 * A classifier with a time budget and a circuit breaker, for callers on a request's path (the
 * gateway): a guard model that is slow or down must not make every request wait for it.
 *
 * - **Budget**: a call that has not answered within `budgetMs` is abandoned (its HTTP request
 *   aborted) and fails with a {@link ClassifierError}; the caller then applies the classifier's
 *   `onFailure` rule (open: judged without it, marked degraded; closed: blocked).
 * - **Circuit breaker**: after `failures` failures in a row the circuit opens and calls fail at
 *   once, without reaching the model, for `cooldownMs`; then one trial call is let through
 *   (half-open): its success closes the circuit, its failure opens it for another cooldown.
 */
import type { Classifier, ClassifierVerdict, ClassifyContext, FailureMode } from './classifier.js';
import { ClassifierError } from './errors.js';

export interface ReliabilityOptions {
  /** Longest wait for one answer, in milliseconds. */
  budgetMs: number;
  /** Failures in a row that open the circuit. */
  failures: number;
  /** How long an open circuit fails calls at once before it lets a trial through. */
  cooldownMs: number;
  /** Clock in ms (tests); default `Date.now`. */
  now?: () => number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export class ReliableClassifier implements Classifier {
  readonly name: string;
  readonly onFailure: FailureMode;
  readonly #inner: Classifier;
  readonly #options: Required<ReliabilityOptions>;
  #failuresInRow = 0;
  #openUntil = 0;
  #trialRunning = false;
  /** Calls that reached the model, and calls refused by the open circuit (for metrics and tests). */
  readonly stats = { calls: 0, shortCircuited: 0, timeouts: 0, failures: 0 };

  constructor(inner: Classifier, options: ReliabilityOptions) {
    if (!(options.budgetMs > 0) || !(options.failures >= 1) || !(options.cooldownMs >= 0)) {
      throw new RangeError(`classifier "${inner.name}": budgetMs must be > 0, failures >= 1 and cooldownMs >= 0`);
    }
    this.#inner = inner;
    this.name = inner.name;
    this.onFailure = inner.onFailure;
    this.#options = { now: Date.now, ...options };
  }

  get state(): CircuitState {
    if (this.#failuresInRow < this.#options.failures) return 'closed';
    return this.#options.now() < this.#openUntil ? 'open' : 'half-open';
  }

  async classify(text: string, context: ClassifyContext): Promise<ClassifierVerdict> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.#trialRunning)) {
      this.stats.shortCircuited += 1;
      const seconds = Math.max(0, Math.ceil((this.#openUntil - this.#options.now()) / 1000));
      throw new ClassifierError(this.name, `not called: ${this.#failuresInRow} calls in a row failed, so the circuit is open${state === 'open' ? ` for ${seconds} s more` : ' while one trial call runs'}`);
    }
    const trial = state === 'half-open';
    if (trial) this.#trialRunning = true;
    this.stats.calls += 1;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(context.signal?.reason);
    context.signal?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.stats.timeouts += 1;
        // Rejected first, so the race reports the budget, not the abort it causes.
        reject(new ClassifierError(this.name, `no answer within its budget of ${this.#options.budgetMs} ms`));
        controller.abort(new Error('budget'));
      }, this.#options.budgetMs);
    });
    try {
      const verdict = await Promise.race([this.#inner.classify(text, { ...context, signal: controller.signal }), budget]);
      this.#failuresInRow = 0;
      return verdict;
    } catch (error) {
      this.stats.failures += 1;
      this.#failuresInRow += 1;
      if (trial || this.#failuresInRow >= this.#options.failures) this.#openUntil = this.#options.now() + this.#options.cooldownMs;
      throw error instanceof ClassifierError ? error : new ClassifierError(this.name, String((error as Error)?.message ?? error), { cause: error });
    } finally {
      clearTimeout(timer);
      context.signal?.removeEventListener('abort', onAbort);
      if (trial) this.#trialRunning = false;
    }
  }
}
