/**
 * @module eval/run
 * The evaluation runner: a run is created with its whole sample (drawn with a seed) written to
 * the store, then its pending items are sent to the endpoint by a pool of workers under a rate
 * limit; each answer is judged and stored off the worker's path (the worker sends its next
 * request first), in batched transactions. A run killed at any moment resumes from the store:
 * stored items are never sent again, and an item in flight at the kill (or answered and not
 * yet written) is simply still pending. A process holds the run by a lease so two do not
 * work on it at once.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { HeguiError, InvalidInputError, NotFoundError } from '../errors.js';
import type { EvalItemOutcome, StoredEvalItem, StoredEvalRun, Store } from '../store/index.js';
import type { Judges } from './judge.js';
import { ChatClient, type ChatClientOptions, type ChatResult } from './run-client.js';
import { drawSample, type SampleResult } from './run-sample.js';
import type { BankItem, ItemKind } from './types.js';

/** What a run is configured with; stored with it (no keys), so a resume runs the same way. */
export interface RunSettings {
  concurrency: number;
  requestsPerSecond: number;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  maxTokens?: number;
  temperature?: number;
  /** Requested sample sizes per kind (null: all items of that kind). */
  sample: Partial<Record<ItemKind, number | null>>;
  /** How the judges are set up, for the record and for a resume. */
  judges: Record<string, unknown>;
  /** Where the bank came from. */
  bank: { source: string; items: number };
}

export const defaultRunSettings = { concurrency: 8, requestsPerSecond: 0, timeoutMs: 60_000, retries: 4, backoffMs: 500 } as const;

export class EvalRunError extends HeguiError {}

export interface CreateRunInput {
  store: Store;
  bank: readonly BankItem[];
  endpoint: string;
  model: string;
  seed: number;
  settings: RunSettings;
  name?: string;
  now?: Date;
}

