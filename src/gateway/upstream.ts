/**
 * @module gateway/upstream
 * The OpenAI-compatible servers behind the gateway (DeepSeek, DashScope compatible mode,
 * vLLM, Ollama, ...): which one serves a model, and one call to it with a timeout, retries of
 * idempotent failures (a connect error, or 502/503/504 before any byte reached the client),
 * and cancellation when the client goes away (AI Measures Art. 13: a stable service, without
 * wasted upstream work).
 */
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { urlToHttpOptions } from 'node:url';
import type { UpstreamConfig } from './config.js';
import { GatewayModelError, GatewayShuttingDownError, GatewayUpstreamError } from './errors.js';

const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const RETRY_BASE_MS = 50;

/** Most upstream paths whose request options are kept (`Upstream#target`). */
const MAX_CACHED_PATHS = 32;

/**
 * An upstream's answer once its headers arrived. The body is read once: whole (`text`,
 * `bytes`) or as it arrives (`body`, for streams).
 */
export class UpstreamResponse {
  readonly #message: IncomingMessage;
  /** The upstream that answered (after fallbacks, not always the one first chosen). */
  readonly upstream: Upstream;

  constructor(message: IncomingMessage, upstream: Upstream) {
    this.#message = message;
    this.upstream = upstream;
  }

  get status(): number {
    return this.#message.statusCode ?? 0;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  header(name: string): string | undefined {
    const value = this.#message.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /**
   * The body as it arrives; a connection reset ends the iteration with an error. A reader
   * that stops early (after `data: [DONE]`) leaves the rest to drain, so the connection goes
   * back to the pool instead of being torn down.
   */
  get body(): AsyncIterable<Uint8Array> {
    const message = this.#message;
    const deadlineMs = this.upstream.idleTimeoutMs;
    return {
      [Symbol.asyncIterator]: () => {
        const chunks = message.iterator({ destroyOnReturn: false }) as AsyncIterator<Uint8Array>;
        return {
          next: () => chunks.next(),
          return: async (value?: unknown) => {
            // Resumed after the iterator let go: while its 'readable' listener is on, resume() does nothing,
            // and the rest of the body (the chunked end after `[DONE]`) would hold the connection for ever.
            try {
              await chunks.return?.(value);
            } finally {
              drain(message, deadlineMs);
            }
            return { done: true as const, value: undefined };
          },
        };
      },
    };
  }

  async bytes(): Promise<Uint8Array> {
    return Buffer.concat(await this.#parts());
  }

  /** The body as UTF-8 text, decoded from the pieces as they came (no copy of a body that came in one piece). */
  async text(): Promise<string> {
    const parts = await this.#parts();
    return (parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)).toString('utf8');
  }

  /**
   * The pieces of the body, read with listeners rather than an async iterator (whose set-up and
   * promise per piece cost more than the rest of reading a small answer). Rejects when the
   * message fails, or closes before its end (a connection reset, an aborted call).
   */
  #parts(): Promise<Buffer[]> {
    const message = this.#message;
    return new Promise((resolve, reject) => {
      if (message.errored) return reject(message.errored);
      if (message.readableEnded) return resolve([]);
      if (message.destroyed) return reject(prematureClose());
      const parts: Buffer[] = [];
      const done = (): void => {
        message.off('data', onData);
        message.off('end', onEnd);
        message.off('error', onError);
        message.off('close', onClose);
      };
      const onData = (part: Buffer): void => void parts.push(part);
      const onEnd = (): void => {
        done();
        resolve(parts);
      };
      const onError = (error: Error): void => {
        done();
        reject(error);
      };
      const onClose = (): void => {
        done();
        reject(prematureClose());
      };
      message.on('data', onData);
      message.on('end', onEnd);
      message.on('error', onError);
      message.on('close', onClose);
    });
  }

