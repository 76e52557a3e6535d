/**
 * `hegui audit verify|export|purge|keygen` as an operator runs them, on a SQLite file (the
 * command is dialect-agnostic; the audit suites cover both dialects).
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEnvironment, AuditLog } from '../src/audit/index.js';
import { parseCliDate } from '../src/cli/audit.js';
import { openStore } from '../src/store/index.js';
import { cli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'hegui-audit-cli-'));
const database = join(dir, 'hegui.db');
const env = { HEGUI_DATABASE_URL: `file:${database}`, HEGUI_AUDIT_CONTENT_KEY: '', HEGUI_AUDIT_SIGNING_KEY: '', HEGUI_AUDIT_RETENTION_MONTHS: '' };
const keyEnv = (): Record<string, string> => ({
  ...env,
  HEGUI_AUDIT_SIGNING_KEY: 'keys.key.pem',
  HEGUI_AUDIT_CONTENT_KEY: readFileSync(join(dir, 'keys.content-key'), 'utf8').trim(),
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** A copy of the fixture database for a test that changes it (purges, tampers), and its environment. */
const copyOf = (name: string): { path: string; env: Record<string, string> } => {
  const path = join(dir, `${name}.db`);
  copyFileSync(database, path);
  return { path, env: { ...env, HEGUI_DATABASE_URL: `file:${path}` } };
};

