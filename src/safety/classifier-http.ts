/**
 * @module safety/classifier-http
 * HTTP adapters for the classifier port, over `fetch` (Node 20+, browsers, workers):
 * - `openAiModerationClassifier`: any endpoint compatible with OpenAI's `POST /moderations`;
 * - `llamaGuardClassifier`: Llama Guard served behind an OpenAI-compatible chat API
 *   (vLLM, SGLang, TGI), replying `safe` or `unsafe\nS1,S10`;
 * - `qwen3GuardClassifier`: Qwen3Guard-Gen served the same way, replying
 *   `Safety: Safe|Controversial|Unsafe\nCategories: ...`.
 * Every failure (network, timeout, HTTP status, unexpected reply) becomes a `ClassifierError`.
 */
import type { Classifier, ClassifierLabel, ClassifierVerdict, ClassifyContext, FailureMode } from './classifier.js';
import { llamaGuardRisks, openAiModerationRisks, qwen3GuardRisks } from './classifier.js';
import { ClassifierError } from './errors.js';
import type { RiskCode } from './taxonomy.js';

export interface HttpClassifierOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  apiKey?: string;
  /** Model name sent in the request. */
  model?: string;
  /** Name used in verdicts and errors; defaults to the adapter kind. */
  name?: string;
  /** Default: 10 000 ms. */
  timeoutMs?: number;
  /** Default: `open`. */
  onFailure?: FailureMode;
  /** Category -> risk overrides, merged over the built-in map. */
  risks?: Record<string, RiskCode>;
  /** A custom fetch (e.g. one that goes through a proxy); defaults to the global `fetch`. */
  fetch?: typeof fetch;
}

async function postJson(name: string, options: HttpClassifierOptions, path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}${path}`;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]),
    });
  } catch (error) {
    const timedOut = timeout.aborted;
    throw new ClassifierError(name, timedOut ? `no answer from ${url} within ${options.timeoutMs ?? 10_000} ms` : `cannot reach ${url}: ${(error as Error).message}`, { cause: error });
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new ClassifierError(name, `reading the reply from ${url} failed: ${(error as Error).message}`, { cause: error });
  }
  if (!response.ok) throw new ClassifierError(name, `${url} answered HTTP ${response.status}: ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ClassifierError(name, `${url} answered with something that is not JSON: ${text.slice(0, 200)}`, { cause: error });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The assistant text of an OpenAI-compatible chat completion. */
function chatContent(name: string, reply: unknown): string {
  const choices = isRecord(reply) ? reply.choices : undefined;
  const first = Array.isArray(choices) ? (choices[0] as unknown) : undefined;
  const message = isRecord(first) ? first.message : undefined;
  const content = isRecord(message) ? message.content : undefined;
  if (typeof content !== 'string') throw new ClassifierError(name, 'the reply has no choices[0].message.content');
  return content;
}

/** The conversation a guard model judges: the prompt alone, or the prompt and the answer. */
function guardMessages(text: string, context: ClassifyContext): { role: string; content: string }[] {
  if (context.direction === 'input') return [{ role: 'user', content: text }];
  return [
    { role: 'user', content: context.prompt ?? '' },
    { role: 'assistant', content: text },
  ];
}

/**
 * An OpenAI-moderation-compatible endpoint. A category counts when the endpoint flags it or,
 * with `threshold`, when its score reaches the threshold.
 *
 * @example
 * const moderation = openAiModerationClassifier({ baseUrl: 'https://api.example.com/v1', apiKey, model: 'omni-moderation-latest' });
 */