  /** Drops the body (the connection goes back to the pool when it was read to the end). */
  discard(): void {
    drain(this.#message, this.upstream.idleTimeoutMs);
  }
}

/** Most bytes of a body's unread rest that are drained to keep its connection; past it the connection is closed. */
export const MAX_DRAIN_BYTES = 1024 * 1024;

/**
 * Reads the rest of a body nobody wants, so that its connection goes back to the pool: an
 * upstream ends its stream with the chunked terminator after `data: [DONE]`, often in a later
 * packet. A rest that goes on (past `MAX_DRAIN_BYTES`, or `deadlineMs`, the upstream's idle
 * timeout, without its end) closes the connection instead: an upstream that keeps sending, or
 * never ends, is not read for ever.
 */
function drain(message: IncomingMessage, deadlineMs: number): void {
  if (message.readableEnded || message.destroyed) return;
  let bytes = 0;
  const stop = (): void => {
    clearTimeout(timer);
    message.off('data', onData);
  };
  const onData = (part: Buffer): void => {
    bytes += part.byteLength;
    if (bytes > MAX_DRAIN_BYTES) {
      stop();
      message.destroy();
    }
  };
  const timer = setTimeout(() => {
    stop();
    message.destroy();
  }, deadlineMs);
  timer.unref();
  message.once('end', stop);
  message.once('close', stop);
  message.on('data', onData);
  message.resume();
}

/** What reading a body that closed before its end fails with (as an async iterator over it would). */
function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/** One configured upstream. */
export class Upstream {
  readonly name: string;
  /** Base URL without a trailing slash, e.g. `https://api.deepseek.com/v1`. */
  readonly baseUrl: string;
  readonly models: readonly string[];
  readonly timeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly retries: number;
  readonly maxRetryWaitMs: number;
  readonly weight: number;
  readonly fallbacks: readonly string[];
  /** What its latest calls say about it (`/healthz`, metrics): failures in a row, and when it last answered. */
  readonly health: { consecutiveFailures: number; lastOkAt: string | null; lastFailureAt: string | null; lastError: string | null } = { consecutiveFailures: 0, lastOkAt: null, lastFailureAt: null, lastError: null };
  readonly #authorization: string | undefined;
  readonly #url: URL;
  /** Keep-alive connections to the upstream: node:http costs far less per request than fetch. */
  readonly #agent: HttpAgent;
  /** The request options of each path asked for (a few: the API's endpoints), parsed once. */
  readonly #targets = new Map<string, ReturnType<typeof urlToHttpOptions>>();

