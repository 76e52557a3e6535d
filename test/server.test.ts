/**
 * The HTTP service over real HTTP, on every store dialect under test: health, sign-in and its
 * throttling, the first admin, sessions and passwords, access control, the tracker API, and
 * the limits at its edge. Every test makes the operators it signs in with.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/index.js';
import { loadInstruments, parseServiceProfile } from '../src/rules/index.js';
import { createApp, defaultProfile, hashPassword, isLoopback, passwords, type RunningServer, startServer } from '../src/server/index.js';
import { openStore, type OperatorRole, type Store } from '../src/store/index.js';
import { cli } from './helpers/cli.js';
import { postStream, residentBytes, streamedBody } from './helpers/http.js';
import { describeEachDatabase, type TestDatabase } from './helpers/stores.js';

const PASSWORD = 'a long enough password';
const json = { 'content-type': 'application/json' };

/** Signs in over HTTP; the raw response. */
function postSession(url: string, name: string, password: string): Promise<Response> {
  return fetch(`${url}/api/session`, { method: 'POST', headers: json, body: JSON.stringify({ name, password }) });
}

/** Signs in and returns the session cookie (`hegui_session=...`). */
async function signIn(url: string, name: string, password = PASSWORD): Promise<string> {
  const response = await postSession(url, name, password);
  expect(response.status, `sign-in of ${name}`).toBe(200);
  return (response.headers.get('set-cookie') ?? '').split(';')[0]!;
}

/** An operator in the store, with a password. */
async function addOperator(store: Store, name: string, role: OperatorRole = 'reviewer', password = PASSWORD): Promise<string> {
  return (await store.operators.create({ name, role, passwordHash: await hashPassword(password) })).id;
}

