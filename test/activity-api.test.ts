/**
 * `GET /api/activity` over real gateway traffic, on SQLite and PostgreSQL: the server runs the
 * gateway in front of the upstream double, and the test sends passes, blocks, a request with
 * personal data, and upstream 502s and 429s through it, then reads the operations report.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ActivityReport, bucketWidth, summarise } from '../src/server/routes/activity.js';
import { hashPassword } from '../src/server/index.js';
import { type GatewayHarness, KEYWORDS, startGateway } from './gateway-harness.js';
import { describeEachDatabase } from './helpers/stores.js';

const PASSWORD = 'activity password';
const chat = (content: string, model = 'double-chat'): Record<string, unknown> => ({ model, messages: [{ role: 'user', content }] });

describeEachDatabase('operations report over gateway traffic', (getDatabase) => {
  let h: GatewayHarness;
  let cookie: string;
  let started: Date;

  beforeAll(async () => {
    started = new Date();
    h = await startGateway({
      databaseUrl: getDatabase().url,
      upstream: { retries: 0 },
      // Two blocks within an hour warn the user: a sanction, counted apart from the risk hits.
      config: { abuse: { steps: [{ blocks: 2, withinMinutes: 60, action: 'warn' }] } },
    });
    await h.server.store.operators.create({ name: 'oncall', role: 'reviewer', passwordHash: await hashPassword(PASSWORD) });
    const signIn = await fetch(`${h.server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'oncall', password: PASSWORD }) });
    cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;

    h.double.behaviour = () => ({});
    for (const text of ['hello', 'hello again', 'and once more']) expect((await h.post('/v1/chat/completions', chat(text))).status).toBe(200);
    expect((await h.post('/v1/chat/completions', chat('hi', 'other-model'))).status).toBe(200);
    for (const text of [`how to ${KEYWORDS.en}`, `怎样${KEYWORDS.zh}`]) await (await h.post('/v1/chat/completions', chat(text))).text();
    await (await h.post('/v1/chat/completions', chat('call me at 13800138000, id 110101199003074571'))).text();
    h.double.behaviour = () => ({ status: 502 });
    expect((await h.post('/v1/chat/completions', chat('upstream down'))).status).toBe(502);
    h.double.behaviour = () => ({ status: 429, headers: { 'retry-after': '3' }, error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } });
    expect((await h.post('/v1/chat/completions', chat('upstream busy'))).status).toBe(429);
    h.double.behaviour = () => ({});
  }, 60_000);
  afterAll(async () => h?.close());

  const get = (query: string): Promise<Response> => fetch(`${h.server.url}/api/activity${query}`, { headers: { cookie } });

  it('counts requests, blocks, errors by status and upstream status, and latency percentiles', async () => {
    const response = await get('?minutes=60');
    expect(response.status).toBe(200);
    const report = (await response.json()) as ActivityReport;
    expect(report.totals.requests).toBe(9);
    expect(report.totals.byOutcome.block).toBe(2);
    expect(report.totals.byOutcome.error).toBe(2);
    expect(report.totals.byStatus['429']).toBe(1);
    expect(report.totals.byStatus['502']).toBe(1);
    expect(report.totals.byUpstreamStatus['429']).toBe(1);
    expect(report.totals.latencyMs.sample).toBe(9);
    const { p50, p90, p99 } = report.totals.latencyMs;
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(p90!);
    expect(p90).toBeLessThanOrEqual(p99!);
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    expect(sum(report.series.requests)).toBe(9);
    expect(sum(report.series.blocks)).toBe(2);
    expect(sum(report.series.errors)).toBe(2);
    expect(sum(report.series.byStatus['502']!)).toBe(1);
    expect(sum(report.series.byStatus['429']!)).toBe(1);
    expect(report.series.at).toHaveLength(report.series.requests.length);
    expect(report.bucketMs).toBe(60_000);
    expect(report.sampled).toBe(false);
    expect(Date.parse(report.generatedAt)).toBeGreaterThanOrEqual(started.getTime());
  });

  it('breaks requests down by model and by upstream', async () => {
    const report = (await (await get('?minutes=60')).json()) as ActivityReport;
    const models = Object.fromEntries(report.byModel.map((m) => [m.key, m]));
    expect(models['double-chat']!.requests).toBe(8);
    expect(models['double-chat']!.blocks).toBe(2);
    expect(models['double-chat']!.statuses).toEqual({ '429': 1, '502': 1 });
    expect(models['other-model']!.requests).toBe(1);
    const upstream = report.byUpstream.find((u) => u.key === 'double')!;
    expect(upstream.upstreamStatuses['429']).toBe(1);
  });

  it('counts risk hits of requests, personal data among them, and sanctions apart', async () => {
    const report = (await (await get('?minutes=60')).json()) as ActivityReport;
    const hits = (risk: string): number => report.risks.filter((r) => r.risk === risk).reduce((n, r) => n + r.count, 0);
    expect(hits('A1.6')).toBe(1);
    expect(hits('A1.4')).toBe(1);
    expect(hits('A4.6')).toBe(1);
    // The warning after the second block is a sanction: it carries the block's risks, but it
    // is not one more risk hit.
    expect(report.sanctions).toEqual({ total: 1, byAction: { warn: 1 } });
    const sanctions = (await h.server.audit.list({ type: 'user.sanction' })).events;
    expect(sanctions).toHaveLength(1);
    expect(sanctions[0]!.risks.length).toBeGreaterThan(0);
  });

  it('lists the recent blocks with their request ids, as the audit log holds them', async () => {
    const report = (await (await get('?minutes=60')).json()) as ActivityReport;
    expect(report.recentBlocks).toHaveLength(2);
    const events = (await h.server.audit.list({ type: 'gateway.request', outcome: 'block' })).events;
    expect(report.recentBlocks.map((b) => b.requestId)).toEqual(events.map((e) => e.payload.requestId));
    expect(report.recentBlocks[0]!.risks).toEqual(events[0]!.risks);
  });

  it('takes a free range in Beijing time, and an empty range before the traffic is empty', async () => {
    const beijing = (d: Date): string => new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 16);
    const from = new Date(started.getTime() - 5 * 60_000);
    const to = new Date(Date.now() + 60_000);
    const report = (await (await get(`?from=${beijing(from)}&to=${beijing(to)}`)).json()) as ActivityReport;
    expect(report.totals.requests).toBe(9);
    expect(report.from).toBe(new Date(`${beijing(from)}:00+08:00`).toISOString());
    const before = (await (await get(`?from=${encodeURIComponent('2020-01-01T00:00:00Z')}&to=${encodeURIComponent('2020-01-02T00:00:00Z')}`)).json()) as ActivityReport;
    expect(before.totals.requests).toBe(0);
    expect(before.series.requests.every((n) => n === 0)).toBe(true);
    expect(before.bucketMs).toBe(15 * 60_000);
    expect(before.recentBlocks).toEqual([]);
    expect(before.totals.latencyMs).toEqual({ p50: null, p90: null, p99: null, sample: 0 });
  });

  it('names the service profile by its file name, never by its path on the server', async () => {
    for (const path of ['/api/obligations', '/api/profile']) {
      const body = (await (await fetch(`${h.server.url}${path}`, { headers: { cookie } })).json()) as { source?: string; profile?: { source?: string } };
      const source = (path === '/api/profile' ? body.source : body.profile?.source) ?? '';
      expect(source, path).toMatch(/\.ya?ml$/);
      expect(source, path).not.toMatch(/[/\\]/);
    }
  });

  it('refuses bad ranges with typed errors, and strangers with 401', async () => {
    for (const [query, code] of [
      ['?from=yesterday', 'E_ACTIVITY_QUERY'],
      ['?minutes=0', 'E_ACTIVITY_QUERY'],
      ['?minutes=1.5', 'E_ACTIVITY_QUERY'],
      ['?from=2026-01-02T00:00Z&to=2026-01-01T00:00Z', 'E_ACTIVITY_RANGE'],
      ['?from=2020-01-01T00:00Z&to=2026-01-01T00:00Z', 'E_ACTIVITY_RANGE'],
      ['?minutes=5&from=2026-01-01T00:00Z', 'E_ACTIVITY_QUERY'],
    ] as const) {
      const response = await get(query);
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code, query).toBe(code);
    }
    const anonymous = await fetch(`${h.server.url}/api/activity`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'E_AUTH_REQUIRED' } });
  });
});

it('buckets a range on Beijing boundaries, at most about 120 buckets', () => {
  expect(bucketWidth(60 * 60_000)).toBe(60_000);
  expect(bucketWidth(24 * 3600_000)).toBe(15 * 60_000);
  expect(bucketWidth(30 * 86_400_000)).toBe(360 * 60_000);
  // A day bucket starts at midnight in Beijing (16:00 UTC the day before).
  const from = new Date('2026-11-01T16:00:00Z');
  const to = new Date('2026-12-31T16:00:00Z');
  const event = (at: string, status: number, latencyMs: number) => ({ seq: 1, at, type: 'gateway.request', actor: 'user:x', outcome: status >= 400 ? 'error' : 'pass', risks: [], payload: { status, latencyMs, model: 'm' }, hasContent: false, hash: '', redaction: null });
  const s = summarise([event('2026-11-02T15:59:59Z', 200, 1), event('2026-11-02T16:00:00Z', 502, 9)], from, to);
  expect(s.bucketMs).toBe(720 * 60_000);
  expect(s.series.at[0]).toBe('2026-11-01T16:00:00.000Z');
  expect(s.series.requests.slice(0, 4)).toEqual([0, 1, 1, 0]);
  expect(s.series.byStatus['502']!.slice(0, 4)).toEqual([0, 0, 1, 0]);
  expect(s.latencyMs).toEqual({ p50: 1, p90: 9, p99: 9, sample: 2 });
});
