/**
 * @module server/routes/activity
 * `GET /api/activity`: the operations view of the gateway over any time range. From the
 * `gateway.request` events of the audit log it builds a time series (requests, blocks, errors
 * by HTTP status, latency p50/p90/p99 per bucket), breakdowns by model and by upstream, the
 * HTTP and upstream statuses, risk hits (requests only) and, counted apart, the sanctions the
 * blocks led to (`user.sanction` events), and the most recent blocks with their request ids.
 *
 * Counts of requests, outcomes, risks and sanctions come from the store's exact counts; the
 * series, breakdowns and percentiles are read from at most `MAX_EVENTS` newest events of the
 * range, and the answer says when the range held more (`sampled`).
 */
import type { Hono } from 'hono';
import type { AuditEventView, AuditLog } from '../../audit/index.js';
import { InvalidInputError } from '../../errors.js';
import { requireOperator } from '../auth/sessions.js';
import type { AppDeps, AppEnv } from '../context.js';

/** Most request events read for the series, breakdowns and percentiles of one answer. */
export const MAX_EVENTS = 20_000;
/** Longest range one answer covers. */
export const MAX_RANGE_DAYS = 93;
/** Recent blocks listed. */
const RECENT_BLOCKS = 20;
const MINUTE = 60_000;
/** Bucket widths to choose from, so that a range has at most about `TARGET_BUCKETS` of them. */
const BUCKETS_MS = [1, 5, 10, 15, 30, 60, 180, 360, 720, 1440].map((m) => m * MINUTE);
const TARGET_BUCKETS = 120;
/** Buckets start on Beijing time boundaries (UTC+8 all year), so a day bucket is a Beijing day. */
const BEIJING_OFFSET_MS = 8 * 60 * MINUTE;

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface ActivitySeries {
  /** Bucket start times (ISO 8601 UTC). */
  at: string[];
  requests: number[];
  blocks: number[];
  /** Requests answered with an error status (>= 400), all statuses together. */
  errors: number[];
  /** Requests per HTTP status the gateway answered with, for each status >= 400 seen. */
  byStatus: Record<string, number[]>;
  p50: (number | null)[];
  p90: (number | null)[];
  p99: (number | null)[];
}

export interface ActivityBreakdown {
  key: string | null;
  requests: number;
  blocks: number;
  errors: number;
  /** HTTP statuses >= 400 the gateway answered with, and upstream statuses >= 400 it received. */
  statuses: Record<string, number>;
  upstreamStatuses: Record<string, number>;
  latencyMs: Percentiles;
}

export interface ActivityReport {
  from: string;
  to: string;
  generatedAt: string;
  bucketMs: number;
  /** True when the range held more than `MAX_EVENTS` requests: series and breakdowns cover the newest ones. */
  sampled: boolean;
  /** Request events read for the series, breakdowns and percentiles. */
  read: number;
  totals: {
    /** Exact counts from the store. */
    requests: number;
    byOutcome: Record<string, number>;
    /** From the events read. */
    byStatus: Record<string, number>;
    byUpstreamStatus: Record<string, number>;
    latencyMs: Percentiles & { sample: number };
  };
  series: ActivitySeries;
  byModel: ActivityBreakdown[];
  byUpstream: ActivityBreakdown[];
  /** Risk hits of requests only, by outcome (sanctions are not risk hits). */
  risks: { risk: string; outcome: string | null; count: number }[];
  /** Sanctions (`user.sanction` events) by action: warn, limit, suspend, lift. */
  sanctions: { total: number; byAction: Record<string, number> };
  recentBlocks: { seq: number; at: string; actor: string; requestId: string | null; model: string | null; endpoint: string | null; risks: string[]; status: number | null }[];
}

function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: null, p90: null, p99: null };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: at(50), p90: at(90), p99: at(99) };
}

/** The bucket width for a range: the narrowest that keeps it to about `TARGET_BUCKETS` buckets. */
export function bucketWidth(rangeMs: number): number {
  return BUCKETS_MS.find((b) => rangeMs / b <= TARGET_BUCKETS) ?? BUCKETS_MS.at(-1)!;
}

