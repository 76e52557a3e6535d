/**
 * @module gateway/usage-state
 * The usage state of one subject (a user or an API key) and the pure rules over it: request
 * rates as token buckets, a minor's daily use and continuous session (Minors Regulations
 * Art. 43; AI Measures Art. 10), recent blocked requests and the sanctions they lead to
 * (AI Measures Art. 14). Every function takes the time, so the rules are exact under test and
 * the same whether a replica applies them to its own copy or the store applies them under a
 * row lock. States are plain JSON, kept in the store per subject.
 */

/**
 * A request rate as a token bucket, kept as one number (the generic cell rate algorithm): the
 * time at which the bucket would be full again. N requests per window W allow a burst of N,
 * then one every W/N.
 */
export interface RateBucket {
  /** ms since the epoch; the bucket is full at and after this time. */
  tat: number;
}

export interface UsageState {
  /** The plain request rate of this subject. */
  rate?: RateBucket;
  /** A limit imposed after repeated blocks: requests per minute until a time. */
  limited?: { until: number; perMinute: number; bucket?: RateBucket };
  /** A suspension; `until` null lasts until an operator lifts it. */
  suspended?: { until: number | null };
  /** A minor's use on one Beijing day: requests, and time of sessions already closed. */
  day?: { day: string; requests: number; closedMs: number };
  /** A minor's current session of continuous use and the reminders it has reached. */
  session?: { start: number; last: number; reminders: number };
  /** Times of recent blocked requests (the longest step window, the largest step count). */
  blocks?: number[];
  /** When each abuse step last fired, by step index. */
  fired?: Record<string, number>;
}

export interface RateRule {
  requests: number;
  windowMs: number;
}

export interface MinorRules {
  dailyRequests?: number;
  dailyMs?: number;
  /** 0: no reminders. */
  reminderMs: number;
  idleMs: number;
}

export interface AbuseStep {
  blocks: number;
  windowMs: number;
  action: 'warn' | 'limit' | 'suspend';
  /** Duration of a limit or suspension; undefined: a suspension until lifted. */
  durationMs?: number;
  requestsPerMinute: number;
}

/** Why a request is refused, and when it may be retried (ms from now). */
export type Refusal =
  | { kind: 'suspended'; until: number | null }
  | { kind: 'limited'; retryAfterMs: number; perMinute: number; until: number }
  | { kind: 'rate'; retryAfterMs: number }
  | { kind: 'daily-requests' | 'daily-minutes'; retryAfterMs: number };

/** What a subject is checked against on a request. */
export interface SubjectRules {
  rate?: RateRule;
  /** Set for a minor's user subject. */
  minor?: MinorRules;
}

const MINUTE = 60_000;
const CHINA_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

export function parseUsageState(text: string | undefined): UsageState {
  return text === undefined ? {} : (JSON.parse(text) as UsageState);
}

/** Midnight, Beijing time, of the day `at` falls on (Minors Regulations: daily limits by calendar day in China). */
export function beijingMidnight(at: number): number {
  return Math.floor((at + CHINA_OFFSET_MS) / DAY_MS) * DAY_MS - CHINA_OFFSET_MS;
}

/** The last day computed: every request of a day asks for the same one. */
let lastDay = { index: Number.NaN, text: '' };

export function beijingDay(at: number): string {
  const index = Math.floor((at + CHINA_OFFSET_MS) / DAY_MS);
  if (index !== lastDay.index) lastDay = { index, text: new Date(index * DAY_MS).toISOString().slice(0, 10) };
  return lastDay.text;
}

/** Milliseconds until one more request fits the rate (0: it fits now). */
export function rateWait(bucket: RateBucket | undefined, now: number, rule: RateRule): number {
  const interval = rule.windowMs / rule.requests;
  const tat = Math.max(bucket?.tat ?? now, now);
  return Math.max(0, Math.ceil(tat + interval - now - rule.windowMs));
}