describeEachDatabase('hegui serve', (getDatabase: () => TestDatabase) => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-server-'));
    const webRoot = join(dir, 'web');
    mkdirSync(join(webRoot, 'assets'), { recursive: true });
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>dash</title>');
    writeFileSync(join(webRoot, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'do not serve');
    server = await startServer({ port: 0, databaseUrl: getDatabase().url, webRoot });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, cookie?: string) => fetch(`${server.url}${path}`, { headers: cookie ? { cookie } : {} });

  it('listens on loopback and answers /healthz without login', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await get('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', database: { dialect: getDatabase().dialect, status: 'ok' } });
  });

  it('keeps the API closed without a session', async () => {
    for (const path of ['/api/obligations', '/api/rules', '/api/profile', '/api/session']) {
      const response = await get(path);
      expect(response.status, path).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'E_AUTH_REQUIRED' } });
    }
    expect((await get('/api/obligations', 'hegui_session=forged')).status).toBe(401);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array([0x89, 0x50])]), 'x.png');
    expect((await fetch(`${server.url}/api/labels/inspect`, { method: 'POST', body: form })).status).toBe(401);
  });

  it('signs in an operator created from the CLI, with a strict, HttpOnly cookie, and refuses a wrong password', async () => {
    const created = await cli(['operators', 'add', 'rita', '--role', 'reviewer', '--password-stdin'], { stdin: `${PASSWORD}\n`, env: { HEGUI_DATABASE_URL: getDatabase().url } });
    expect(created.code).toBe(0);
    const wrong = await postSession(server.url, 'rita', 'nope');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 'E_AUTH_FAILED' } });
    const garbage = await fetch(`${server.url}/api/session`, { method: 'POST', headers: json, body: '{"name":' });
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toMatchObject({ error: { code: 'E_AUTH_BAD_REQUEST' } });
    const response = await postSession(server.url, 'rita', PASSWORD);
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^hegui_session=[\w-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie.split(';')[0]!;
    const me = await get('/api/session', cookie);
    expect(await me.json()).toEqual({ operator: expect.objectContaining({ name: 'rita', role: 'reviewer', hasPassword: true }) });
  });

  it('records sign-ins and failures in the audit log, without the password', async () => {
    const id = await addOperator(server.store, 'olga');
    await signIn(server.url, 'olga');
    expect((await postSession(server.url, 'olga', 'not her password')).status).toBe(401);
    expect((await postSession(server.url, 'nobody-here', 'whatever password')).status).toBe(401);
    await server.audit.flush();
    const events = (await server.audit.list({ type: 'operator.login', limit: 50 })).events;
    const mine = events.filter((e) => e.actor === `operator:${id}`);
    expect(mine.map((e) => e.outcome)).toEqual(['fail', 'pass']);
    expect(mine[1]?.payload).toMatchObject({ method: 'password', address: expect.stringMatching(/127\.0\.0\.1/) });
    const unknown = events.find((e) => e.payload.name === 'nobody-here');
    expect(unknown).toMatchObject({ actor: 'system:server', outcome: 'fail' });
    expect(JSON.stringify(events)).not.toContain('whatever password');
    expect(JSON.stringify(events)).not.toContain('not her password');
  });

  it('does the same password work for an unknown name, a disabled operator and a wrong password', async () => {
    await addOperator(server.store, 'gone');
    await server.store.operators.disable((await server.store.operators.findByName('gone'))!.id);
    await addOperator(server.store, 'here');
    for (const [name, password] of [['no-such-operator', 'some password 1'], ['gone', PASSWORD], ['here', 'wrong password 1']] as const) {
      const before = passwords.completed;
      const response = await postSession(server.url, name, password);
      expect(response.status, name).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'E_AUTH_FAILED', message: 'wrong name or password' } });
      expect(passwords.completed - before, name).toBe(1);
    }
  });

  it('serves the obligations of the configured profile on a date, and rejects a bad date', async () => {
    await addOperator(server.store, 'tara');
    const cookie = await signIn(server.url, 'tara');
    const response = await get('/api/obligations?on=2025-08-31', cookie);
    const body = (await response.json()) as { date: string; upcoming: { instrument: string }[]; instruments: { id: string; status: string }[] };
    expect(body.date).toBe('2025-08-31');
    expect(body.upcoming.some((u) => u.instrument === 'labeling-measures')).toBe(true);
    expect(body.instruments.find((i) => i.id === 'labeling-measures')?.status).toBe('promulgated-not-yet-in-force');
    const bad = await get('/api/obligations?on=2025-13-01', cookie);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'E_DATE_INVALID' } });
  });

  it('ends a session on sign-out', async () => {
    await addOperator(server.store, 'sam');
    const cookie = await signIn(server.url, 'sam');
    const out = await fetch(`${server.url}/api/session`, { method: 'DELETE', headers: { cookie } });
    expect(out.status).toBe(204);
    expect((await get('/api/session', cookie)).status).toBe(401);
  });

  it('a disabled operator loses access at once', async () => {
    await cli(['operators', 'add', 'temp', '--role', 'auditor', '--password-stdin'], { stdin: 'another long password\n', env: { HEGUI_DATABASE_URL: getDatabase().url } });
    const cookie = await signIn(server.url, 'temp', 'another long password');
    await cli(['operators', 'disable', 'temp'], { env: { HEGUI_DATABASE_URL: getDatabase().url } });
    expect((await get('/api/profile', cookie)).status).toBe(401);
  });

  it('changes a password only with the current one, ends the other sessions, and records it', async () => {
    const id = await addOperator(server.store, 'paula');
    const mine = await signIn(server.url, 'paula');
    const other = await signIn(server.url, 'paula');
    const change = (body: unknown) => fetch(`${server.url}/api/session/password`, { method: 'PUT', headers: { ...json, cookie: mine }, body: JSON.stringify(body) });
    const missing = await change({ password: 'a new long password' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { code: 'E_AUTH_CURRENT_PASSWORD' } });
    const wrong = await change({ currentPassword: 'not the password', password: 'a new long password' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 'E_AUTH_FAILED' } });
    const weak = await change({ currentPassword: PASSWORD, password: 'short' });
    expect(await weak.json()).toMatchObject({ error: { code: 'E_AUTH_WEAK_PASSWORD' } });
    expect((await change({ currentPassword: PASSWORD, password: 'a new long password' })).status).toBe(204);
    expect((await get('/api/session', mine)).status).toBe(200);
    expect((await get('/api/session', other)).status).toBe(401);
    expect((await postSession(server.url, 'paula', PASSWORD)).status).toBe(401);
    await signIn(server.url, 'paula', 'a new long password');
    await server.audit.flush();
    const [changed] = (await server.audit.list({ type: 'operator.password', actor: `operator:${id}`, limit: 5 })).events;
    expect(changed).toMatchObject({ outcome: 'changed', payload: { sessionsEnded: 1 } });
  });

  it('a password reset from the CLI ends the operator\'s sessions and is recorded', async () => {
    const id = await addOperator(server.store, 'reset-me');
    const cookie = await signIn(server.url, 'reset-me');
    const reset = await cli(['operators', 'passwd', 'reset-me', '--password-stdin'], { stdin: 'a brand new password\n', env: { HEGUI_DATABASE_URL: getDatabase().url } });
    expect(reset).toMatchObject({ code: 0, stdout: 'password of "reset-me" changed\n' });
    expect((await get('/api/session', cookie)).status).toBe(401);
    await signIn(server.url, 'reset-me', 'a brand new password');
    const events = (await server.audit.list({ type: 'operator.password', actor: 'system:cli', limit: 50 })).events;
    expect(events.find((e) => e.payload.operator === id)).toMatchObject({ outcome: 'changed', payload: { sessionsEnded: 1 } });
  });

  it('serves the dashboard, its assets, and nothing outside its folder', async () => {
    expect(await (await get('/')).text()).toContain('<title>dash</title>');
    expect(await (await get('/some/page')).text()).toContain('<title>dash</title>');
    const asset = await get('/assets/app.js');
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect((await get('/assets/missing.js')).status).toBe(404);
    expect(await (await get('/assets/..%2f..%2fsecret.txt')).text()).not.toContain('do not serve');
    expect(await (await get('/..%2fsecret.txt')).text()).not.toContain('do not serve');
    expect((await get('/api/nothing-here')).status).toBe(404);
  });

  it('serves the audit log, live stats and content by role', async () => {
    await server.audit.append({ type: 'gateway.request', actor: 'user:p-1', outcome: 'pass', payload: { endpoint: 'chat', latencyMs: 2 } });
    await server.audit.append({ type: 'gateway.request', actor: 'user:p-2', outcome: 'block', risks: ['A1.1'], payload: { endpoint: 'chat', latencyMs: 4 }, content: { input: 'x' }, flagged: true });
    await addOperator(server.store, 'rory');
    const reviewer = await signIn(server.url, 'rory');
    const page = (await (await get('/api/audit/events?actor=user:p-2', reviewer)).json()) as { events: { seq: number; actor: string; risks: string[] }[] };
    expect(page.events.map((e) => e.actor)).toEqual(['user:p-2']);
    expect(page.events[0]?.risks).toEqual(['A1.1']);
    const stats = (await (await get('/api/audit/stats?minutes=15', reviewer)).json()) as { total: number; byRisk: { risk: string }[]; latencyMs: { sample: number; p50: number } };
    expect(stats.total).toBeGreaterThanOrEqual(2);
    expect(stats.byRisk.map((r) => r.risk)).toContain('A1.1');
    expect(stats.latencyMs.sample).toBeGreaterThanOrEqual(2);
    const zero = await get('/api/audit/stats?minutes=0', reviewer);
    expect(zero.status).toBe(400);
    expect(await zero.json()).toMatchObject({ error: { code: 'E_AUDIT_QUERY' } });
    expect(await (await get('/api/audit/events?from=yesterday', reviewer)).json()).toMatchObject({ error: { code: 'E_AUDIT_DATE' } });
    const seq = page.events[0]!.seq;
    const denied = await get(`/api/audit/events/${seq}/content`, reviewer);
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: { code: 'E_AUTH_FORBIDDEN' } });
  });

  it('sends security headers', async () => {
    const response = await get('/');
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describeEachDatabase('the first admin', (getDatabase: () => TestDatabase) => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-first-admin-'));
    server = await startServer({ port: 0, databaseUrl: getDatabase().url, webRoot: join(dir, 'web') });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const choose = (form: Record<string, string>) => fetch(`${server.url}/signin`, { method: 'POST', body: new URLSearchParams(form), redirect: 'manual' });

  it('is named by whoever opens the one-time link, with a password, and the link then stops working', async () => {
    expect(server.signinUrl).toMatch(/\/signin\?token=[\w-]{43}$/);
    const token = new URL(server.signinUrl!).searchParams.get('token')!;
    const page = await fetch(server.signinUrl!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="password"');
    // Looking at the form twice uses nothing up; a bad choice is explained and leaves the link working.
    expect((await fetch(server.signinUrl!)).status).toBe(200);
    const bad = await choose({ token, name: '<script>', password: PASSWORD });
    expect(bad.status).toBe(400);
    expect(await bad.text()).not.toContain('<script>');
    expect((await choose({ token, name: 'lead', password: 'short' })).status).toBe(400);
    expect((await choose({ token: 'forged', name: 'lead', password: PASSWORD })).status).toBe(403);
    const created = await choose({ token, name: 'lead', password: PASSWORD });
    expect(created.status).toBe(303);
    const cookie = (created.headers.get('set-cookie') ?? '').split(';')[0]!;
    const me = await fetch(`${server.url}/api/session`, { headers: { cookie } });
    expect(await me.json()).toEqual({ operator: expect.objectContaining({ name: 'lead', role: 'admin', hasPassword: true }) });
    // The link made exactly the admin chosen, and no operator of a fixed name.
    expect((await server.store.operators.list()).filter((o) => o.role === 'admin' && o.disabled_at === null).map((o) => o.name)).toEqual(['lead']);
    expect((await fetch(server.signinUrl!)).status).toBe(403);
    expect((await choose({ token, name: 'second', password: PASSWORD })).status).toBe(403);
    await signIn(server.url, 'lead');
    await server.audit.flush();
    const [first] = (await server.audit.list({ type: 'operator.login', limit: 10 })).events.filter((e) => e.payload.method === 'first-admin-link');
    expect(first).toMatchObject({ outcome: 'pass', actor: expect.stringMatching(/^operator:/) });
  });

  it("keeps an admin named 'admin' from an earlier version signing in, and offers no link while it exists", async () => {
    const id = await addOperator(server.store, 'admin', 'admin');
    try {
      await signIn(server.url, 'admin');
      const again = await startServer({ port: 0, databaseUrl: getDatabase().url, webRoot: join(dir, 'web') });
      expect(again.signinUrl).toBeUndefined();
      await again.close();
    } finally {
      // Leaves the database as the other test may expect it: no active admin of this test's making.
      await server.store.operators.disable(id);
    }
  });
});

describeEachDatabase('the first admin of a cluster', (getDatabase: () => TestDatabase) => {
  it('gets one link from the replica that starts first; it works once on any replica', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-first-admin-cluster-'));
    const lines: string[] = [];
    const first = await startServer({ port: 0, databaseUrl: getDatabase().url, webRoot: join(dir, 'web') });
    const second = await startServer({ port: 0, databaseUrl: getDatabase().url, webRoot: join(dir, 'web'), log: (line) => lines.push(line) });
    try {
      expect(first.signinUrl).toBeDefined();
      expect(second.signinUrl).toBeUndefined();
      expect(lines.join('\n')).toMatch(/Another replica printed the one-time sign-in link at \d{4}-/);
      const token = new URL(first.signinUrl!).searchParams.get('token')!;
      // The link is good on the other replica, and used up there for both.
      expect((await fetch(`${second.url}/signin?token=${token}`)).status).toBe(200);
      const created = await fetch(`${second.url}/signin`, { method: 'POST', body: new URLSearchParams({ token, name: 'lead', password: PASSWORD }), redirect: 'manual' });
      expect(created.status).toBe(303);
      expect((await fetch(first.signinUrl!)).status).toBe(403);
      const replay = await fetch(`${first.url}/signin`, { method: 'POST', body: new URLSearchParams({ token, name: 'other', password: PASSWORD }), redirect: 'manual' });
      expect(replay.status).toBe(403);
      expect((await first.store.operators.list()).filter((o) => o.role === 'admin').map((o) => o.name)).toEqual(['lead']);
    } finally {
      await second.close();
      await first.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sign-in throttling', () => {
  let dir: string;
  let store: Store;
  let audit: AuditLog;
  let url: string;
  let close: () => Promise<void>;
  let now = Date.parse('2026-11-28T02:00:00Z');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-throttle-'));
    store = await openStore(`file:${join(dir, 'hegui.db')}`);
    audit = new AuditLog(store, { clock: () => new Date(now) });
    const profile = parseServiceProfile(readFileSync(defaultProfile, 'utf8'), defaultProfile);
    const { app } = createApp({ store, audit, instruments: loadInstruments(), profile, profileSource: defaultProfile, webRoot: join(dir, 'web'), version: 'test', now: () => new Date(now) });
    const listener = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(started));
    });
    url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    close = async () => {
      await new Promise<void>((done) => listener.close(() => done()));
      await audit.flush();
      await store.close();
    };
  });

  afterAll(async () => {
    await close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('backs off after five failures of a name, doubling the wait, then locks the name for 15 minutes', async () => {
    const id = await addOperator(store, 'vic');
    for (let i = 0; i < 5; i++) expect((await postSession(url, 'vic', `wrong ${i} password`)).status).toBe(401);
    const waited = await postSession(url, 'vic', PASSWORD);
    expect(waited.status).toBe(429);
    expect(waited.headers.get('retry-after')).toBe('1');
    expect(await waited.json()).toMatchObject({ error: { code: 'E_AUTH_THROTTLED' } });
    const waits: string[] = [];
    for (let i = 5; i < 10; i++) {
      now += 60_000;
      expect((await postSession(url, 'vic', `wrong ${i} password`)).status).toBe(401);
      waits.push((await postSession(url, 'vic', 'wrong again!')).headers.get('retry-after') ?? '');
    }
    expect(waits.slice(0, 4)).toEqual(['2', '4', '8', '16']);
    // The tenth failure locked the name: even the right password waits.
    now += 60_000;
    const locked = await postSession(url, 'vic', PASSWORD);
    expect(locked.status).toBe(429);
    expect(await locked.json()).toMatchObject({ error: { code: 'E_AUTH_LOCKED' } });
    now += 15 * 60_000;
    await signIn(url, 'vic');
    await audit.flush();
    const outcomes = (await audit.list({ type: 'operator.login', actor: `operator:${id}`, limit: 50 })).events.map((e) => e.outcome);
    expect(outcomes.filter((o) => o === 'locked')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'fail')).toHaveLength(10);
    expect(outcomes[0]).toBe('pass');
  }, 120_000);
});