function bucketStart(ms: number, width: number): number {
  return Math.floor((ms + BEIJING_OFFSET_MS) / width) * width - BEIJING_OFFSET_MS;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const bump = (record: Record<string, number>, key: string, by = 1): void => {
  record[key] = (record[key] ?? 0) + by;
};

/** Series, breakdowns and percentiles of `events` (gateway.request views) over `[from, to)`. */
export function summarise(events: readonly AuditEventView[], from: Date, to: Date) {
  const width = bucketWidth(to.getTime() - from.getTime());
  const first = bucketStart(from.getTime(), width);
  const count = Math.max(1, Math.ceil((to.getTime() - first) / width));
  const zeros = (): number[] => Array.from({ length: count }, () => 0);
  const series = { at: Array.from({ length: count }, (_, i) => new Date(first + i * width).toISOString()), requests: zeros(), blocks: zeros(), errors: zeros(), byStatus: {} as Record<string, number[]> };
  const latencies: number[][] = Array.from({ length: count }, () => []);
  const all: number[] = [];
  const byStatus: Record<string, number> = {};
  const byUpstreamStatus: Record<string, number> = {};
  const groups = { model: new Map<string | null, ActivityBreakdown & { samples: number[] }>(), upstream: new Map<string | null, ActivityBreakdown & { samples: number[] }>() };
  for (const event of events) {
    const ms = Date.parse(event.at);
    const i = Math.floor((ms - first) / width);
    if (i < 0 || i >= count) continue;
    const status = num(event.payload.status);
    const upstreamStatus = num(event.payload.upstreamStatus);
    const latency = num(event.payload.latencyMs);
    const blocked = event.outcome === 'block';
    const failed = status !== null && status >= 400;
    series.requests[i]!++;
    if (blocked) series.blocks[i]!++;
    if (failed) {
      series.errors[i]!++;
      (series.byStatus[String(status)] ??= zeros())[i]!++;
    }
    if (status !== null) bump(byStatus, String(status));
    if (upstreamStatus !== null) bump(byUpstreamStatus, String(upstreamStatus));
    if (latency !== null) {
      latencies[i]!.push(latency);
      all.push(latency);
    }
    for (const [kind, key] of [['model', str(event.payload.model)], ['upstream', str(event.payload.upstream)]] as const) {
      let group = groups[kind].get(key);
      if (!group) groups[kind].set(key, (group = { key, requests: 0, blocks: 0, errors: 0, statuses: {}, upstreamStatuses: {}, latencyMs: percentiles([]), samples: [] }));
      group.requests++;
      if (blocked) group.blocks++;
      if (failed) {
        group.errors++;
        bump(group.statuses, String(status));
      }
      if (upstreamStatus !== null && upstreamStatus >= 400) bump(group.upstreamStatuses, String(upstreamStatus));
      if (latency !== null) group.samples.push(latency);
    }
  }
  const perBucket = latencies.map(percentiles);
  const breakdown = (map: Map<string | null, ActivityBreakdown & { samples: number[] }>): ActivityBreakdown[] =>
    [...map.values()]
      .map(({ samples, ...group }) => ({ ...group, latencyMs: percentiles(samples) }))
      .sort((a, b) => b.requests - a.requests || String(a.key).localeCompare(String(b.key)));
  return {
    bucketMs: width,
    series: { ...series, p50: perBucket.map((p) => p.p50), p90: perBucket.map((p) => p.p90), p99: perBucket.map((p) => p.p99) } satisfies ActivitySeries,
    byStatus,
    byUpstreamStatus,
    latencyMs: { ...percentiles(all), sample: all.length },
    byModel: breakdown(groups.model),
    byUpstream: breakdown(groups.upstream),
  };
}

/** The operations report for `[from, to)`. */
export async function activityReport(audit: AuditLog, from: Date, to: Date, now: Date): Promise<ActivityReport> {
  const events: AuditEventView[] = [];
  let cursor: string | null = null;
  let sampled = false;
  do {
    const page = await audit.list({ from, to, type: 'gateway.request', limit: 500, cursor });
    events.push(...page.events);
    cursor = page.nextCursor;
    if (cursor !== null && events.length >= MAX_EVENTS) sampled = true;
  } while (cursor !== null && !sampled);
  const [all, requests, blocks] = await Promise.all([
    audit.counts({ from, to }),
    audit.counts({ from, to, type: 'gateway.request' }),
    audit.list({ from, to, type: 'gateway.request', outcome: 'block', limit: RECENT_BLOCKS }),
  ]);
  const byOutcome: Record<string, number> = {};
  for (const row of requests.byType) bump(byOutcome, row.outcome ?? 'none', row.count);
  const byAction: Record<string, number> = {};
  for (const row of all.byType) if (row.type === 'user.sanction') bump(byAction, row.outcome ?? 'none', row.count);
  const s = summarise(events, from, to);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    generatedAt: now.toISOString(),
    bucketMs: s.bucketMs,
    sampled,
    read: events.length,
    totals: { requests: requests.total, byOutcome, byStatus: s.byStatus, byUpstreamStatus: s.byUpstreamStatus, latencyMs: s.latencyMs },
    series: s.series,
    byModel: s.byModel,
    byUpstream: s.byUpstream,
    risks: requests.byRisk,
    sanctions: { total: Object.values(byAction).reduce((a, b) => a + b, 0), byAction },
    recentBlocks: blocks.events.map((e) => ({
      seq: e.seq,
      at: e.at,
      actor: e.actor,
      requestId: str(e.payload.requestId),
      model: str(e.payload.model),
      endpoint: str(e.payload.endpoint),
      risks: e.risks,
      status: num(e.payload.status),
    })),
  };
}