/** Where a rate stands, as OpenAI's `x-ratelimit-*-requests` headers tell a client. */
export interface RateStatus {
  /** Requests allowed per window. */
  limit: number;
  /** Requests that would be admitted now, one after the other. */
  remaining: number;
  /** Milliseconds until the bucket is full again (the limit back to its start). */
  resetMs: number;
}

/** The rate's status at `now`: how many requests fit now (those `rateWait` admits at once) and when it is full again. */
export function rateStatus(bucket: RateBucket | undefined, now: number, rule: RateRule): RateStatus {
  const interval = rule.windowMs / rule.requests;
  const tat = Math.max(bucket?.tat ?? now, now);
  const remaining = Math.max(0, Math.min(rule.requests, Math.floor((now + rule.windowMs - tat) / interval)));
  return { limit: rule.requests, remaining, resetMs: Math.max(0, Math.ceil(tat - now)) };
}

/** Of several rates, the one a client meets first: the fewest requests remaining, then the longest reset. */
export function tightestRate(statuses: readonly RateStatus[]): RateStatus | undefined {
  let tightest: RateStatus | undefined;
  for (const s of statuses) if (!tightest || s.remaining < tightest.remaining || (s.remaining === tightest.remaining && s.resetMs > tightest.resetMs)) tightest = s;
  return tightest;
}