describeEachDatabase('sign-in under load', (getDatabase: () => TestDatabase) => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-signin-load-'));
    server = await startServer({ port: 0, databaseUrl: getDatabase().url, webRoot: join(dir, 'web') });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps 20 parallel wrong passwords under 200 MB, off the shared thread pool', async () => {
    await addOperator(server.store, 'target', 'admin');
    const before = residentBytes();
    let answered = 0;
    let firstHashedAnswer = Infinity;
    const attempts = Array.from({ length: 20 }, (_, i) =>
      postSession(server.url, 'target', `guess number ${i}`).then(async (response) => {
        const order = ++answered;
        if (response.status === 401) firstHashedAnswer = Math.min(firstHashedAnswer, order);
        return { status: response.status, code: ((await response.json()) as { error: { code: string } }).error.code };
      }),
    );
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss - before)), 20);
    // Once the attempts are in, a file-system call (the shared pool's work) still runs at once.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await stat(dir);
    const fileCallDone = ++answered;
    const results = await Promise.all(attempts);
    clearInterval(sampler);
    expect(peak).toBeLessThan(200 * 1024 * 1024);
    expect(fileCallDone).toBeLessThan(firstHashedAnswer);
    expect(new Set(results.map((r) => r.code))).toEqual(new Set(['E_AUTH_FAILED', 'E_AUTH_THROTTLED']));
    expect(results.filter((r) => r.status === 401).length).toBeLessThanOrEqual(5);
  });
});

