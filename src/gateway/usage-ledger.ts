/**
 * @module gateway/usage-ledger
 * Usage states shared by every replica through the store, without a database round trip on
 * the hot path. Each replica keeps a copy of the states it uses: the state as last read from
 * the store plus the requests it counted since. A request is decided on that copy; every
 * `syncMs` the replica writes its counted requests into the store (one transaction, rows
 * locked, applied to whatever other replicas wrote meanwhile) and reads the result back.
 *
 * Staleness is bounded: a replica decides without the other replicas' requests of at most
 * the last sync interval, and a copy older than two intervals (a subject not used here for a
 * while) is read again before a decision. So a limit of N can be exceeded by what the other
 * replicas admit within one interval, and a lifted or new sanction reaches every replica
 * within two. With `syncMs` 0 every request is decided in the store under the row lock:
 * exact, at one transaction per request. Blocked requests, which lead to sanctions, are always
 * decided in the store. A process killed loses at most its last interval's counts.
 */
import type { Store } from '../store/index.js';
import { applyBlock, applyRequest, checkRequest, type AbuseStep, type FiredStep, type Refusal, parseUsageState, rateStatus, type RateStatus, type SubjectRules, tightestRate, type UsageState } from './usage-state.js';

/** One subject a request is counted against, with the rules it is checked by. */
export interface SubjectRequest {
  subject: string;
  rules: SubjectRules;
}

export interface Admission {
  /** Set when the request is refused: why, and the first subject that refused it. */
  refusal?: Refusal;
  refusedBy?: string;
  /** A minor's continuous use just reached a new reminder. */
  remind: boolean;
  continuousMs: number;
  /**
   * The request rate the client meets first (of the subjects with a rate rule), after this
   * request when admitted, as this replica knows it: for the `x-ratelimit-*-requests` headers.
   */
  rate?: RateStatus;
}

interface Counted {
  at: number;
  rules: SubjectRules;
}

interface Copy {
  /** As last read from the store. */
  known: UsageState;
  /** When it was read (ledger clock); -Infinity before the first read. */
  knownAt: number;
  /** Requests counted here, not yet written. */
  pending: Counted[];
  /** `known` with `pending` applied: what decisions are made on. */
  local: UsageState;
  refreshing: Promise<void> | undefined;
  usedAt: number;
}

const NOTHING_TO_SAY: Admission = Object.freeze({ remind: false, continuousMs: 0 });

/** The tightest request rate of `states` (one per request) at `at`, when any subject has a rate rule. */
function rateOf(requests: readonly SubjectRequest[], states: readonly UsageState[], at: number): RateStatus | undefined {
  const statuses: RateStatus[] = [];
  for (const [i, request] of requests.entries()) if (request.rules.rate) statuses.push(rateStatus((states[i] as UsageState).rate, at, request.rules.rate));
  return tightestRate(statuses);
}

/** `admission` with the rate status, when there is one. */
function withRate(admission: Admission, rate: RateStatus | undefined): Admission {
  return rate ? { ...admission, rate } : admission;
}

/** Copies unused this long are dropped (and read again when needed). */
const IDLE_COPY_MS = 10 * 60_000;

function replay(known: UsageState, pending: readonly Counted[]): UsageState {
  const state = structuredClone(known);
  for (const request of pending) applyRequest(state, request.at, request.rules);
  return state;
}

export class UsageLedger {
  readonly #store: Store;
  readonly #syncMs: number;
  readonly #now: () => number;
  readonly #copies = new Map<string, Copy>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #sweptAt = 0;
  #closed = false;

  constructor(store: Store, options: { syncMs: number; now: () => number }) {
    this.#store = store;
    this.#syncMs = options.syncMs;
    this.#now = options.now;
  }

  /**
   * Decides a request at `at` against every subject and, when none refuses it, counts it on
   * each. Subjects are checked in the order given; the first refusal wins.
   */
  async admit(requests: readonly SubjectRequest[], at: number): Promise<Admission> {
    if (this.#syncMs === 0) return this.#admitInStore(requests, at);
    const copies: Copy[] = [];
    for (const request of requests) copies.push(this.#fresh(request.subject, at) ?? (await this.#copy(request.subject, at)));
    for (const [i, request] of requests.entries()) {
      const refusal = checkRequest((copies[i] as Copy).local, at, request.rules);
      if (refusal) return withRate({ refusal, refusedBy: request.subject, remind: false, continuousMs: 0 }, rateOf(requests, copies.map((c) => c.local), at));
    }
    let admission = NOTHING_TO_SAY;
    for (const [i, request] of requests.entries()) {
      const copy = copies[i] as Copy;
      const result = applyRequest(copy.local, at, request.rules);
      copy.pending.push({ at, rules: request.rules });
      if (request.rules.minor) admission = result;
    }
    this.#schedule();
    return withRate(admission, rateOf(requests, copies.map((c) => c.local), at));
  }

  /**
   * Counts a blocked request of `subject` in the store and takes the abuse step it completes;
   * `record` runs in the same transaction when a step fires (the sanction's record).
   */
  async block(subject: string, at: number, steps: readonly AbuseStep[], record: (fired: FiredStep, tx: Store) => Promise<void>): Promise<FiredStep | undefined> {
    let fired: FiredStep | undefined;
    const states = await this.#store.transaction(async (tx) => {
      const after = await tx.gatewayUsage.update(
        [subject],
        (current) => {
          const state = parseUsageState(current.get(subject));
          fired = applyBlock(state, at, steps);
          return new Map([[subject, JSON.stringify(state)]]);
        },
        new Date(at),
      );
      if (fired) await record(fired, tx);
      return after;
    });
    this.#learn(subject, states.get(subject), at);
    return fired;
  }