  constructor(config: UpstreamConfig, env: Record<string, string | undefined> = process.env) {
    this.name = config.name;
    this.baseUrl = config.url.replace(/\/+$/, '');
    this.models = config.models;
    this.timeoutMs = config.timeoutSeconds * 1000;
    this.idleTimeoutMs = config.idleTimeoutSeconds * 1000;
    this.retries = config.retries;
    this.maxRetryWaitMs = config.maxRetryWaitSeconds * 1000;
    this.weight = config.weight;
    this.fallbacks = config.fallbacks;
    const key = config.apiKey ?? (config.apiKeyEnv ? env[config.apiKeyEnv] : undefined);
    this.#authorization = key ? `Bearer ${key}` : undefined;
    this.#url = new URL(this.baseUrl);
    this.#agent = this.#url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  /** Closes idle pooled connections (at shutdown). */
  close(): void {
    this.#agent.destroy();
  }

  /**
   * Where a request to `path` goes, as `http.request` would read `${baseUrl}${path}` (parsing the
   * URL on every request was about 1 % of a request's busy time). Paths carrying ids (files,
   * batches) are parsed each time rather than kept without bound.
   */
  #target(path: string): ReturnType<typeof urlToHttpOptions> {
    let target = this.#targets.get(path);
    if (!target) {
      target = urlToHttpOptions(new URL(`${this.baseUrl}${path}`));
      if (this.#targets.size < MAX_CACHED_PATHS) this.#targets.set(path, target);
    }
    return target;
  }

  #request(path: string, init: { method: 'GET' | 'POST'; body?: string }, headers: Record<string, string>, signal: StopSignal): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const send = this.#url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send({ ...this.#target(path), method: init.method, headers, agent: this.#agent }, (message) => {
        // After an abort, readers of the body see the break through its iterator.
        message.on('error', () => undefined);
        resolve(new UpstreamResponse(message, this));
      });
      // Destroyed without an error object, an aborted call ends quietly: before the answer the
      // request fails with a reset (and `send` reports the abort), after it the body breaks off.
      const onAbort = (): void => void req.destroy();
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      req.once('close', () => signal.removeEventListener('abort', onAbort));
      req.on('error', reject);
      req.end(init.body);
    });
  }

  /**
   * Sends one request and resolves with the upstream's response once its headers arrived
   * (status 2xx or not: the caller decides). Connect errors and 502/503/504 are retried up to
   * `retries` times; the call is aborted by `call.signal` (client gone, timeout).
   *
   * @throws GatewayUpstreamError when the upstream cannot be reached or timed out.
   */
  async send(path: string, init: { method: 'GET' | 'POST'; body?: string; headers?: Record<string, string> }, call: UpstreamCall): Promise<UpstreamResponse> {
    // Trace context (./tracing) first: hegui's own headers win over anything it carries.
    const headers: Record<string, string> = { ...init.headers, accept: 'application/json, text/event-stream' };
    if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(init.body));
    }
    if (this.#authorization) headers.authorization = this.#authorization;
    call.arm(this.timeoutMs);
    for (let attempt = 0; ; attempt++) {
      let response: UpstreamResponse;
      try {
        response = await this.#request(path, init, headers, call.signal);
      } catch (cause) {
        if (!call.signal.aborted && attempt < this.retries) {
          await call.pause(RETRY_BASE_MS * 2 ** attempt);
          continue;
        }
        call.end();
        if (call.signal.aborted) {
          if (call.timedOut) this.#failed('timed out');
          throw call.failure(this.name, cause);
        }
        this.#failed(`cannot be reached: ${describeCause(cause)}`);
        throw new GatewayUpstreamError(`the upstream "${this.name}" cannot be reached: ${describeCause(cause)}`, { cause });
      }
      if (RETRY_STATUSES.has(response.status) && attempt < this.retries) {
        // The upstream's own word on when to come back wins over the backoff, within maxRetryWait.
        const wait = retryAfterMs(response.header('retry-after-ms'), response.header('retry-after'));
        if (wait === undefined || wait <= this.maxRetryWaitMs) {
          response.discard();
          await call.pause(Math.max(RETRY_BASE_MS * 2 ** attempt, wait ?? 0), wait !== undefined);
          continue;
        }
      }
      if (response.status >= 500) this.#failed(`HTTP ${response.status}`);
      else {
        // Any other answer, a 429 or a 400 included, says the upstream is up.
        this.health.consecutiveFailures = 0;
        this.health.lastOkAt = new Date().toISOString();
      }
      return response;
    }
  }

  #failed(reason: string): void {
    this.health.consecutiveFailures += 1;
    this.health.lastFailureAt = new Date().toISOString();
    this.health.lastError = reason;
  }
}

/**
 * What an upstream call watches to learn it must stop: an `AbortSignal`, or a lighter object
 * of the same shape (`StopSignals`; an EventTarget listener costs more than the rest of a call's set-up).
 */
export interface StopSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A `StopSignal` whose listeners are kept in a set: `abort()` calls each once (later ones at
 * once), and removing one is a set deletion.
 */
export class StopSignals implements StopSignal {
  readonly #listeners = new Set<() => void>();
  #aborted = false;
  #reason: unknown;

  get aborted(): boolean {
    return this.#aborted;
  }

  /** What `abort` was given. */
  get reason(): unknown {
    return this.#reason;
  }

  /** Listeners run once in any case (as with `{ once: true }`). */
  addEventListener(_type: 'abort', listener: () => void, _options?: { once?: boolean }): void {
    if (this.#aborted) listener();
    else this.#listeners.add(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.#listeners.delete(listener);
  }

  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener();
  }
}

/**
 * The life of one upstream call: one stop signal that the client's disconnect, the timeout
 * and the gateway itself (after a block) can all trigger.
 */
