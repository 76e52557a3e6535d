/**
 * The desk's HTTP API over real HTTP on every store: who may call what (no session, wrong role,
 * another requester's status link), CSRF from foreign origins, and bad input at the edge:
 * oversized and mis-typed uploads, malformed JSON, unknown fields, hostile text stored as text.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/index.js';
import { DeskService, Outbox, smtpTransport, updateDeskSettings } from '../src/desk/index.js';
import { loadInstruments, parseServiceProfile } from '../src/rules/index.js';
import { createApp, defaultProfile, hashToken, newToken } from '../src/server/index.js';
import type { OperatorRole, Store } from '../src/store/index.js';
import { readFileSync } from 'node:fs';
import { codeIn, type LocalSmtp, startSmtp } from './helpers/smtp.js';
import { describeEachStore } from './helpers/stores.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const HOSTILE = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>"'&`;

describeEachStore('desk API', (getStore) => {
  let store: Store;
  let server: ServerType;
  let url: string;
  let smtp: LocalSmtp;
  let desk: DeskService;
  let transport: Awaited<ReturnType<typeof smtpTransport>>;
  const cookies: Partial<Record<OperatorRole, string>> = {};
  const ids: Partial<Record<OperatorRole, string>> = {};

  beforeAll(async () => {
    store = getStore();
    smtp = await startSmtp();
    transport = await smtpTransport(smtp.url);
    const audit = new AuditLog(store);
    desk = new DeskService({ store, audit, outbox: new Outbox(store, { transport }) });
    const { app } = createApp({ store, audit, desk, instruments: loadInstruments(), profile: parseServiceProfile(readFileSync(defaultProfile, 'utf8'), defaultProfile), profileSource: defaultProfile, webRoot: '/nonexistent', version: 'test' });
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const role of ['admin', 'reviewer', 'auditor'] as const) {
      const op = await store.operators.create({ name: `${role}-${Math.random().toString(36).slice(2, 8)}`, role });
      const token = newToken();
      await store.operators.createSession({ tokenHash: hashToken(token), operatorId: op.id, expiresAt: new Date(Date.now() + 3_600_000) });
      cookies[role] = `hegui_session=${token}`;
      ids[role] = op.id;
    }
    await updateDeskSettings(store, { perAddressPerHour: 1000, perContactPerHour: 1000, uploadMaxBytes: 4096 }, new Date());
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    transport?.close();
    await smtp?.close();
  });

  function call(method: string, path: string, options: { body?: unknown; role?: OperatorRole; token?: string; headers?: Record<string, string>; raw?: string | Uint8Array } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.role) headers.cookie = cookies[options.role]!;
    if (options.token) headers['x-desk-token'] = options.token;
    return fetch(`${url}${path}`, { method, headers, ...(options.raw !== undefined ? { body: options.raw } : options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  }

  async function file(extra: Record<string, unknown> = {}): Promise<{ reference: string; token: string; contact: string }> {
    const contact = `p${Math.random().toString(36).slice(2, 9)}@example.cn`;
    const response = await call('POST', '/api/desk/public/cases', { body: { kind: 'complaint', category: 'other', text: 'hello', contact, language: 'en', ...extra } });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { reference: string; token: string };
    return { ...body, contact };
  }

  const operatorRoutes: [string, string, OperatorRole[], unknown?][] = [
    ['GET', '/api/desk/cases', ['admin', 'reviewer', 'auditor']],
    ['GET', '/api/desk/cases/REF', ['admin', 'reviewer', 'auditor']],
    ['GET', '/api/desk/cases/REF/templates', ['admin', 'reviewer', 'auditor']],
    ['GET', '/api/desk/operators', ['admin', 'reviewer', 'auditor']],
    ['GET', '/api/desk/settings', ['admin', 'reviewer', 'auditor']],
    ['POST', '/api/desk/cases/REF/notes', ['admin', 'reviewer'], { text: 'note' }],
    ['POST', '/api/desk/cases/REF/assign', ['admin', 'reviewer'], { operatorId: null }],
    ['POST', '/api/desk/cases/REF/replies', ['admin', 'reviewer'], { text: 'reply' }],
    ['POST', '/api/desk/cases/REF/carry-out', ['admin', 'reviewer'], {}],
    ['POST', '/api/desk/cases/REF/transition', ['admin', 'reviewer'], { to: 'in-progress' }],
    ['PUT', '/api/desk/settings', ['admin'], { providerName: 'Example AI' }],
    ['POST', '/api/desk/escalate', ['admin'], {}],
  ];

  it('refuses every operator route without a session, and with a role that may not use it', async () => {
    const { reference } = await file();
    for (const [method, path, roles, body] of operatorRoutes) {
      const p = path.replace('REF', reference);
      expect((await call(method, p, { body })).status, `${method} ${p} without a session`).toBe(401);
      for (const role of ['admin', 'reviewer', 'auditor'] as const) {
        const response = await call(method, p, { body, role });
        if (roles.includes(role)) expect(response.status, `${method} ${p} as ${role}`).not.toBe(403);
        else {
          expect(response.status, `${method} ${p} as ${role}`).toBe(403);
          expect(((await response.json()) as { error: { code: string } }).error.code).toBe('E_AUTH_FORBIDDEN');
        }
      }
    }
  });

  it('shows a requester only their own case: other tokens, references and made-up links get the same 404', async () => {
    const mine = await file({ text: 'mine' });
    const theirs = await file({ text: 'theirs' });
    const view = (await (await call('GET', '/api/desk/public/status', { token: mine.token })).json()) as { reference: string; text: string };
    expect(view).toMatchObject({ reference: mine.reference, text: 'mine' });
    for (const token of [undefined, '', theirs.reference, mine.reference, 'x'.repeat(43), `${mine.token.slice(0, -1)}A`, mine.token.toUpperCase()]) {
      if (token === mine.token) continue;
      const response = await call('GET', '/api/desk/public/status', token === undefined ? {} : { token });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('E_DESK_NOT_FOUND');
    }
    for (const [path, body] of [['verify', { code: '123456' }], ['messages', { text: 'x' }], ['withdraw', undefined], ['resend', undefined]] as const) {
      expect((await call('POST', `/api/desk/public/status/${path}`, { token: theirs.reference, ...(body ? { body } : {}) })).status, path).toBe(404);
    }
    expect((await call('GET', '/api/desk/public/status/files/anything', { token: mine.token })).status).toBe(404);
    // a requester's token is no operator session
    expect((await call('GET', `/api/desk/cases/${mine.reference}`, { token: mine.token })).status).toBe(401);
  });

  it('verifies the code from the local SMTP server through the API', async () => {
    const filed = await file();
    await desk.outbox.flush();
    const code = codeIn(await smtp.waitFor(filed.contact, filed.reference));
    expect((await call('POST', '/api/desk/public/status/verify', { token: filed.token, body: { code } })).status).toBe(200);
    const view = (await (await call('GET', '/api/desk/public/status', { token: filed.token })).json()) as { contactVerified: boolean };
    expect(view.contactVerified).toBe(true);
  });

  it('refuses state changes from a foreign origin (CSRF), for operators and requesters alike', async () => {
    const { reference, token } = await file();
    const evil = { origin: 'https://evil.example' };
    const a = await call('POST', `/api/desk/cases/${reference}/notes`, { role: 'admin', body: { text: 'x' }, headers: evil });
    expect(a.status).toBe(403);
    expect(((await a.json()) as { error: { code: string } }).error.code).toBe('E_CSRF');
    expect((await call('POST', '/api/desk/public/status/withdraw', { token, headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect((await call('POST', '/api/desk/public/cases', { body: {}, headers: { origin: 'null' } })).status).toBe(403);
    expect((await call('DELETE', '/api/session', { role: 'auditor', headers: evil })).status).toBe(403);
    const same = await call('POST', `/api/desk/cases/${reference}/notes`, { role: 'admin', body: { text: 'x' }, headers: { origin: url } });
    expect(same.status).toBe(200);
  });

  it('takes evidence within the limit and of the declared type only; refuses oversized, mis-typed and unknown files', async () => {
    const { token, reference } = await file();
    const ok = await call('POST', '/api/desk/public/status/evidence', { token, raw: PNG, headers: { 'content-type': 'image/png', 'x-filename': encodeURIComponent('../../屏幕 <截图>.png') } });
    expect(ok.status).toBe(201);
    const stored = (await ok.json()) as { filename: string; id: string };
    expect(stored.filename).toBe('屏幕 _截图_.png');
    const big = await call('POST', '/api/desk/public/status/evidence', { token, raw: Buffer.alloc(5000, 0x41), headers: { 'content-type': 'text/plain' } });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('E_DESK_UPLOAD_TOO_LARGE');
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i += 1) controller.enqueue(new Uint8Array(1000).fill(0x41));
        controller.close();
      },
    });
    const streamed = await fetch(`${url}/api/desk/public/status/evidence`, { method: 'POST', body: chunked, headers: { 'content-type': 'text/plain', 'x-desk-token': token }, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    const lying = await call('POST', '/api/desk/public/status/evidence', { token, raw: Buffer.from('<html><script>alert(1)</script></html>'), headers: { 'content-type': 'image/png' } });
    expect(lying.status).toBe(415);
    const html = await call('POST', '/api/desk/public/status/evidence', { token, raw: Buffer.from('<html></html>'), headers: { 'content-type': 'text/html' } });
    expect(html.status).toBe(415);
    const exe = await call('POST', '/api/desk/public/status/evidence', { token, raw: Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03]), headers: { 'content-type': 'text/plain' } });
    expect(exe.status).toBe(415);
    const stranger = await call('POST', '/api/desk/public/status/evidence', { token: 'y'.repeat(43), raw: PNG, headers: { 'content-type': 'image/png' } });
    expect(stranger.status).toBe(404);
    // the operator downloads it as an attachment that the browser will not sniff
    const download = await call('GET', `/api/desk/cases/${reference}/files/${stored.id}`, { role: 'auditor' });
    expect(download.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await download.arrayBuffer()).equals(PNG)).toBe(true);
  });

  it('bounds other desk bodies at 16 KiB and refuses malformed or unknown fields with typed errors', async () => {
    const huge = await call('POST', '/api/desk/public/cases', { raw: JSON.stringify({ text: 'x'.repeat(20_000) }), headers: { 'content-type': 'application/json' } });
    expect(huge.status).toBe(413);
    const broken = await call('POST', '/api/desk/public/cases', { raw: '{"kind":', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(400);
    const extra = await call('POST', '/api/desk/public/cases', { body: { kind: 'complaint', category: 'other', text: 'x', contact: 'a@b.cn', admin: true } });
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as { error: { code: string } }).error.code).toBe('E_DESK_INPUT');
    const { reference } = await file();
    const illegal = await call('POST', `/api/desk/cases/${reference}/transition`, { role: 'reviewer', body: { to: 'resolved', resolution: 'x' } });
    expect(illegal.status).toBe(409);
    expect(((await illegal.json()) as { error: { code: string } }).error.code).toBe('E_DESK_TRANSITION');
    expect((await call('GET', '/api/desk/cases?limit=100000', { role: 'reviewer' })).status).toBe(400);
    expect((await call('GET', '/api/desk/cases?cursor=%%%', { role: 'reviewer' })).status).toBe(400);
    expect((await call('GET', '/api/desk/cases/NOPE', { role: 'reviewer' })).status).toBe(404);
    const settings = await call('PUT', '/api/desk/settings', { role: 'admin', body: { limits: { pi: 0 } } });
    expect(settings.status).toBe(400);
  });

  it('stores hostile text as text and returns it unchanged as JSON', async () => {
    const { reference, token } = await file({ text: HOSTILE, subject: HOSTILE });
    await call('POST', `/api/desk/cases/${reference}/notes`, { role: 'reviewer', body: { text: HOSTILE } });
    await call('POST', `/api/desk/cases/${reference}/replies`, { role: 'reviewer', body: { text: HOSTILE } });
    const detail = (await (await call('GET', `/api/desk/cases/${reference}`, { role: 'auditor' })).json()) as { text: string; subject: string; notes: { text: string }[] };
    expect(detail.text).toBe(HOSTILE);
    expect(detail.notes[0]!.text).toBe(HOSTILE);
    const view = await call('GET', '/api/desk/public/status', { token });
    expect(view.headers.get('content-type')).toContain('application/json');
  });

  it('pages the queue in due-date order with a cursor, filtered by kind and assignee', async () => {
    for (let i = 0; i < 3; i += 1) await file({ kind: 'report', category: 'illegal-content' });
    const { reference } = await file({ kind: 'report', category: 'illegal-content' });
    await call('POST', `/api/desk/cases/${reference}/assign`, { role: 'reviewer', body: { operatorId: ids.reviewer } });
    const first = (await (await call('GET', '/api/desk/cases?kind=report&limit=2', { role: 'auditor' })).json()) as { cases: { reference: string; dueDate: string }[]; total: number; nextCursor: string };
    expect(first.cases).toHaveLength(2);
    expect(first.total).toBeGreaterThanOrEqual(4);
    const second = (await (await call('GET', `/api/desk/cases?kind=report&limit=2&cursor=${first.nextCursor}`, { role: 'auditor' })).json()) as { cases: { reference: string; dueDate: string }[] };
    const all = [...first.cases, ...second.cases];
    expect(new Set(all.map((c) => c.reference)).size).toBe(4);
    expect(all.map((c) => `${c.dueDate} ${c.reference}`)).toEqual(all.map((c) => `${c.dueDate} ${c.reference}`).sort());
    const mine = (await (await call('GET', '/api/desk/cases?assignee=me', { role: 'reviewer' })).json()) as { cases: { reference: string }[] };
    expect(mine.cases.map((c) => c.reference)).toEqual([reference]);
  });

  it('publishes the rules page from the settings, in Chinese and English', async () => {
    await call('PUT', '/api/desk/settings', { role: 'admin', body: { limits: { complaint: 10 }, providerName: 'Example <AI>' } });
    const zh = await (await call('GET', '/desk/rules')).text();
    expect(zh).toContain('投诉：10 个工作日');
    expect(zh).toContain('Example &#60;AI&#62;');
    const en = await (await call('GET', '/desk/rules?lang=en')).text();
    expect(en).toContain('Complaints: 10 working days');
    const form = (await (await call('GET', '/api/desk/public/form')).json()) as { limits: { complaint: number } };
    expect(form.limits.complaint).toBe(10);
  });
});