export async function createRun(input: CreateRunInput): Promise<{ run: StoredEvalRun; sample: SampleResult }> {
  if (!Number.isInteger(input.seed) || input.seed < 0 || input.seed > 0xffffffff) throw new InvalidInputError('E_EVAL_SEED', `the seed is a whole number from 0 to 4294967295, not ${input.seed}`);
  const sizes: Partial<Record<ItemKind, number>> = {};
  for (const [kind, size] of Object.entries(input.settings.sample)) sizes[kind as ItemKind] = size === null ? Number.POSITIVE_INFINITY : size;
  const sample = drawSample(input.bank, input.seed, sizes);
  if (sample.items.length === 0) throw new InvalidInputError('E_EVAL_EMPTY', 'the sample is empty: the bank has no items of the kinds asked for');
  const id = `run_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const createdAt = (input.now ?? new Date()).toISOString();
  await input.store.evalRuns.create(
    { id, name: input.name ?? `${input.model} ${createdAt.slice(0, 10)}`, endpoint: input.endpoint, model: input.model, seed: input.seed, settings: { ...input.settings, perKind: sample.perKind } as unknown as Record<string, unknown>, createdAt },
    sample.items.map((item, seq) => ({ seq, itemId: item.id, kind: item.kind, risk: item.risk, language: item.language, source: item.source, prompt: item.prompt, group: item.group ?? null })),
  );
  const run = await input.store.evalRuns.get(id);
  if (!run) throw new EvalRunError('E_EVAL_RUN_LOST', `run ${id} was written but cannot be read back`);
  return { run, sample };
}

export interface Progress {
  done: number;
  total: number;
  errors: number;
  /** Completed items per second over this process's work. */
  rate: number;
  /** Estimated seconds left at that rate; undefined until known. */
  etaSeconds: number | undefined;
}

export interface ExecuteOptions {
  store: Store;
  runId: string;
  apiKey?: string;
  judges: Judges;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  /** For tests: the client options not taken from the run. */
  client?: Partial<ChatClientOptions>;
  now?: () => Date;
  /** Take the run over even when another live process holds it. */
  force?: boolean;
}

export interface ExecuteResult {
  /** Items this process completed (answered or failed). */
  completed: number;
  finished: boolean;
}

const LEASE_MS = 30_000;

/** True when `owner` (`host:pid`) is a process on this machine that no longer exists. */
function ownerGone(owner: string): boolean {
  const at = owner.lastIndexOf(':');
  const host = owner.slice(0, at);
  const pid = Number(owner.slice(at + 1));
  if (host !== hostname() || !Number.isInteger(pid)) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Sends the run's pending items, judges and stores each answer; resolves when none is pending or on abort. */
export async function executeRun(options: ExecuteOptions): Promise<ExecuteResult> {
  const { store, runId } = options;
  const now = options.now ?? (() => new Date());
  const run = await store.evalRuns.get(runId);
  if (!run) throw new NotFoundError('E_EVAL_RUN_UNKNOWN', `there is no run ${runId} (list them with \`hegui eval status\`)`);
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const claimed = await store.evalRuns.claim(runId, owner, now().toISOString(), new Date(now().getTime() + LEASE_MS).toISOString(), (current) => options.force === true || ownerGone(current.slice(0, current.lastIndexOf(':'))));
  if (!claimed) throw new EvalRunError('E_EVAL_RUN_BUSY', `run ${runId} is being worked on by another process (${run.leaseOwner ?? 'unknown'}); wait for it, or resume with --force if it is gone`);
  const heartbeat = setInterval(() => void store.evalRuns.renew(runId, owner, new Date(now().getTime() + LEASE_MS).toISOString()).catch(() => undefined), LEASE_MS / 3);
  heartbeat.unref();
  try {
    const settings = run.settings as unknown as RunSettings;
    const client = new ChatClient({
      baseUrl: run.endpoint,
      model: run.model,
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      requestsPerSecond: settings.requestsPerSecond,
      timeoutMs: settings.timeoutMs,
      retries: settings.retries,
      backoffMs: settings.backoffMs,
      ...(settings.maxTokens ? { maxTokens: settings.maxTokens } : {}),
      ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
      ...options.client,
    });
    const pending = await store.evalRuns.items(runId, 'pending');
    const counts = await store.evalRuns.counts(runId);
    const total = run.items;
    let done = counts.done + counts.error;
    let errors = counts.error;
    let completed = 0;
    const started = Date.now();
    let reported = 0;
    const report = (force = false): void => {
      if (!options.onProgress) return;
      const at = Date.now();
      // A progress bar redrawn for every item costs more than it shows: at most every PROGRESS_MS, and at the end.
      if (!force && at - reported < PROGRESS_MS) return;
      reported = at;
      const seconds = (at - started) / 1000;
      const rate = seconds > 0 ? completed / seconds : 0;
      options.onProgress({ done, total, errors, rate, etaSeconds: rate > 0 ? (total - done) / rate : undefined });
    };
    report(true);
    const writer = new CompletionWriter(store, runId);
    /** Answers being judged: a worker waits while there are as many as workers (a judge model is a request too). */
    const judging = new Set<Promise<void>>();
    /** Judged answers waiting for their batch to be written. */
    const storing = new Set<Promise<void>>();
    const track = (set: Set<Promise<void>>, promise: Promise<void>): void => {
      set.add(promise);
      void promise.finally(() => set.delete(promise));
    };
    let failure: { error: unknown } | undefined;
    let next = 0;
    const work = async (): Promise<void> => {
      while (!options.signal?.aborted && !failure) {
        while (judging.size >= workers) await Promise.race(judging);
        if (failure) return;
        const item = pending[next++];
        if (!item) return;
        const request = client.requestFor(item.prompt);
        const body = JSON.stringify(request);
        const result = await client.send(request, options.signal, body);
        if (options.signal?.aborted) return;
        // Judged and stored off this worker's path: it sends its next request first.
        const judged = judgeItem(options.judges, item, body, result, now);
        track(judging, judged.then(() => undefined, () => undefined));
        track(
          storing,
          judged
            .then((outcome) => writer.add(outcome))
            .then(
              (stored) => {
                if (!stored) return;
                completed += 1;
                done += 1;
                if (result.answer === undefined) errors += 1;
                report();
              },
              (error: unknown) => void (failure ??= { error }),
            ),
        );
      }
    };
    const workers = Math.max(1, Math.min(settings.concurrency, pending.length));
    await Promise.all(Array.from({ length: workers }, work));
    // Every answer received is judged and stored before the run is released, even on abort.
    while (storing.size > 0) await Promise.all(storing);
    if (failure) throw failure.error;
    report(true);
    const finished = options.signal?.aborted ? false : await store.evalRuns.finishIfDone(runId, now().toISOString());
    return { completed, finished };
  } finally {
    clearInterval(heartbeat);
    await store.evalRuns.release(runId, owner).catch(() => undefined);
  }
}

/** How often, at most, `onProgress` is called while items complete. */
const PROGRESS_MS = 100;

/** The most items stored in one transaction. */
const WRITE_BATCH = 100;

/** How long the first item of a batch waits for others before the batch is written. */
const WRITE_WINDOW_MS = 20;