export function openAiModerationClassifier(options: HttpClassifierOptions & { threshold?: number }): Classifier {
  const name = options.name ?? 'openai-moderation';
  const risks = { ...openAiModerationRisks, ...options.risks };
  return {
    name,
    onFailure: options.onFailure ?? 'open',
    async classify(text, context): Promise<ClassifierVerdict> {
      const body = options.model === undefined ? { input: text } : { model: options.model, input: text };
      const reply = await postJson(name, options, '/moderations', body, context.signal);
      const results = isRecord(reply) ? reply.results : undefined;
      const result = Array.isArray(results) ? (results[0] as unknown) : undefined;
      if (!isRecord(result) || !isRecord(result.categories)) throw new ClassifierError(name, 'the reply has no results[0].categories');
      const scores = isRecord(result.category_scores) ? result.category_scores : {};
      const labels: ClassifierLabel[] = [];
      for (const [category, on] of Object.entries(result.categories)) {
        const score = typeof scores[category] === 'number' ? (scores[category] as number) : undefined;
        const hit = on === true || (options.threshold !== undefined && score !== undefined && score >= options.threshold);
        const risk = risks[category];
        if (!hit || risk === undefined) continue;
        labels.push({ label: category, risk, severity: score === undefined || score >= 0.8 ? 'high' : 'medium', ...(score === undefined ? {} : { score }) });
      }
      return { classifier: name, flagged: result.flagged === true || labels.length > 0, labels };
    },
  };
}

/** Llama Guard (3 or later) behind an OpenAI-compatible chat completions endpoint. */
export function llamaGuardClassifier(options: HttpClassifierOptions): Classifier {
  const name = options.name ?? 'llama-guard';
  const risks = { ...llamaGuardRisks, ...options.risks };
  return {
    name,
    onFailure: options.onFailure ?? 'open',
    async classify(text, context): Promise<ClassifierVerdict> {
      const reply = await postJson(name, options, '/chat/completions', { model: options.model, messages: guardMessages(text, context), temperature: 0, max_tokens: 20 }, context.signal);
      const content = chatContent(name, reply).trim();
      const [verdict = '', codes = ''] = content.split(/\r?\n/).map((l) => l.trim());
      if (verdict.toLowerCase() === 'safe') return { classifier: name, flagged: false, labels: [] };
      if (verdict.toLowerCase() !== 'unsafe') throw new ClassifierError(name, `expected "safe" or "unsafe" but the model said: ${content.slice(0, 100)}`);
      const labels = codes
        .split(',')
        .map((c) => c.trim())
        .filter((c) => c !== '')
        .map((code): ClassifierLabel => ({ label: code, risk: risks[code] ?? 'A1.8', severity: 'high' }));
      return { classifier: name, flagged: true, labels: labels.length > 0 ? labels : [{ label: 'unsafe', risk: 'A1.8', severity: 'high' }] };
    },
  };
}

/**
 * Qwen3Guard-Gen behind an OpenAI-compatible chat completions endpoint (vLLM or SGLang).
 * `Unsafe` gives high-severity labels; `Controversial` gives low-severity ones, which a policy
 * can route to review with `minSeverity`, or ignore with `controversial: 'ignore'`.
 */
export function qwen3GuardClassifier(options: HttpClassifierOptions & { controversial?: 'flag' | 'ignore' }): Classifier {
  const name = options.name ?? 'qwen3guard';
  const risks = { ...qwen3GuardRisks, ...options.risks };
  return {
    name,
    onFailure: options.onFailure ?? 'open',
    async classify(text, context): Promise<ClassifierVerdict> {
      const reply = await postJson(name, options, '/chat/completions', { model: options.model, messages: guardMessages(text, context), temperature: 0, max_tokens: 128 }, context.signal);
      const content = chatContent(name, reply);
      const safety = /Safety:\s*(Safe|Unsafe|Controversial)/i.exec(content)?.[1]?.toLowerCase();
      if (safety === undefined) throw new ClassifierError(name, `expected "Safety: Safe|Unsafe|Controversial" but the model said: ${content.slice(0, 100)}`);
      if (safety === 'safe' || (safety === 'controversial' && options.controversial === 'ignore')) return { classifier: name, flagged: false, labels: [] };
      const severity = safety === 'unsafe' ? 'high' : 'low';
      const categoryLine = /Categories:\s*(.*)/i.exec(content)?.[1] ?? '';
      const labels = categoryLine
        .split(',')
        .map((c) => c.trim())
        .filter((c) => c !== '' && c.toLowerCase() !== 'none')
        .map((label): ClassifierLabel => ({ label, risk: risks[label] ?? 'A1.8', severity }));
      return { classifier: name, flagged: true, labels: labels.length > 0 ? labels : [{ label: safety, risk: 'A1.8', severity }] };
    },
  };
}
