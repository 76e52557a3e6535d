/**
 * @module eval/run-client
 * The runner's OpenAI-compatible chat client: one user prompt in, the answer's text out, with
 * a request rate limit shared by every worker, a timeout per attempt, and retries with
 * exponential backoff on 429, 5xx, timeouts and broken connections that honour `Retry-After`.
 * A guard's block (hegui's gateway, or a provider's `content_filter`) is an answer, not an
 * error: the evaluation measures it as a refusal.
 */
import { HeguiError } from '../errors.js';
import { fetchTransport, nodeTransport, type Transport } from './run-transport.js';

export interface ChatEndpoint {
  /** e.g. `https://api.example.com/v1` or hegui's gateway `http://127.0.0.1:8787/v1` */
  baseUrl: string;
  apiKey?: string;
  model: string;
}

export interface ChatClientOptions extends ChatEndpoint {
  /** Requests per second across all workers; 0 or absent: no limit. */
  requestsPerSecond?: number;
  /** Per attempt. */
  timeoutMs?: number;
  /** Retries after the first attempt. */
  retries?: number;
  /** First backoff; doubles on each retry, with jitter, capped at `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  maxTokens?: number;
  temperature?: number;
  /** For tests: the clock and the sleep. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  /** Send through this `fetch` instead of node:http (tests inject failures this way). */
  fetch?: typeof fetch;
}

export interface ChatAnswer {
  /** The text a user would have seen ('' when none). */
  text: string;
  /** HTTP status of the answer that was used. */
  status: number;
  finishReason: string | null;
  /** The model's own `refusal` field, when it filled one. */
  refusal: string | null;
  /** A guard blocked the prompt or the answer: `gateway` (hegui), `provider` (content_filter elsewhere). */
  blocked: 'gateway' | 'provider' | null;
  latencyMs: number;
  usage: { promptTokens: number; completionTokens: number } | null;
}

export interface ChatResult {
  request: Record<string, unknown>;
  attempts: number;
  answer?: ChatAnswer;
  /** Set when every attempt failed. */
  error?: string;
}

/** The endpoint answered something the runner cannot use (not a retryable failure). */
export class EvalEndpointError extends HeguiError {
  constructor(message: string) {
    super('E_EVAL_ENDPOINT', message);
  }
}

const defaultSleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Spaces requests `1/rate` seconds apart across every caller (a leaky bucket without burst). */
export class RateLimiter {
  #next = 0;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(requestsPerSecond: number, now: () => number = Date.now, sleep = defaultSleep) {
    this.#interval = requestsPerSecond > 0 ? 1000 / requestsPerSecond : 0;
    this.#now = now;
    this.#sleep = sleep;
  }

  async take(): Promise<void> {
    if (this.#interval === 0) return;
    const now = this.#now();
    const slot = Math.max(now, this.#next);
    this.#next = slot + this.#interval;
    if (slot > now) await this.#sleep(slot - now);
  }
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a chat completion (or a block error) into the runner's answer. */
export function readAnswer(status: number, body: unknown, latencyMs: number): ChatAnswer | undefined {
  if (!isObject(body)) return undefined;
  if (status >= 400) {
    const error = isObject(body.error) ? body.error : undefined;
    const code = typeof error?.code === 'string' ? error.code : '';
    if (status === 400 && (code === 'E_GATEWAY_CONTENT_BLOCKED' || code === 'content_filter' || code === 'content_policy_violation')) {
      const text = typeof error?.message === 'string' ? error.message : '';
      return { text, status, finishReason: 'content_filter', refusal: null, blocked: code === 'E_GATEWAY_CONTENT_BLOCKED' ? 'gateway' : 'provider', latencyMs, usage: null };
    }
    return undefined;
  }
  const choice = Array.isArray(body.choices) && isObject(body.choices[0]) ? body.choices[0] : undefined;
  if (!choice) return undefined;
  const message = isObject(choice.message) ? choice.message : {};
  const content = typeof message.content === 'string' ? message.content : Array.isArray(message.content) ? message.content.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('') : '';
  const refusal = typeof message.refusal === 'string' && message.refusal !== '' ? message.refusal : null;
  const finishReason = typeof choice.finish_reason === 'string' ? choice.finish_reason : null;
  const guard = isObject(body.hegui) && isObject(body.hegui.guard) ? body.hegui.guard : undefined;
  const heguiBlocked = typeof guard?.action === 'string' && guard.action.endsWith('blocked');
  const blocked = heguiBlocked ? 'gateway' : finishReason === 'content_filter' ? 'provider' : null;
  const usage = isObject(body.usage) ? { promptTokens: Number(body.usage.prompt_tokens) || 0, completionTokens: Number(body.usage.completion_tokens) || 0 } : null;
  return { text: content === '' && refusal ? refusal : content, status, finishReason, refusal, blocked, latencyMs, usage };
}

export class ChatClient {
  readonly #options: ChatClientOptions;
  readonly #limiter: RateLimiter;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #transport: Transport;
  readonly #url: string;

  constructor(options: ChatClientOptions) {
    this.#options = options;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#transport = options.fetch ? fetchTransport(options.fetch) : nodeTransport;
    this.#limiter = new RateLimiter(options.requestsPerSecond ?? 0, this.#now, this.#sleep);
    this.#url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  /** The request body for one prompt (stored with the item, so a run shows what it asked). */
  requestFor(prompt: string, system?: string): Record<string, unknown> {
    const messages = system ? [{ role: 'system', content: system }, { role: 'user', content: prompt }] : [{ role: 'user', content: prompt }];
    return {
      model: this.#options.model,
      messages,
      ...(this.#options.maxTokens ? { max_tokens: this.#options.maxTokens } : {}),
      ...(this.#options.temperature === undefined ? {} : { temperature: this.#options.temperature }),
    };
  }

  /** Sends `request` (as `body` when the caller has serialised it already), retrying what can be retried; never throws for an endpoint failure. */
  async send(request: Record<string, unknown>, signal?: AbortSignal, body: string = JSON.stringify(request)): Promise<ChatResult> {
    const retries = this.#options.retries ?? 4;
    const timeoutMs = this.#options.timeoutMs ?? 60_000;
    let lastError = 'no attempt made';
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      if (signal?.aborted) return { request, attempts: attempt - 1, error: 'aborted' };
      await this.#limiter.take();
      const started = this.#now();
      let wait: number | undefined;
      try {
        const timeout = AbortSignal.timeout(timeoutMs);
        const response = await this.#transport(this.#url, {
          headers: { 'content-type': 'application/json', ...(this.#options.apiKey ? { authorization: `Bearer ${this.#options.apiKey}` } : {}) },
          body,
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        const text = response.text;
        const latencyMs = this.#now() - started;
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const answer = readAnswer(response.status, parsed, latencyMs);
        if (answer) return { request, attempts: attempt, answer };
        const detail = isObject(parsed) && isObject(parsed.error) && typeof parsed.error.message === 'string' ? `: ${parsed.error.message.slice(0, 200)}` : '';
        lastError = response.status >= 400 ? `HTTP ${response.status}${detail}` : `HTTP ${response.status}: not a chat completion`;
        if (response.status !== 429 && response.status < 500 && response.status >= 400) return { request, attempts: attempt, error: lastError };
        wait = retryAfterMs(response.header('retry-after'), this.#now());
      } catch (error) {
        if (signal?.aborted) return { request, attempts: attempt, error: 'aborted' };
        const name = (error as Error)?.name;
        lastError = name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : `connection failed: ${(error as Error)?.message ?? String(error)}`;
      }
      if (attempt <= retries) {
        const base = this.#options.backoffMs ?? 500;
        const cap = this.#options.maxBackoffMs ?? 30_000;
        const backoff = Math.min(cap, base * 2 ** (attempt - 1)) * (0.5 + this.#random() / 2);
        // The server's Retry-After is honoured in full (bounded by ten minutes), never shortened by jitter.
        await this.#sleep(wait === undefined ? backoff : Math.min(Math.max(wait, backoff / 2), 600_000));
      }
    }
    return { request, attempts: retries + 1, error: lastError };
  }
}
