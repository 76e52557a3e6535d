/**
 * The HTTP service over real HTTP: health, sign-in, access control, the tracker API.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/server/index.js';
import { cli } from './helpers/cli.js';
import { postStream, residentBytes, streamedBody } from './helpers/http.js';

describe('hegui serve', () => {
  let dir: string;
  let server: RunningServer;
  let dbUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-server-'));
    dbUrl = `file:${join(dir, 'hegui.db')}`;
    const webRoot = join(dir, 'web');
    mkdirSync(join(webRoot, 'assets'), { recursive: true });
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>dash</title>');
    writeFileSync(join(webRoot, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'do not serve');
    server = await startServer({ port: 0, databaseUrl: dbUrl, webRoot });
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, cookie?: string) => fetch(`${server.url}${path}`, { headers: cookie ? { cookie } : {} });

  async function signIn(name: string, password: string): Promise<string> {
    const response = await fetch(`${server.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
    expect(response.status).toBe(200);
    return (response.headers.get('set-cookie') ?? '').split(';')[0]!;
  }

  it('listens on loopback and answers /healthz without login', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await get('/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', database: { dialect: 'sqlite', status: 'ok' } });
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

  it('signs in an operator created from the CLI, and refuses a wrong password', async () => {
    const created = await cli(['operators', 'add', 'rita', '--role', 'reviewer', '--password-stdin'], {
      stdin: 'a long enough password\n',
      env: { HEGUI_DATABASE_URL: dbUrl },
    });
    expect(created.code).toBe(0);
    const wrong = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"rita","password":"nope"}' });
    expect(wrong.status).toBe(401);
    const garbage = await fetch(`${server.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(garbage.status).toBe(400);
    const cookie = await signIn('rita', 'a long enough password');
    expect(cookie).toMatch(/^hegui_session=/);
    const me = await get('/api/session', cookie);
    expect(await me.json()).toEqual({ operator: expect.objectContaining({ name: 'rita', role: 'reviewer', hasPassword: true }) });
  });

  it('serves the obligations of the configured profile on a date, and rejects a bad date', async () => {
    const cookie = await signIn('rita', 'a long enough password');
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
    const cookie = await signIn('rita', 'a long enough password');
    const out = await fetch(`${server.url}/api/session`, { method: 'DELETE', headers: { cookie } });
    expect(out.status).toBe(204);
    expect((await get('/api/session', cookie)).status).toBe(401);
  });

  it('a disabled operator loses access at once', async () => {
    await cli(['operators', 'add', 'temp', '--role', 'auditor', '--password-stdin'], { stdin: 'another long password\n', env: { HEGUI_DATABASE_URL: dbUrl } });
    const cookie = await signIn('temp', 'another long password');
    await cli(['operators', 'disable', 'temp'], { env: { HEGUI_DATABASE_URL: dbUrl } });
    expect((await get('/api/profile', cookie)).status).toBe(401);
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
    const reviewer = await signIn('rita', 'a long enough password');
    const page = (await (await get('/api/audit/events?actor=user:p-2', reviewer)).json()) as { events: { seq: number; actor: string; risks: string[] }[] };
    expect(page.events.map((e) => e.actor)).toEqual(['user:p-2']);
    expect(page.events[0]?.risks).toEqual(['A1.1']);
    const stats = (await (await get('/api/audit/stats?minutes=15', reviewer)).json()) as { total: number; byRisk: { risk: string }[]; latencyMs: { sample: number; p50: number } };
    expect(stats.total).toBeGreaterThanOrEqual(2);
    expect(stats.byRisk.map((r) => r.risk)).toContain('A1.1');
    expect(stats.latencyMs.sample).toBeGreaterThanOrEqual(2);
    expect((await get('/api/audit/stats?minutes=0', reviewer)).status).toBe(400);
    expect((await get('/api/audit/events?from=yesterday', reviewer)).status).toBe(400);
    const seq = page.events[0]!.seq;
    const denied = await get(`/api/audit/events/${seq}/content`, reviewer);
    expect(denied.status).toBe(403);
  });

  it('sends security headers', async () => {
    const response = await get('/');
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('the one-time link is refused once an admin exists', async () => {
    await cli(['operators', 'add', 'boss', '--role', 'admin'], { env: { HEGUI_DATABASE_URL: dbUrl } });
    const response = await fetch(server.signinUrl!, { redirect: 'manual' });
    expect(response.status).toBe(403);
  });
});

describe('starting the server', () => {
  it('explains a profile that is missing or invalid, and a port in use', async () => {
    await expect(startServer({ port: 0, databaseUrl: 'file::memory:', profilePath: '/nonexistent.yaml' })).rejects.toThrow(/cannot read profile \/nonexistent\.yaml: no such file/);
    const dir = mkdtempSync(join(tmpdir(), 'hegui-bad-profile-'));
    writeFileSync(join(dir, 'p.yaml'), 'provider: {}\n');
    await expect(startServer({ port: 0, databaseUrl: 'file::memory:', profilePath: join(dir, 'p.yaml') })).rejects.toThrow(/provider\.name: required field is missing/);
    const first = await startServer({ port: 0, databaseUrl: 'file::memory:' });
    const port = Number(new URL(first.url).port);
    await expect(startServer({ port, databaseUrl: 'file::memory:' })).rejects.toThrow(/port \d+ is in use; pass --port/);
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
    // Answered long before the body was sent, and the server held none of it.
    expect(huge.sent()).toBeLessThan(huge.total / 4);
    expect(residentBytes() - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a declared length past the limit on the session and desk routes, signed in or not', async () => {
    const big = JSON.stringify({ name: 'x', password: 'y'.repeat(64 * 1024) });
    for (const [method, path] of [['POST', '/api/session'], ['PUT', '/api/session/password'], ['POST', '/api/audit/verify']] as const) {
      const response = await fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: big });
      expect(response.status, path).toBe(413);
      expect(await response.json()).toMatchObject({ error: { code: 'E_BODY_TOO_LARGE' } });
    }
  });
});