/**
 * Stores completed items in batches, one transaction each: the items judged within
 * WRITE_WINDOW_MS of the first (or WRITE_BATCH of them, whichever comes first). Answers
 * arrive one by one, spread over the endpoint's latency, so a transaction per item (or per
 * turn of the event loop, which mostly holds one) paid a commit for almost every item. A kill
 * loses the items in flight and those answered in the last WRITE_WINDOW_MS: still pending in
 * the store, a resume sends them again, and no stored item is sent twice.
 */
class CompletionWriter {
  readonly #store: Store;
  readonly #runId: string;
  #queue: { outcome: EvalItemOutcome; resolve: (stored: boolean) => void; reject: (error: unknown) => void }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(store: Store, runId: string) {
    this.#store = store;
    this.#runId = runId;
  }

  /** Resolves with whether the item was stored (false: someone else stored it first), once its transaction has committed. */
  add(outcome: EvalItemOutcome): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ outcome, resolve, reject });
      if (this.#queue.length >= WRITE_BATCH) this.#write();
      else this.#timer ??= setTimeout(() => this.#write(), WRITE_WINDOW_MS);
    });
  }

  #write(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue;
    this.#queue = [];
    // One batch at a time, in order: a batch gathered while another is written waits for it.
    this.#writing = this.#writing.then(async () => {
      try {
        const stored = await this.#store.evalRuns.completeMany(this.#runId, batch.map((b) => b.outcome));
        batch.forEach((b, i) => b.resolve(stored[i] === true));
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    });
  }
}

/** One answered (or failed) item, judged: what to store. */
async function judgeItem(judges: Judges, item: StoredEvalItem, requestJson: string, result: ChatResult, now: () => Date): Promise<EvalItemOutcome> {
  const request = result.request;
  if (!result.answer) return { seq: item.seq, requestJson, completion: { status: 'error', attempts: result.attempts, request, answer: null, answerMeta: null, refused: null, safe: null, judges: null, error: result.error ?? 'failed', completedAt: now().toISOString(), reviewStatus: 'none' } };
  const answer = result.answer;
  // A judge that throws (a bug, a library that cannot load) must not stall the run on this item forever: a person judges it.
  const judgement = await judges.judge(item.prompt, answer).catch((error: unknown) => ({ refused: 'uncertain' as const, safe: 'uncertain' as const, review: true, detail: { error: `the judges failed: ${(error as Error)?.message ?? String(error)}` } }));
  return {
    seq: item.seq,
    requestJson,
    completion: {
      status: 'done',
      attempts: result.attempts,
      request,
      answer: answer.text,
      answerMeta: { status: answer.status, finishReason: answer.finishReason, blocked: answer.blocked, latencyMs: answer.latencyMs, usage: answer.usage, ...(answer.refusal ? { refusal: answer.refusal } : {}) },
      refused: judgement.refused,
      safe: judgement.safe,
      judges: judgement.detail,
      error: null,
      completedAt: now().toISOString(),
      reviewStatus: judgement.review ? 'open' : 'none',
    },
  };
}

export interface DryRunEstimate {
  items: number;
  perKind: SampleResult['perKind'];
  /** The latency the estimate assumes per request, and whether it was measured. */
  latencyMs: number;
  measured: boolean;
  /** Wall time: concurrency-bound, or rate-bound when the rate limit is the tighter. */
  seconds: number;
  promptTokens: number;
  /** Upper bound from max_tokens (or an assumed answer length when none is set). */
  completionTokens: number;
}

/** Rough token count: CJK characters count one each; other text about four characters a token. */
export function estimateTokens(text: string): number {
  const cjk = text.match(/[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]/g)?.length ?? 0;
  return cjk + Math.ceil((text.length - cjk) / 4);
}

/** The answer length assumed when no max_tokens is set. */
export const ASSUMED_ANSWER_TOKENS = 400;

export function estimateRun(sample: SampleResult, settings: Pick<RunSettings, 'concurrency' | 'requestsPerSecond' | 'maxTokens'>, latencyMs: number, measured: boolean): DryRunEstimate {
  const n = sample.items.length;
  const byConcurrency = (Math.ceil(n / Math.max(1, settings.concurrency)) * latencyMs) / 1000;
  const byRate = settings.requestsPerSecond > 0 ? n / settings.requestsPerSecond : 0;
  const promptTokens = sample.items.reduce((sum, item) => sum + estimateTokens(item.prompt) + 8, 0);
  return { items: n, perKind: sample.perKind, latencyMs, measured, seconds: Math.max(byConcurrency, byRate), promptTokens, completionTokens: n * (settings.maxTokens ?? ASSUMED_ANSWER_TOKENS) };
}