  /** Writes every counted request to the store now. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#flushing) await this.#flushing;
    this.#flushing = this.#write().finally(() => (this.#flushing = undefined));
    await this.#flushing;
  }

  /** Stops syncing (at shutdown): what was counted since the last write stays unwritten. */
  stop(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #admitInStore(requests: readonly SubjectRequest[], at: number): Promise<Admission> {
    let admission: Admission = { remind: false, continuousMs: 0 };
    await this.#store.gatewayUsage.update(
      requests.map((r) => r.subject),
      (current) => {
        const states = requests.map((r) => parseUsageState(current.get(r.subject)));
        for (const [i, request] of requests.entries()) {
          const refusal = checkRequest(states[i] as UsageState, at, request.rules);
          if (refusal) {
            admission = withRate({ refusal, refusedBy: request.subject, remind: false, continuousMs: 0 }, rateOf(requests, states, at));
            return new Map();
          }
        }
        const next = new Map<string, string>();
        for (const [i, request] of requests.entries()) {
          const state = states[i] as UsageState;
          const result = applyRequest(state, at, request.rules);
          if (request.rules.minor) admission = result;
          next.set(request.subject, JSON.stringify(state));
        }
        admission = withRate(admission, rateOf(requests, states, at));
        return next;
      },
      new Date(at),
    );
    return admission;
  }

  /** The copy of `subject` when it is recent enough to decide on (the hot path: no await). */
  #fresh(subject: string, at: number): Copy | undefined {
    const copy = this.#copies.get(subject);
    if (!copy || at - copy.knownAt > 2 * this.#syncMs) return undefined;
    copy.usedAt = at;
    return copy;
  }

  /** The copy of `subject`, read from the store first when it is missing or too old. */
  async #copy(subject: string, at: number): Promise<Copy> {
    let copy = this.#copies.get(subject);
    if (!copy) {
      copy = { known: {}, knownAt: -Infinity, pending: [], local: {}, refreshing: undefined, usedAt: at };
      this.#copies.set(subject, copy);
    }
    copy.usedAt = at;
    if (at - copy.knownAt > 2 * this.#syncMs) {
      const current = copy;
      copy.refreshing ??= this.#read(subject).finally(() => (current.refreshing = undefined));
      await copy.refreshing;
    }
    return copy;
  }

  async #read(subject: string): Promise<void> {
    const readAt = this.#now();
    const states = await this.#store.gatewayUsage.read([subject]);
    this.#learn(subject, states.get(subject), readAt);
  }

  /** The store's state of `subject` as of `at`: the copy is rebuilt on it. */
  #learn(subject: string, text: string | undefined, at: number): void {
    const copy = this.#copies.get(subject);
    if (!copy || at < copy.knownAt) return;
    copy.known = parseUsageState(text);
    copy.knownAt = at;
    copy.local = replay(copy.known, copy.pending);
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#flushing) return this.#schedule();
      this.#flushing = this.#write().finally(() => {
        this.#flushing = undefined;
        if ([...this.#copies.values()].some((c) => c.pending.length > 0)) this.#schedule();
      });
    }, this.#syncMs);
    this.#timer.unref();
  }

  async #write(): Promise<void> {
    const taken = new Map<string, Counted[]>();
    for (const [subject, copy] of this.#copies) {
      if (copy.pending.length === 0) continue;
      taken.set(subject, copy.pending);
      copy.pending = [];
    }
    const startedAt = this.#now();
    if (taken.size > 0) {
      try {
        const states = await this.#store.gatewayUsage.update(
          [...taken.keys()],
          (current) => new Map([...taken].map(([subject, counted]) => [subject, JSON.stringify(replay(parseUsageState(current.get(subject)), counted))])),
          new Date(startedAt),
        );
        for (const subject of taken.keys()) this.#learn(subject, states.get(subject), startedAt);
      } catch (error) {
        // The counts stay with this replica and go with the next write.
        for (const [subject, counted] of taken) {
          const copy = this.#copies.get(subject);
          if (copy) copy.pending = [...counted, ...copy.pending];
        }
        console.error(`gateway: usage counts could not be written to the store (kept for the next try): ${(error as Error).message}`);
      }
    }
    this.#sweep(startedAt);
  }

  #sweep(now: number): void {
    if (now - this.#sweptAt < 60_000) return;
    this.#sweptAt = now;
    for (const [subject, copy] of this.#copies) if (copy.pending.length === 0 && !copy.refreshing && now - copy.usedAt > IDLE_COPY_MS) this.#copies.delete(subject);
  }
}
