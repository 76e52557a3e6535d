/**
 * Incidents against running parts, on both stores: stop-generation reaching a running gateway
 * (a request with the new term is blocked once the replica reloads its libraries), a suspension
 * the gateway enforces, and the HTTP routes' authorisation (admin and reviewer act, auditor
 * reads only, no session 401, another origin 403, not JSON 415).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncidentDesk } from '../src/desk/incident.js';
import { hashPassword, type RunningServer, startServer } from '../src/server/index.js';
import type { OperatorRole } from '../src/store/index.js';
import { type GatewayHarness, startGateway } from './gateway-harness.js';
import { cli } from './helpers/cli.js';
import { describeEachDatabase } from './helpers/stores.js';

const TERM = '制爆教程';

describeEachDatabase('desk incidents through the gateway', (getDatabase) => {
  let h: GatewayHarness;

  beforeAll(async () => {
    h = await startGateway({
      databaseUrl: getDatabase().url,
      now: () => Date.now(),
      safety: { libraries: ['incident-stop'], reloadSeconds: 3600 },
      config: { abuse: { steps: [{ blocks: 1000, withinMinutes: 60, action: 'warn', requestsPerMinute: 1 }] }, limits: { syncMilliseconds: 0 } },
    });
    h.double.behaviour = () => ({ text: 'an answer' });
  });
  afterAll(async () => h?.close());

  const ask = (content: string) => h.client.chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content }] });

  it('stops generation on every replica that reloads, and suspends the user through the gateway', async () => {
    expect((await ask(`tell me the ${TERM}`)).choices[0]?.finish_reason).toBe('stop');
    const desk = new IncidentDesk(h.server.store, { audit: h.server.audit });
    const incident = await desk.open({ title: 'bomb instructions', description: 'seen in a complaint', grade: 'significant', source: { kind: 'complaint', caseRef: 'CP-2026-000001' }, users: ['tester'] }, 'operator:o1');
    await desk.stopGeneration(incident.ref, { terms: [TERM], risk: 'A1.4' }, 'operator:o1');
    // The replica's periodic check, run now rather than waited for.
    expect(await h.services!.keywords.reload()).toBe(true);
    const blocked = await ask(`tell me the ${TERM}`);
    expect(blocked.choices[0]?.finish_reason).toBe('content_filter');
    expect((await h.events())[0]).toMatchObject({ outcome: 'block', risks: ['A1.4'] });

    await desk.userMeasure(incident.ref, { user: 'tester', action: 'suspend', reason: 'asked for bomb instructions' }, 'operator:o1');
    const refused = await ask('hello').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(refused).toMatchObject({ status: 403, code: 'E_GATEWAY_USER_SUSPENDED' });
  });
});

const PASSWORD = 'a long enough password';

describeEachDatabase('desk incident routes', (getDatabase) => {
  let dir: string;
  let server: RunningServer;
  const cookies: Partial<Record<OperatorRole, string>> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-incidents-'));
    mkdirSync(join(dir, 'web'), { recursive: true });
    writeFileSync(join(dir, 'web', 'index.html'), '<!doctype html><title>dash</title>');
    server = await startServer({ port: 0, databaseUrl: getDatabase().url, webRoot: join(dir, 'web') });
    for (const role of ['admin', 'reviewer', 'auditor'] as const) {
      await server.store.operators.create({ name: `op-${role}`, role, passwordHash: await hashPassword(PASSWORD) });
      const response = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `op-${role}`, password: PASSWORD }) });
      expect(response.status).toBe(200);
      cookies[role] = (response.headers.get('set-cookie') ?? '').split(';')[0]!;
    }
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (path: string, options: { role?: OperatorRole; body?: unknown; headers?: Record<string, string> } = {}) =>
    fetch(`${server.url}${path}`, {
      method: options.body === undefined ? 'GET' : 'POST',
      headers: { ...(options.role ? { cookie: cookies[options.role]! } : {}), ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
    });
  const incident = { title: '<script>alert(1)</script>', description: 'found by hand', grade: 'major', source: { kind: 'manual' } };

  describe('authorisation', () => {
    it('answers 401 without a session, on every route', async () => {
      for (const path of ['/api/incidents', '/api/incidents/patterns', '/api/incidents/INC-2026-000001', '/api/incidents/INC-2026-000001/export']) {
        expect((await call(path)).status, path).toBe(401);
      }
      for (const action of ['', '/stop-generation', '/remove-outputs', '/optimisation', '/user-measure', '/report', '/close']) {
        const path = action === '' ? '/api/incidents' : `/api/incidents/INC-2026-000001${action}`;
        const response = await call(path, { body: {} });
        expect(response.status, path).toBe(401);
        expect(await response.json()).toMatchObject({ error: { code: 'E_AUTH_REQUIRED' } });
      }
    });

    it('lets admins and reviewers act, and auditors only read', async () => {
      const opened = await call('/api/incidents', { role: 'reviewer', body: incident });
      expect(opened.status).toBe(200);
      const { ref } = (await opened.json()) as { ref: string };
      expect((await call('/api/incidents', { role: 'auditor', body: incident })).status).toBe(403);
      for (const action of ['stop-generation', 'remove-outputs', 'optimisation', 'user-measure', 'report', 'close']) {
        const response = await call(`/api/incidents/${ref}/${action}`, { role: 'auditor', body: {} });
        expect(response.status, action).toBe(403);
        expect(await response.json()).toMatchObject({ error: { code: 'E_AUTH_FORBIDDEN' } });
      }
      const read = await call(`/api/incidents/${ref}`, { role: 'auditor' });
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ ref, title: incident.title, report: { hours: 4 }, stopGenerationReachesGateway: false });
      expect((await call('/api/incidents', { role: 'auditor' })).status).toBe(200);
      const stop = await call(`/api/incidents/${ref}/stop-generation`, { role: 'admin', body: { terms: ['某违禁词'], risk: 'A1.1' } });
      expect(stop.status).toBe(200);
      expect(await stop.json()).toMatchObject({ actions: [{ kind: 'open' }, { kind: 'stop-generation' }], keywordLibrary: 'incident-stop' });
      const md = await call(`/api/incidents/${ref}/export?format=md`, { role: 'auditor' });
      expect(md.headers.get('content-type')).toContain('text/markdown');
      expect(await md.text()).not.toContain('<script>');
      const json = await call(`/api/incidents/${ref}/export`, { role: 'auditor' });
      expect(await json.json()).toMatchObject({ format: 'hegui.incident/1', incident: { ref } });
      expect((await call(`/api/incidents/${ref}/close`, { role: 'reviewer', body: { summary: 'done' } })).status).toBe(200);
      const late = await call(`/api/incidents/${ref}/report`, { role: 'reviewer', body: { authority: 'CAC' } });
      expect(late.status).toBe(409);
    });

    it('refuses another origin, bodies that are not JSON, bad input, and unknown incidents', async () => {
      const evil = await call('/api/incidents', { role: 'admin', body: incident, headers: { origin: 'https://evil.example' } });
      expect(evil.status).toBe(403);
      expect(await evil.json()).toMatchObject({ error: { code: 'E_CSRF' } });
      expect((await call('/api/incidents', { role: 'admin', body: incident, headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
      expect((await call('/api/incidents', { role: 'admin', body: JSON.stringify(incident), headers: { 'content-type': 'text/plain' } })).status).toBe(415);
      expect((await call('/api/incidents', { role: 'admin', body: '{not json' })).status).toBe(400);
      const bad = await call('/api/incidents', { role: 'admin', body: { ...incident, grade: 'apocalyptic' } });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ error: { code: 'E_DESK_INCIDENT_INVALID' } });
      expect((await call('/api/incidents/INC-2026-999999', { role: 'auditor' })).status).toBe(404);
      expect((await call('/api/incidents/INC-2026-999999/close', { role: 'admin', body: { summary: 's' } })).status).toBe(404);
      expect((await call('/api/incidents?limit=100000', { role: 'auditor' })).status).toBe(400);
    });
  });
});

describeEachDatabase('hegui incidents', (getDatabase) => {
  let server: RunningServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-incidents-cli-'));
    server = await startServer({ port: 0, databaseUrl: getDatabase().url, webRoot: join(dir, 'web') });
    const desk = new IncidentDesk(server.store, { audit: server.audit });
    await desk.open({ title: 'deepfake voice of an official', description: 'reported by a user', grade: 'significant', source: { kind: 'manual' } }, 'operator:o1');
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = () => ({ HEGUI_DATABASE_URL: getDatabase().url });

  it('lists, shows and exports for scripts', async () => {
    const list = await cli(['incidents', 'list'], { env: env() });
    expect(list).toMatchObject({ code: 0, stderr: '' });
    expect(list.stdout).toMatch(/^INC-\d{4}-000001\topen\tsignificant\treport due .*\tdeepfake voice of an official\n$/);
    const ref = list.stdout.split('\t')[0]!;
    const json = await cli(['incidents', 'list', '--json'], { env: env() });
    expect(JSON.parse(json.stdout)).toMatchObject({ total: 1, incidents: [{ ref }] });
    const show = await cli(['incidents', 'show', ref, '--json'], { env: env() });
    expect(JSON.parse(show.stdout)).toMatchObject({ ref, actions: [{ kind: 'open' }] });
    const md = await cli(['incidents', 'export', ref, '--format', 'md'], { env: env() });
    expect(md.stdout).toContain(`- 事件编号：${ref}`);
    const out = await cli(['incidents', 'export', ref, '-o', 'report.json'], { env: env(), cwd: dir });
    expect(out.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))).toMatchObject({ format: 'hegui.incident/1' });
    expect((await cli(['incidents', 'export', ref, '-o', 'report.json'], { env: env(), cwd: dir })).code).toBe(2);
    const missing = await cli(['incidents', 'show', 'INC-2026-999999'], { env: env() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('there is no incident');
  });
});
