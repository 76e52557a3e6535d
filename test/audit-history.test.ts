/**
 * The auditor's rules on every store dialect: one rule for the events about a user (its own
 * requests, and sanctions, lifts and exports written by others) shared by the API, `hegui
 * users history` and `hegui audit export --user`; Beijing days with both ends included; a
 * typed error for an unknown user; contains/prefix filters and the request-id search.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuditLog, parseAuditTime } from '../src/audit/index.js';
import { loadInstruments, parseServiceProfile } from '../src/rules/index.js';
import { createApp, defaultProfile, hashPassword } from '../src/server/index.js';
import type { GatewayUser } from '../src/store/index.js';
import { cli } from './helpers/cli.js';
import { describeEachStore } from './helpers/stores.js';

const PASSWORD = 'a long enough password';

describeEachStore('audit history, ranges and time zone', (getStore, getDatabase) => {
  let dir: string;
  let alice: GatewayUser;
  let bob: GatewayUser;
  let now = Date.parse('2026-12-03T16:30:00Z'); // 00:30 on 4 December in Beijing
  let app: ReturnType<typeof createApp>['app'];
  let cookie: string;
  const seqs: Record<string, number> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hegui-audit-history-'));
    const store = getStore();
    alice = await store.gatewayUsers.create({ name: 'Alice Zhang 张' });
    bob = await store.gatewayUsers.create({ name: 'bob' });
    const audit = new AuditLog(store, { clock: () => new Date(now) });
    const at = async (iso: string, name: string, event: Parameters<AuditLog['append']>[0]) => {
      now = Date.parse(iso);
      seqs[name] = (await audit.append(event)).seq;
    };
    // 3 December 23:59:59 Beijing: the day before.
    await at('2026-12-03T15:59:59Z', 'before', { type: 'gateway.request', actor: `user:${alice.id}`, outcome: 'pass', payload: { requestId: 'req-0' } });
    await at('2026-12-03T16:00:00Z', 'first', { type: 'gateway.request', actor: `user:${alice.id}`, outcome: 'block', payload: { requestId: 'req-1%_' } });
    await at('2026-12-04T02:00:00Z', 'sanction', { type: 'user.sanction', actor: 'system:gateway', outcome: 'warn', payload: { user: alice.id, requestId: 'req-1%_' } });
    await at('2026-12-04T03:00:00Z', 'lift', { type: 'user.sanction', actor: 'system:cli', outcome: 'lift', payload: { user: alice.id } });
    await at('2026-12-04T04:00:00Z', 'bob', { type: 'gateway.request', actor: `user:${bob.id}`, outcome: 'pass', payload: { requestId: 'REQ-1%_' } });
    // Not about alice: her id nested deeper, or in another field, or in another case.
    await at('2026-12-04T05:00:00Z', 'nested', { type: 'desk.action', actor: 'operator:x', payload: { detail: { user: alice.id }, note: alice.id } });
    await at('2026-12-04T06:00:00Z', 'upper', { type: 'desk.action', actor: 'operator:x', payload: { user: alice.id.toUpperCase() } });
    // 4 December 23:59:59 Beijing: the last second of the day; then the next day.
    await at('2026-12-04T15:59:59Z', 'last', { type: 'gateway.request', actor: `user:${alice.id}`, outcome: 'pass', payload: {} });
    await at('2026-12-04T16:00:00Z', 'next', { type: 'gateway.request', actor: `user:${alice.id}`, outcome: 'pass', payload: {} });
    await audit.flush();

    await store.operators.create({ name: 'aud', role: 'auditor', passwordHash: await hashPassword(PASSWORD) });
    const profile = parseServiceProfile(readFileSync(defaultProfile, 'utf8'), defaultProfile);
    app = createApp({ store, audit, instruments: loadInstruments(), profile, profileSource: defaultProfile, webRoot: join(dir, 'web'), version: 'test', now: () => new Date(now) }).app;
    const signedIn = await app.request('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'aud', password: PASSWORD }) });
    expect(signedIn.status).toBe(200);
    cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const get = async (path: string) => {
    const response = await app.request(path, { headers: { cookie } });
    return { status: response.status, body: (await response.json()) as { events: { seq: number }[]; nextCursor: string | null; error?: { code: string } } };
  };
  const seqsOf = (names: string[]) => names.map((n) => seqs[n]).sort((a, b) => b! - a!);

  it('reads a bare day as a Beijing day and includes the last day', () => {
    expect(parseAuditTime('2026-12-04', 'from').toISOString()).toBe('2026-12-03T16:00:00.000Z');
    expect(parseAuditTime('2026-12-04', 'to', true).toISOString()).toBe('2026-12-04T16:00:00.000Z');
    expect(parseAuditTime('2026-12-04T08:00:00+08:00', 'to', true).toISOString()).toBe('2026-12-04T00:00:00.000Z');
    expect(() => parseAuditTime('2026-02-30', 'from')).toThrow(/Beijing/);
    expect(() => parseAuditTime('2026-12-04T08:00:00', 'from')).toThrow(/with its zone/);
  });

  it("gives a user's whole history under the shared rule, sanctions written by others included", async () => {
    const all = await get(`/api/audit/events?subject=${encodeURIComponent(`user:${alice.id}`)}&limit=50`);
    expect(all.status).toBe(200);
    // Exports of her events (other tests, any order) are about her too; set them aside here.
    const mine = new Set(Object.values(seqs));
    expect(all.body.events.map((e) => e.seq).filter((s) => mine.has(s))).toEqual(seqsOf(['before', 'first', 'sanction', 'lift', 'last', 'next']));
    expect(all.body.events.filter((e) => !mine.has(e.seq)).every((e) => (e as { type?: string }).type === 'audit.export')).toBe(true);
    // Pages of two still give every one, in order.
    const paged: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/api/audit/events?subject=user:${alice.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      paged.push(...page.body.events.map((e) => e.seq));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(paged).toEqual(all.body.events.map((e) => e.seq));
  });

  it('names the users and operators on a page, and leaves unknown actors to their id', async () => {
    const response = await app.request('/api/audit/events?from=2026-12-04&to=2026-12-04&limit=100', { headers: { cookie } });
    const body = (await response.json()) as { events: { actor: string }[]; names: Record<string, string> };
    expect(body.names[`user:${alice.id}`]).toBe('Alice Zhang 张');
    expect(body.names[`user:${bob.id}`]).toBe('bob');
    expect(body.names['operator:x']).toBeUndefined();
    expect(body.names['system:gateway']).toBeUndefined();
    expect(Object.keys(body.names).every((actor) => body.events.some((e) => e.actor === actor))).toBe(true);
  });

  it('includes both ends of a day range: from = to = that day gives that Beijing day', async () => {
    const day = await get(`/api/audit/events?subject=user:${alice.id}&from=2026-12-04&to=2026-12-04`);
    expect(day.body.events.map((e) => e.seq).filter((s) => s <= seqs.next!)).toEqual(seqsOf(['first', 'sanction', 'lift', 'last']));
    const all = await get('/api/audit/events?from=2026-12-04&to=2026-12-04&limit=100');
    expect(all.body.events.map((e) => e.seq).filter((s) => s <= seqs.next!)).toEqual(seqsOf(['first', 'sanction', 'lift', 'bob', 'nested', 'upper', 'last']));
    expect((await get('/api/audit/events?from=2026-12-05&to=2026-12-04')).status).toBe(400);
    expect((await get('/api/audit/events?from=2026-13-01')).body.error?.code).toBe('E_AUDIT_DATE');
  });

  it('filters by request id exactly, by actor contains and type prefix', async () => {
    expect((await get('/api/audit/events?requestId=req-1%25_')).body.events.map((e) => e.seq)).toEqual(seqsOf(['first', 'sanction']));
    expect((await get('/api/audit/events?requestId=req-1')).body.events).toEqual([]);
    expect((await get(`/api/audit/events?actorContains=${alice.id.slice(2, 10).toUpperCase()}&limit=100`)).body.events).toHaveLength(4);
    expect((await get('/api/audit/events?typePrefix=USER.&limit=100')).body.events.map((e) => e.seq)).toEqual(seqsOf(['sanction', 'lift']));
    expect((await get('/api/audit/events?actorContains=%25&limit=100')).body.events).toEqual([]);
  });

  it('refuses hostile or malformed filters with typed errors, and matches wildcards literally', async () => {
    expect((await get('/api/audit/events?subject=user:%25')).body.events).toEqual([]);
    expect((await get('/api/audit/events?subject=user:_')).body.events).toEqual([]);
    expect((await get(`/api/audit/events?subject=${encodeURIComponent('user:a b')}`)).status).toBe(400);
    expect((await get(`/api/audit/events?requestId=${'x'.repeat(201)}`)).status).toBe(400);
    expect((await get(`/api/audit/events?actorContains=${encodeURIComponent("' or 1=1 --")}`)).body.events).toEqual([]);
    const post = (body: unknown) => app.request('/api/audit/export', { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ from: '2026-12-05', to: '2026-12-04' })).status).toBe(400);
    expect((await post({ from: '2026-12-04', to: '2026-12-04', user: '../../etc/passwd' })).status).toBe(400);
    expect((await post({ from: 'today', to: '2026-12-04' })).status).toBe(400);
    expect((await post('not an object')).status).toBe(400);
  });

  it('finds users by part of their name', async () => {
    const response = await app.request('/api/audit/subjects?q=zhang', { headers: { cookie } });
    const body = (await response.json()) as { subjects: { subject: string; name: string }[] };
    expect(body.subjects).toEqual([expect.objectContaining({ subject: `user:${alice.id}`, name: 'Alice Zhang 张' })]);
    const unknown = await app.request('/api/audit/subjects/nobody-here', { headers: { cookie } });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: { code: 'E_AUDIT_UNKNOWN_SUBJECT' } });
  });

  it('exports the same events from the dashboard and the CLI, and refuses an unknown user', async () => {
    const env = { HEGUI_DATABASE_URL: getDatabase().url };
    const out = join(dir, `cli-${Date.now()}`);
    const exported = await cli(['audit', 'export', '--from', '2026-12-04', '--to', '2026-12-04', '--user', 'Alice Zhang 张', '-o', out], { env });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/^exported 4 event\(s\) from 2026-12-03T16:00:00.000Z to 2026-12-04T16:00:00.000Z for user:/);
    const cliSeqs = readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq);
    expect(cliSeqs).toEqual(seqsOf(['first', 'sanction', 'lift', 'last']).reverse());
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { range: { beijing: { from: string; to: string } }; userRule: string };
    expect(manifest.range.beijing).toMatchObject({ from: '2026-12-04 00:00:00', to: '2026-12-05 00:00:00' });
    expect(manifest.userRule).toContain('payload');

    const missing = await cli(['audit', 'export', '--from', '2026-12-04', '--to', '2026-12-04', '--user', 'alice', '-o', join(dir, 'none')], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no user or operator "alice"');

    const download = await app.request('/api/audit/export', { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ from: '2026-12-04', to: '2026-12-04', user: alice.id }) });
    expect(download.status).toBe(200);
    expect(download.headers.get('x-hegui-events')).toBe('4');
    const tar = join(dir, `dash-${Date.now()}.tar`);
    writeFileSync(tar, Buffer.from(await download.arrayBuffer()));
    const untar = mkdtempSync(join(dir, 'untar-'));
    execFileSync('tar', ['-xf', tar, '-C', untar]);
    const folder = execFileSync('ls', [untar], { encoding: 'utf8' }).trim();
    const dashSeqs = readFileSync(join(untar, folder, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq);
    expect(dashSeqs).toEqual(cliSeqs);
    const dashManifest = JSON.parse(readFileSync(join(untar, folder, 'manifest.json'), 'utf8')) as { format: string; user: string };
    expect(dashManifest).toMatchObject({ format: 'hegui.audit.export/1', user: `user:${alice.id}` });
    const refused = await app.request('/api/audit/export', { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ from: '2026-12-04', to: '2026-12-04', user: 'nobody' }) });
    expect(refused.status).toBe(400);
  });

  it('shows the same history in `hegui users history`', async () => {
    const history = await cli(['users', 'history', 'Alice Zhang 张', '--limit', '50'], { env: { HEGUI_DATABASE_URL: getDatabase().url } });
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toMatch(/events \(latest \d+; times in Beijing time, UTC\+8\):/);
    expect(history.stdout).toContain('2026-12-04 10:00:00\tuser.sanction\tsystem:gateway\twarn');
    expect(history.stdout).toContain('2026-12-04 11:00:00\tuser.sanction\tsystem:cli\tlift');
    expect(history.stdout).not.toContain('desk.action');
    const json = await cli(['users', 'history', 'Alice Zhang 张', '--json'], { env: { HEGUI_DATABASE_URL: getDatabase().url } });
    const parsed = JSON.parse(json.stdout) as { events: { seq: number; type: string }[] };
    expect(parsed.events.filter((e) => e.type !== 'audit.export').map((e) => e.seq)).toEqual(seqsOf(['before', 'first', 'sanction', 'lift', 'last', 'next']));
  });
});
