/**
 * A personal-information request carried out against the real gateway (issue 15), on both
 * stores: what the gateway recorded about a user is collected with its decrypted content,
 * erased (after which `hegui audit verify` still passes and the content is gone from the
 * database), and withdrawing consent disables the user so the gateway refuses its key.
 */
import { chinaDateOf } from '../src/calendar/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuditContentKeyring } from '../src/audit/index.js';
import { createSubjectData } from '../src/desk/subject.js';
import { createApiUser } from '../src/gateway/index.js';
import { type GatewayHarness, KEYWORDS, startGateway } from './gateway-harness.js';
import { cli } from './helpers/cli.js';
import { rawDatabase } from './helpers/raw-database.js';
import { describeEachDatabase } from './helpers/stores.js';

const CONTENT_KEY = AuditContentKeyring.generateKey();

describeEachDatabase('desk subject data through the gateway', (getDatabase) => {
  let h: GatewayHarness;
  const env = { HEGUI_AUDIT_CONTENT_KEY: CONTENT_KEY };
  const ask = (key: string, content: string) => new OpenAI({ apiKey: key, baseURL: `${h.server.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'double-chat', messages: [{ role: 'user', content }] });

  beforeAll(async () => {
    h = await startGateway({ databaseUrl: getDatabase().url, env, config: { audit: { content: 'all' }, users: { cacheSeconds: 0 } } });
    h.double.behaviour = () => ({ text: 'an answer' });
  });
  afterAll(async () => h?.close());

  it('collects, erases and leaves a log that verifies, with the content gone from the database', async () => {
    const { user, key } = await createApiUser(h.server.store, { name: 'dana-app', verified: true });
    await ask(key, 'my phone is 13800138000');
    expect((await ask(key, `tell me about ${KEYWORDS.en}`)).choices[0]?.finish_reason).toBe('content_filter');
    const subjects = createSubjectData(h.server.store, { audit: h.server.audit });

    const records = await subjects.collect({ gatewayUser: 'dana-app' });
    const events = records.sections.find((s) => s.id === 'audit-events')?.rows ?? [];
    expect(events.filter((e) => e.type === 'gateway.request')).toHaveLength(2);
    expect(JSON.stringify(events)).toContain('13800138000');

    const report = await subjects.erase({ gatewayUser: 'dana-app' }, { requestRef: 'PI-2026-000200', actor: 'operator:reviewer-1' });
    expect(report.removed.find((r) => r.what.startsWith('audit event content'))?.count).toBeGreaterThanOrEqual(2);
    expect(report.kept.find((k) => k.what.startsWith('audit events'))?.rule.en).toContain('six months');
    await h.server.audit.flush();

    const verify = await cli(['audit', 'verify'], { env: { ...env, HEGUI_DATABASE_URL: h.databaseUrl } });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^audit log OK: .*\n\d+ event\(s\) redacted by request PI-2026-000200/);

    // The export an authority receives shows the tombstones in place of the content, and its chain is intact.
    // Days given to the export are Beijing days (audit/range).
    const day = chinaDateOf(new Date());
    const exported = await cli(['audit', 'export', '--from', day, '--to', day, '--with-content', '-o', 'export'], { cwd: h.dir, env: { ...env, HEGUI_DATABASE_URL: h.databaseUrl } });
    expect(exported.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(h.dir, 'export', 'manifest.json'), 'utf8')) as { chain: { findings: string[] }; redactions: { byRequest: Record<string, number> } };
    expect(manifest.chain.findings).toEqual([]);
    expect(manifest.redactions.byRequest['PI-2026-000200']).toBeGreaterThanOrEqual(2);
    const lines = readFileSync(join(h.dir, 'export', 'events.jsonl'), 'utf8');
    expect(lines).toContain('"redaction":{"request":"PI-2026-000200"');
    expect(lines).not.toContain('13800138000');

    const raw = rawDatabase(getDatabase());
    try {
      const rows = await raw.selectFrom('audit_events').select(['seq', 'content', 'redaction']).where('actor', '=', `user:${user.id}`).execute();
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const row of rows) expect(row.content).toBeNull();
      expect(rows.every((r) => r.redaction === null || r.redaction.includes('PI-2026-000200'))).toBe(true);
      expect(await raw.selectFrom('gateway_users').select('id').where('name', '=', 'dana-app').execute()).toEqual([]);
    } finally {
      await raw.destroy();
    }
    await expect(ask(key, 'still there?')).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('disables a user who withdraws consent: the gateway refuses its key with 401', async () => {
    const { key } = await createApiUser(h.server.store, { name: 'erin-app', verified: true });
    expect((await ask(key, 'hello')).choices[0]?.message.content).toContain('an answer');
    const seen = h.double.seen.length;
    await createSubjectData(h.server.store, { audit: h.server.audit }).disable({ gatewayUser: 'erin-app' }, { requestRef: 'PI-2026-000201', actor: 'operator:reviewer-1', reason: 'consent withdrawn' });
    const error = await ask(key, 'hello again').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401 });
    expect(h.double.seen.length).toBe(seen);
    // Others are unaffected.
    expect((await ask(h.key, 'hello')).choices[0]?.message.content).toContain('an answer');
  });
});