function instant(value: string | undefined, name: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  // A time without a zone is Beijing time, the time the dashboard shows.
  const zoned = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? `${value}+08:00` : value;
  const date = /^\d{4}-\d{2}-\d{2}T/.test(zoned) ? new Date(zoned) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new InvalidInputError('E_ACTIVITY_QUERY', `${name} "${value}" is not a time (use ISO 8601, e.g. 2026-12-04T09:00+08:00)`);
  return date;
}

/** The range `?from=&to=` or `?minutes=` asks for (default: the last 60 minutes). @throws InvalidInputError */
export function activityRange(query: (name: string) => string | undefined, now: Date): { from: Date; to: Date } {
  const minutes = query('minutes');
  const to = instant(query('to'), 'to') ?? now;
  let from = instant(query('from'), 'from');
  if (minutes !== undefined && minutes !== '') {
    const m = Number(minutes);
    if (!Number.isInteger(m) || m < 1 || m > MAX_RANGE_DAYS * 1440) throw new InvalidInputError('E_ACTIVITY_QUERY', `minutes is a whole number from 1 to ${MAX_RANGE_DAYS * 1440}`);
    if (from) throw new InvalidInputError('E_ACTIVITY_QUERY', 'give either minutes or from, not both');
    from = new Date(to.getTime() - m * MINUTE);
  }
  from ??= new Date(to.getTime() - 60 * MINUTE);
  if (from.getTime() >= to.getTime()) throw new InvalidInputError('E_ACTIVITY_RANGE', `the range is empty: from ${from.toISOString()} is not before to ${to.toISOString()}`);
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * 1440 * MINUTE) throw new InvalidInputError('E_ACTIVITY_RANGE', `the range is longer than ${MAX_RANGE_DAYS} days; choose a shorter one`);
  return { from, to };
}

export function mountActivityRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const audit = deps.audit;
  if (!audit) return;
  app.get('/api/activity', requireOperator(deps), async (c) => {
    const now = deps.now?.() ?? new Date();
    const { from, to } = activityRange((name) => c.req.query(name), now);
    return c.json(await activityReport(audit, from, to, now));
  });
}