describe('the session cookie off loopback', () => {
  it('is Secure when the server listens beyond loopback', async () => {
    expect(['127.0.0.1', '127.8.0.1', '::1', '[::1]', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.5', 'example.cn'].some(isLoopback)).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), 'hegui-secure-'));
    const server = await startServer({ host: '0.0.0.0', port: 0, databaseUrl: `file:${join(dir, 'hegui.db')}`, webRoot: join(dir, 'web') });
    try {
      await addOperator(server.store, 'remote');
      const response = await postSession(`http://127.0.0.1:${new URL(server.url).port}`, 'remote', PASSWORD);
      expect(response.headers.get('set-cookie')).toMatch(/; Secure(;|$)/);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('starting the server', () => {
  it('explains a profile that is missing or invalid, and a port in use', async () => {
    await expect(startServer({ port: 0, databaseUrl: 'file::memory:', profilePath: '/nonexistent.yaml' })).rejects.toMatchObject({ name: 'NotFoundError', code: 'E_FILE_NOT_FOUND', message: expect.stringMatching(/cannot read profile \/nonexistent\.yaml: no such file/) });
    const dir = mkdtempSync(join(tmpdir(), 'hegui-bad-profile-'));
    writeFileSync(join(dir, 'p.yaml'), 'provider: {}\n');
    await expect(startServer({ port: 0, databaseUrl: 'file::memory:', profilePath: join(dir, 'p.yaml') })).rejects.toMatchObject({ code: 'E_PROFILE_INVALID', message: expect.stringMatching(/provider\.name: required field is missing/) });
    const first = await startServer({ port: 0, databaseUrl: 'file::memory:' });
    const port = Number(new URL(first.url).port);
    await expect(startServer({ port, databaseUrl: 'file::memory:' })).rejects.toMatchObject({ code: 'E_SERVER_LISTEN', message: expect.stringMatching(/port \d+ is in use; pass --port/) });
    await first.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates a password once when none is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hegui-op-'));
    const env = { HEGUI_DATABASE_URL: `file:${join(dir, 'h.db')}` };
    const r = await cli(['operators', 'add', 'ann', '--role', 'admin'], { env });
    expect(r.stdout).toMatch(/password \(shown once\):\n\S{20}\n$/);
    const dup = await cli(['operators', 'add', 'ann', '--role', 'admin'], { env });
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/already exists/);
    expect(dup.stderr).not.toMatch(/^\s+at /m);
    const weak = await cli(['operators', 'passwd', 'ann', '--password-stdin'], { env, stdin: 'short\n' });
    expect(weak.code).toBe(2);
    const list = await cli(['operators', 'list'], { env });
    expect(list.stdout).toMatch(/^ann\tadmin\tactive\tpassword set\n$/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('request bodies at the operator edge', () => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-server-bodies-'));
    server = await startServer({ port: 0, databaseUrl: `file:${join(dir, 'hegui.db')}`, webRoot: join(dir, 'web') });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a 300 MB sign-in body with 413 at once, without reading it or growing', async () => {
    const huge = streamedBody(300 * 1024 * 1024, '{"name":"x","password":"');
    const before = residentBytes();
    const response = await postStream(`${server.url}/api/session`, huge);
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'E_BODY_TOO_LARGE' } });
    // Answered long before the body was sent (after answering, the server discards at most
    // 64 MiB more before it closes the connection), and the server held none of it.
    expect(huge.sent()).toBeLessThan(huge.total / 2);
    expect(residentBytes() - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a declared length past the limit on the session and desk routes, signed in or not', async () => {
    const big = JSON.stringify({ name: 'x', password: 'y'.repeat(64 * 1024) });
    for (const [method, path] of [['POST', '/api/session'], ['PUT', '/api/session/password'], ['POST', '/api/audit/verify'], ['POST', '/signin'], ['DELETE', '/api/session']] as const) {
      const response = await fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: big });
      expect(response.status, path).toBe(413);
      expect(await response.json()).toMatchObject({ error: { code: 'E_BODY_TOO_LARGE' } });
    }
  });
});