export class UpstreamCall {
  readonly #stop = new StopSignals();
  #timer: NodeJS.Timeout | undefined;
  #timedOut = false;
  #armedMs = 0;
  #clientGone = false;
  #shutDown = false;
  readonly #onClientAbort = (): void => this.clientLeft();
  readonly #onShutdown = (): void => {
    this.#shutDown = true;
    this.abort('the server is shutting down');
  };

  /** `shutdownSignal` aborts at the drain deadline of a stopping server (./drain). */
  constructor(
    readonly clientSignal?: StopSignal,
    readonly shutdownSignal?: StopSignal,
  ) {
    if (clientSignal?.aborted) this.clientLeft();
    else clientSignal?.addEventListener('abort', this.#onClientAbort, { once: true });
    if (shutdownSignal?.aborted) this.#onShutdown();
    else shutdownSignal?.addEventListener('abort', this.#onShutdown, { once: true });
  }

  get signal(): StopSignal {
    return this.#stop;
  }

  get timedOut(): boolean {
    return this.#timedOut;
  }

  /** True when the call was aborted because the client went away. */
  get clientGone(): boolean {
    return this.#clientGone;
  }

  /**
   * (Re)starts the timer: the call is aborted as timed out unless re-armed or ended within
   * `ms` (the response timeout, then the idle timeout between stream events).
   */
  arm(ms: number): void {
    if (this.#timer && ms === this.#armedMs) {
      this.#timer.refresh();
      return;
    }
    this.disarm();
    this.#armedMs = ms;
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.abort('timed out');
    }, ms);
    // A pending timeout must not keep a stopping server alive.
    this.#timer.unref();
  }

  disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The client went away: the upstream call is cancelled (nobody would read its answer). */
  clientLeft(): void {
    this.#clientGone = true;
    this.abort('client disconnected');
  }

  abort(reason: string): void {
    if (!this.#stop.aborted) this.#stop.abort(new Error(reason));
  }

  /** Ends the call: timers stop and the client's signal is no longer watched. */
  end(): void {
    this.disarm();
    this.clientSignal?.removeEventListener('abort', this.#onClientAbort);
    this.shutdownSignal?.removeEventListener('abort', this.#onShutdown);
  }

  /** The error to report when the call was aborted. */
  failure(upstream: string, cause?: unknown): GatewayUpstreamError | GatewayShuttingDownError {
    if (this.#shutDown) return new GatewayShuttingDownError(`the server is shutting down: the answer of the upstream "${upstream}" was ended at the drain deadline; send the request again`);
    if (this.#timedOut) return new GatewayUpstreamError(`the upstream "${upstream}" did not answer in time`, { status: 504, cause });
    return new GatewayUpstreamError(`the call to the upstream "${upstream}" was cancelled: ${describeCause(this.#stop.reason)}`, { cause });
  }

  /** Waits `ms` (plus up to half again as jitter, unless `exact`: a Retry-After is waited as given); ends early on abort. */
  pause(ms: number, exact = false): Promise<void> {
    return new Promise((done) => {
      const jitter = exact ? 0 : Math.random() * ms * 0.5;
      const timer = setTimeout(finish, ms + jitter);
      timer.unref();
      const signal = this.#stop;
      function finish(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', finish);
        done();
      }
      signal.addEventListener('abort', finish);
    });
  }
}

/** `connect ECONNREFUSED 127.0.0.1:9`, also from an error wrapping its cause (fetch). */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = cause.cause instanceof Error ? cause.cause.message : undefined;
    return inner ?? cause.message;
  }
  return String(cause);
}

/** Milliseconds a `Retry-After-Ms` or `Retry-After` header (seconds or an HTTP date) asks to wait, or undefined. */
export function retryAfterMs(ms: string | undefined, header: string | undefined, now: number = Date.now()): number | undefined {
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Number(ms);
  if (header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The upstreams that may serve one model, balanced by weight (smooth weighted round robin:
 * over any run of requests each gets its share, spread out rather than in bursts).
 */
class UpstreamGroup {
  readonly members: readonly Upstream[];
  readonly #current: number[];

  constructor(members: readonly Upstream[]) {
    this.members = members;
    this.#current = members.map(() => 0);
  }

  /** The next member by weight, then the others by weight: the order to try them in. */
  next(): Upstream[] {
    const live = this.members.filter((u) => u.weight > 0);
    if (live.length <= 1) return [...live, ...this.members.filter((u) => u.weight === 0)];
    let total = 0;
    let best = -1;
    this.members.forEach((member, i) => {
      if (member.weight === 0) return;
      this.#current[i] = (this.#current[i] as number) + member.weight;
      total += member.weight;
      if (best < 0 || (this.#current[i] as number) > (this.#current[best] as number)) best = i;
    });
    this.#current[best] = (this.#current[best] as number) - total;
    const first = this.members[best] as Upstream;
    return [first, ...this.members.filter((u) => u !== first).sort((a, b) => b.weight - a.weight)];
  }
}

/**
 * Which upstreams serve which model: exact names first, then the longest `prefix*`, then `*`.
 * Several upstreams naming the same model (or the same pattern) share its requests by weight;
 * each upstream's `fallbacks` follow them.
 */
export class UpstreamRouter {
  readonly upstreams: readonly Upstream[];
  readonly #exact = new Map<string, UpstreamGroup>();
  readonly #prefixes: { prefix: string; group: UpstreamGroup }[] = [];
  readonly #any: UpstreamGroup | undefined;
  readonly #byName = new Map<string, Upstream>();

  constructor(upstreams: readonly Upstream[]) {
    this.upstreams = upstreams;
    const exact = new Map<string, Upstream[]>();
    const prefixes = new Map<string, Upstream[]>();
    const any: Upstream[] = [];
    for (const upstream of upstreams) {
      this.#byName.set(upstream.name, upstream);
      for (const model of upstream.models) {
        if (model === '*') any.push(upstream);
        else if (model.endsWith('*')) prefixes.set(model.slice(0, -1), [...(prefixes.get(model.slice(0, -1)) ?? []), upstream]);
        else exact.set(model, [...(exact.get(model) ?? []), upstream]);
      }
    }
    for (const [model, members] of exact) this.#exact.set(model, new UpstreamGroup(members));
    for (const [prefix, members] of prefixes) this.#prefixes.push({ prefix, group: new UpstreamGroup(members) });
    this.#prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
    this.#any = any.length > 0 ? new UpstreamGroup(any) : undefined;
  }

  /** @throws GatewayModelError when no upstream serves `model`. */
  resolve(model: string): Upstream {
    return this.route(model)[0] as Upstream;
  }

  /**
   * The upstreams to try for one request, in order: the group's pick, the rest of the group,
   * then each one's fallbacks (each upstream once).
   *
   * @throws GatewayModelError when no upstream serves `model`.
   */
  route(model: string): Upstream[] {
    const group = this.#group(model);
    const order = group?.next() ?? [];
    if (order.length === 0) throw new GatewayModelError(model);
    const seen = new Set(order);
    for (let i = 0; i < order.length; i++) {
      for (const name of (order[i] as Upstream).fallbacks) {
        const fallback = this.#byName.get(name);
        if (fallback && !seen.has(fallback)) {
          seen.add(fallback);
          order.push(fallback);
        }
      }
    }
    return order;
  }

  /** The first upstream that would serve `model` (no balancing turn taken), or undefined. */
  tryResolve(model: string): Upstream | undefined {
    return this.#group(model)?.members[0];
  }

  #group(model: string): UpstreamGroup | undefined {
    return this.#exact.get(model) ?? this.#prefixes.find((p) => model.startsWith(p.prefix))?.group ?? this.#any;
  }

  /** Model names configured by exact name, and the upstreams whose models must be asked for. */
  catalogue(): { named: { model: string; upstream: Upstream }[]; open: Upstream[] } {
    const named = [...this.#exact.entries()].map(([model, group]) => ({ model, upstream: group.members[0] as Upstream }));
    const open = this.upstreams.filter((u) => u.models.some((m) => m.endsWith('*')));
    return { named, open };
  }
}