/**
 * A duration as OpenAI's `x-ratelimit-reset-*` headers write it (Go's duration format): `0s`,
 * `250ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s`; milliseconds are the finest unit.
 */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const millis = total % 60_000;
  const seconds = `${Math.floor(millis / 1000)}${millis % 1000 === 0 ? '' : `.${String(millis % 1000).padStart(3, '0').replace(/0+$/, '')}`}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

/** The bucket after a request at `now` (which may be older than requests already counted). */
function counted(bucket: RateBucket | undefined, now: number, rule: RateRule): RateBucket {
  return { tat: Math.max(bucket?.tat ?? now, now) + rule.windowMs / rule.requests };
}

/** A minor's time of use today at `now`, counting the current session up to `now` when it goes on. */
export function usedTodayMs(state: UsageState, now: number, idleMs: number): number {
  const midnight = beijingMidnight(now);
  const closed = state.day?.day === beijingDay(now) ? state.day.closedMs : 0;
  const s = state.session;
  if (!s) return closed;
  const end = now - s.last <= idleMs ? Math.max(now, s.last) : s.last;
  return closed + Math.max(0, end - Math.max(s.start, midnight));
}

/** The sanction in force that refuses a request at `now`, if any. */
function sanctionRefusal(state: UsageState, now: number): Refusal | undefined {
  const s = state.suspended;
  if (s && (s.until === null || s.until > now)) return { kind: 'suspended', until: s.until };
  const l = state.limited;
  if (l && l.until > now) {
    const wait = rateWait(l.bucket, now, { requests: l.perMinute, windowMs: MINUTE });
    if (wait > 0) return { kind: 'limited', retryAfterMs: wait, perMinute: l.perMinute, until: l.until };
  }
  return undefined;
}

/** Why a request at `now` is refused under `rules`, or undefined when it may go ahead. */
export function checkRequest(state: UsageState, now: number, rules: SubjectRules): Refusal | undefined {
  const sanction = sanctionRefusal(state, now);
  if (sanction) return sanction;
  const minor = rules.minor;
  if (minor) {
    const untilMidnight = beijingMidnight(now) + DAY_MS - now;
    const today = state.day?.day === beijingDay(now) ? state.day.requests : 0;
    if (minor.dailyRequests !== undefined && today >= minor.dailyRequests) return { kind: 'daily-requests', retryAfterMs: untilMidnight };
    if (minor.dailyMs !== undefined && usedTodayMs(state, now, minor.idleMs) >= minor.dailyMs) return { kind: 'daily-minutes', retryAfterMs: untilMidnight };
  }
  if (rules.rate) {
    const wait = rateWait(state.rate, now, rules.rate);
    if (wait > 0) return { kind: 'rate', retryAfterMs: wait };
  }
  return undefined;
}

/**
 * Counts a request made at `now` (which need not be the latest: replicas report theirs in
 * batches). Returns, for a minor, the continuous use of the session so far and whether it just
 * reached a new reminder.
 */
export function applyRequest(state: UsageState, now: number, rules: SubjectRules): { remind: boolean; continuousMs: number } {
  if (rules.rate) state.rate = counted(state.rate, now, rules.rate);
  const limited = state.limited;
  if (limited && limited.until > now) limited.bucket = counted(limited.bucket, now, { requests: limited.perMinute, windowMs: MINUTE });
  const minor = rules.minor;
  if (!minor) return { remind: false, continuousMs: 0 };
  const day = beijingDay(now);
  const midnight = beijingMidnight(now);
  if (!state.day || state.day.day < day) state.day = { day, requests: 0, closedMs: 0 };
  if (state.day.day === day) state.day.requests++;
  const s = state.session;
  if (!s || now - s.last > minor.idleMs) {
    // A pause longer than the idle gap ends the session; its time today is kept.
    if (s && s.last >= midnight && state.day.day === day) state.day.closedMs += s.last - Math.max(s.start, midnight);
    state.session = { start: now, last: now, reminders: 0 };
    return { remind: false, continuousMs: 0 };
  }
  if (now < s.start) return { remind: false, continuousMs: s.last - s.start };
  s.last = Math.max(s.last, now);
  const continuousMs = s.last - s.start;
  if (minor.reminderMs <= 0) return { remind: false, continuousMs };
  const due = Math.floor(continuousMs / minor.reminderMs);
  if (due <= s.reminders) return { remind: false, continuousMs };
  s.reminders = due;
  return { remind: true, continuousMs };
}

const SEVERITY = { warn: 0, limit: 1, suspend: 2 } as const;

/** What a blocked request led to. */
export interface FiredStep {
  step: AbuseStep;
  /** Blocks counted within the step's window. */
  blocks: number;
  /** When the limit or suspension ends; null for a warning or "until lifted". */
  until: number | null;
}

/**
 * Counts a blocked request at `now` and takes the strongest abuse step it completes: each step
 * fires once per its window (AI Measures Art. 14: warn, limit or suspend the user).
 */
export function applyBlock(state: UsageState, now: number, steps: readonly AbuseStep[]): FiredStep | undefined {
  if (steps.length === 0) return undefined;
  const longest = Math.max(...steps.map((s) => s.windowMs));
  const most = Math.max(...steps.map((s) => s.blocks));
  state.blocks = [...(state.blocks ?? []).filter((t) => t > now - longest), now].sort((a, b) => a - b).slice(-most);
  const fired = { ...state.fired };
  for (const [key, at] of Object.entries(fired)) {
    const step = steps[Number(key)];
    if (!step || at <= now - step.windowMs) delete fired[key];
  }
  let best: { index: number; step: AbuseStep; blocks: number } | undefined;
  steps.forEach((step, index) => {
    const blocks = state.blocks?.filter((t) => t > now - step.windowMs).length ?? 0;
    if (blocks < step.blocks || fired[index] !== undefined) return;
    fired[index] = now;
    if (!best || SEVERITY[step.action] > SEVERITY[best.step.action]) best = { index, step, blocks };
  });
  state.fired = fired;
  if (!best) return undefined;
  const { step, blocks } = best;
  const until = step.action === 'warn' ? null : step.durationMs === undefined ? null : now + step.durationMs;
  if (step.action === 'limit' && until !== null) state.limited = { until, perMinute: step.requestsPerMinute };
  if (step.action === 'suspend') state.suspended = { until };
  return { step, blocks, until };
}

/** An operator lifts every limit and suspension, and the count of blocks starts again. */
export function liftSanctions(state: UsageState): void {
  delete state.limited;
  delete state.suspended;
  delete state.blocks;
  delete state.fired;
}