describe('hegui audit', () => {
  beforeAll(async () => {
    // Two years of history: a daily event from 1 January 2024, content kept for flagged ones.
    const keygen = await cli(['audit', 'keygen', '--out', 'keys'], { cwd: dir, env });
    expect(keygen.code).toBe(0);
    const store = await openStore(env.HEGUI_DATABASE_URL);
    let now = new Date('2024-01-01T12:00:00Z');
    const log = new AuditLog(store, { ...auditEnvironment(keyEnv(), dir), contentPolicy: 'flagged', clock: () => now });
    for (let day = 0; day < 40; day++) {
      now = new Date(Date.UTC(2024, 0, 1 + day, 12));
      await log.append({ type: 'gateway.request', actor: `user:u${day % 2}`, risks: day % 4 ? [] : ['A.1.1'], payload: { day }, content: { input: `q${day}` } });
    }
    await store.close();
  });

  it('keygen writes the signing key pair and the content key, secrets readable by the owner only', async () => {
    expect(statSync(join(dir, 'keys.key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys.content-key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'keys.pub.pem'), 'utf8')).toMatch(/BEGIN PUBLIC KEY/);
    const again = await cli(['audit', 'keygen', '--out', 'keys'], { cwd: dir, env });
    expect(again).toMatchObject({ code: 2, stderr: expect.stringMatching(/exists; use --force/) });
  });

  it('verify reports an intact log and exits 0, with --json for scripts', async () => {
    const text = await cli(['audit', 'verify'], { cwd: dir, env });
    expect(text).toMatchObject({ code: 0, stderr: '', stdout: 'audit log OK: 40 events (1-40), chain head at event 40\n' });
    const json = await cli(['audit', 'verify', '--json'], { cwd: dir, env });
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, events: 40, findings: [] });
  });

  it('export writes the package; content only with --with-content and the key', async () => {
    // An export is itself an audit event: it works on a copy, so the other tests see 40 events.
    const { env } = copyOf('exported');
    const keyEnvHere = (): Record<string, string> => ({ ...keyEnv(), HEGUI_DATABASE_URL: env.HEGUI_DATABASE_URL as string });
    const plain = await cli(['audit', 'export', '--from', '2024-01-01', '--to', '2024-01-31', '--user', 'u1', '-o', 'jan'], { cwd: dir, env });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^exported 15 event\(s\) from 2023-12-31T16:00:00.000Z to 2024-01-31T16:00:00.000Z for user:u1, content omitted, to jan\n/);
    const manifest = JSON.parse(readFileSync(join(dir, 'jan', 'manifest.json'), 'utf8')) as { chain: { firstSeq: number; lastSeq: number } };
    expect(manifest.chain).toMatchObject({ firstSeq: 1, lastSeq: 31 });
    const refused = await cli(['audit', 'export', '--from', '2024-01-01', '--to', '2024-01-31', '--with-content', '-o', 'jan2'], { cwd: dir, env });
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringMatching(/needs the content key: set HEGUI_AUDIT_CONTENT_KEY/) });
    const withContent = await cli(['audit', 'export', '--from', '2024-01-01', '--to', '2024-01-01', '--with-content', '-o', 'day1'], { cwd: dir, env: keyEnvHere() });
    expect(withContent.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'day1', 'events.jsonl'), 'utf8'))).toMatchObject({ seq: 1, content: { input: 'q0' } });
    const exists = await cli(['audit', 'export', '--from', '2024-01-01', '--to', '2024-01-31', '-o', 'jan'], { cwd: dir, env });
    expect(exists).toMatchObject({ code: 2, stderr: expect.stringMatching(/jan exists/) });
  });

  it('purge refuses what is younger than six months, dry-runs without a key, and purges with one', async () => {
    const { env } = copyOf('purged');
    const keyEnvHere = (): Record<string, string> => ({ ...keyEnv(), HEGUI_DATABASE_URL: env.HEGUI_DATABASE_URL as string });
    const young = await cli(['audit', 'purge', '--before', '2099-01-01'], { cwd: dir, env });
    expect(young).toMatchObject({ code: 2, stderr: expect.stringMatching(/^error: refusing to purge events recorded after .* at least 6 months/) });
    const dry = await cli(['audit', 'purge', '--before', '2024-01-11', '--dry-run'], { cwd: dir, env });
    expect(dry).toMatchObject({ code: 0, stdout: 'would delete 10 event(s) (1-10) recorded before 2024-01-10T16:00:00.000Z; nothing deleted (dry run)\n' });
    const noKey = await cli(['audit', 'purge', '--before', '2024-01-11'], { cwd: dir, env });
    expect(noKey).toMatchObject({ code: 2, stderr: expect.stringMatching(/set HEGUI_AUDIT_SIGNING_KEY to the path/) });
    const done = await cli(['audit', 'purge', '--before', '2024-01-11'], { cwd: dir, env: keyEnvHere() });
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^deleted 10 event\(s\) \(1-10\) recorded before 2024-01-10T16:00:00.000Z\ncheckpoint at event 10 signed with key [\w-]{11}\n$/);
    const verify = await cli(['audit', 'verify', '--trust', 'keys.pub.pem'], { cwd: dir, env });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/checkpoint at event 10 \(events 1-10 purged, before 2024-01-10T16:00:00.000Z\): signature valid, key [\w-]{11}, trusted key/);
  });

  it('verify names tampered events and exits 1', async () => {
    const { path, env } = copyOf('tampered');
    const raw = new SQLite(path);
    raw.prepare('update audit_events set payload = ? where seq = 20').run('{"day":0}');
    raw.prepare('delete from audit_events where seq = 30').run();
    raw.close();
    const result = await cli(['audit', 'verify'], { cwd: dir, env });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^audit log DAMAGED: 2 finding\(s\) in \d+ events/);
    expect(result.stdout).toContain('  event 20 altered: its fields no longer match its hash\n');
    expect(result.stdout).toContain('  event 30 deleted: event 31 links to a hash no stored event has\n');
  });

  it('explains malformed keys and dates', async () => {
    const badKey = await cli(['audit', 'verify'], { cwd: dir, env: { ...env, HEGUI_AUDIT_CONTENT_KEY: 'c2hvcnQ=' } });
    expect(badKey).toMatchObject({ code: 2, stderr: 'error: HEGUI_AUDIT_CONTENT_KEY decodes to 5 bytes; AES-256 needs exactly 32 (44 base64 characters, from `hegui audit keygen`)\n' });
    const badPath = await cli(['audit', 'verify'], { cwd: dir, env: { ...env, HEGUI_AUDIT_SIGNING_KEY: 'nope.pem' } });
    expect(badPath).toMatchObject({ code: 2, stderr: expect.stringMatching(/HEGUI_AUDIT_SIGNING_KEY names .*nope\.pem, which cannot be read \(no such file\)/) });
    const badDate = await cli(['audit', 'purge', '--before', '2024-02-30'], { cwd: dir, env });
    expect(badDate).toMatchObject({ code: 2, stderr: expect.stringMatching(/--before "2024-02-30" is not a date/) });
    expect(existsSync(join(dir, 'jan2'))).toBe(false);
  });

  it('reads dates as Beijing days, an end day inclusive, or times with their zone', () => {
    expect(parseCliDate('2026-01-31', '--to', true).toISOString()).toBe('2026-01-31T16:00:00.000Z');
    expect(parseCliDate('2026-01-31', '--from').toISOString()).toBe('2026-01-30T16:00:00.000Z');
    expect(parseCliDate('2026-01-31T08:00:00+08:00', '--to', true).toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(() => parseCliDate('2026-01-31T08:00:00', '--to')).toThrow(/with its zone/);
  });
});
