/**
 * Redaction at a person's request, attacked as an intruder with SQL access would: a tombstone
 * forged by hand, a redacted row altered afterwards, content put back beside its tombstone, the
 * redaction event itself changed; and redaction twice, and across an export, on both dialects.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { findingNames } from '../../test/helpers/audit.js';
import { rawDatabase, resetAuditLog } from '../../test/helpers/raw-database.js';
import { describeEachStore } from '../../test/helpers/stores.js';
import type { Database } from '../store/index.js';
import { AuditContentKeyring, AuditEventError, AuditLog, type ExportedAuditEvent } from './index.js';

const keys = AuditContentKeyring.parse(AuditContentKeyring.generateKey());

describeEachStore('audit redaction', (getStore, getDatabase) => {
  let db: Kysely<Database>;
  let log: AuditLog;
  let minute: number;
  const verify = async (): Promise<string[]> => findingNames((await log.verify()).findings);

  beforeEach(async () => {
    db = rawDatabase(getDatabase());
    await resetAuditLog(db);
    minute = 0;
    log = new AuditLog(getStore(), { contentPolicy: 'all', contentKeys: keys, clock: () => new Date(Date.UTC(2026, 2, 1, 0, minute++)) });
    // 1-8: events 2, 4, 6 and 8 keep content; the others keep none.
    for (let i = 1; i <= 8; i++) await log.append({ type: 'gateway.request', actor: `user:u${i % 2}`, payload: { i }, content: i % 2 === 0 ? { input: `secret ${i}` } : undefined });
  });
  afterEach(async () => {
    await log.flush();
    await db.destroy();
  });

  it('replaces content with a tombstone, records the redaction, and verify tells it from tampering', async () => {
    const result = await log.redact({ seqs: [2, 4, 3, 99], request: 'PI-2026-000123', actor: 'operator:o1', reason: 'erasure' });
    expect(result).toEqual({ request: 'PI-2026-000123', redacted: [2, 4], alreadyRedacted: [], withoutContent: [3], missing: [99], events: [9] });
    const report = await log.verify();
    expect(report).toMatchObject({ ok: true, findings: [], redactions: { events: 2, byRequest: { 'PI-2026-000123': 2 } } });
    const [event] = (await log.list({ type: 'audit.redact' })).events;
    expect(event).toMatchObject({ seq: 9, actor: 'operator:o1', outcome: 'redact', payload: { request: 'PI-2026-000123', seqs: [2, 4], reason: 'erasure' } });
    const views = (await log.list({ limit: 20 })).events;
    expect(views.find((e) => e.seq === 2)).toMatchObject({ hasContent: false, redaction: { request: 'PI-2026-000123', by: 'operator:o1', event: 9 } });
    expect(views.find((e) => e.seq === 6)).toMatchObject({ hasContent: true, redaction: null });
    expect(await log.readContent(2)).toBeUndefined();
    expect(await log.readContent(6)).toEqual({ input: 'secret 6' });
    const row = await db.selectFrom('audit_events').select(['content', 'content_sha256']).where('seq', '=', 2).executeTakeFirstOrThrow();
    expect(row.content).toBeNull();
    expect(row.content_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('redacting twice changes nothing and writes no second event; another request finds it already redacted', async () => {
    await log.redact({ seqs: [2], request: 'PI-2026-000123', actor: 'operator:o1' });
    const before = await db.selectFrom('audit_events').select('redaction').where('seq', '=', 2).executeTakeFirstOrThrow();
    const again = await log.redact({ seqs: [2], request: 'PI-2026-000999', actor: 'operator:o2' });
    expect(again).toMatchObject({ redacted: [], alreadyRedacted: [{ seq: 2, request: 'PI-2026-000123' }], events: [] });
    const after = await db.selectFrom('audit_events').select('redaction').where('seq', '=', 2).executeTakeFirstOrThrow();
    expect(after.redaction).toBe(before.redaction);
    expect((await log.list({ type: 'audit.redact' })).events).toHaveLength(1);
    expect(await verify()).toEqual([]);
  });

  it('names content removed without a redaction, and a tombstone forged by hand', async () => {
    await db.updateTable('audit_events').set({ content: null }).where('seq', '=', 2).execute();
    // Forged: no redaction event at all, then one that names a real event of another type.
    await db.updateTable('audit_events').set({ content: null, redaction: JSON.stringify({ at: '2026-03-01T01:00:00.000Z', by: 'operator:o1', event: 99, request: 'PI-2026-000123' }) }).where('seq', '=', 4).execute();
    await db.updateTable('audit_events').set({ content: null, redaction: JSON.stringify({ at: '2026-03-01T00:07:00.000Z', by: 'user:u1', event: 7, request: 'PI-2026-000123' }) }).where('seq', '=', 6).execute();
    const report = await log.verify();
    expect(findingNames(report.findings)).toEqual(['altered 2', 'altered 4', 'altered 6']);
    expect(report.findings.map((f) => f.reason)).toEqual([
      'its encrypted content was removed',
      expect.stringContaining('no redaction event records: event 99 is missing'),
      expect.stringContaining('no redaction event records: event 7 is a gateway.request event'),
    ]);
    expect(report.redactions.events).toBe(0);
  });

  it('names a tombstone copied onto an event its redaction event does not list, or pointing back in the chain', async () => {
    await log.redact({ seqs: [2], request: 'PI-2026-000123', actor: 'operator:o1' });
    const { redaction } = await db.selectFrom('audit_events').select('redaction').where('seq', '=', 2).executeTakeFirstOrThrow();
    await db.updateTable('audit_events').set({ content: null, redaction }).where('seq', '=', 4).execute();
    const back = JSON.stringify({ at: '2026-03-01T00:00:00.000Z', by: 'operator:o1', event: 1, request: 'PI-2026-000123' });
    await db.updateTable('audit_events').set({ content: null, redaction: back }).where('seq', '=', 6).execute();
    await db.updateTable('audit_events').set({ content: null, redaction: 'redacted, trust me' }).where('seq', '=', 8).execute();
    const report = await log.verify();
    expect(findingNames(report.findings)).toEqual(['altered 4', 'altered 6', 'altered 8']);
    expect(report.findings[0]?.reason).toContain('does not vouch for');
    expect(report.findings[1]?.reason).toContain('precedes it');
    expect(report.findings[2]?.reason).toContain('not one hegui writes');
    expect(report.redactions).toEqual({ events: 1, byRequest: { 'PI-2026-000123': 1 } });
  });

  it('names a redacted row altered afterwards: its tombstone, its fields, or content put back', async () => {
    await log.redact({ seqs: [2, 4, 6], request: 'PI-2026-000123', actor: 'operator:o1' });
    const original = await db.selectFrom('audit_events').select('redaction').where('seq', '=', 2).executeTakeFirstOrThrow();
    await db.updateTable('audit_events').set({ redaction: (original.redaction ?? '').replace('PI-2026-000123', 'PI-2026-000777') }).where('seq', '=', 2).execute();
    await db.updateTable('audit_events').set({ payload: '{"i":40}' }).where('seq', '=', 4).execute();
    await db.updateTable('audit_events').set({ content: Buffer.from('restored') }).where('seq', '=', 6).execute();
    const report = await log.verify();
    expect(findingNames(report.findings)).toEqual(['altered 2', 'altered 4', 'altered 6']);
    expect(report.findings[0]?.reason).toContain('request PI-2026-000777');
    expect(report.findings[2]?.reason).toContain('content and a redaction tombstone');
  });

  it('names a redaction event altered to vouch for more, and the tombstones resting on it', async () => {
    await log.redact({ seqs: [2], request: 'PI-2026-000123', actor: 'operator:o1' });
    await db.updateTable('audit_events').set({ payload: '{"reason":null,"request":"PI-2026-000123","seqs":[2,4]}' }).where('seq', '=', 9).execute();
    const { redaction } = await db.selectFrom('audit_events').select('redaction').where('seq', '=', 2).executeTakeFirstOrThrow();
    await db.updateTable('audit_events').set({ content: null, redaction }).where('seq', '=', 4).execute();
    const report = await log.verify();
    expect(findingNames(report.findings)).toEqual(['altered 2', 'altered 4', 'altered 9']);
    expect(report.findings[0]?.reason).toContain('was itself altered');
  });

  it('exports tombstones in place of content, and the exported chain recomputes by the public rule', async () => {
    await log.redact({ seqs: [2, 4], request: 'PI-2026-000123', actor: 'operator:o1' });
    const dir = mkdtempSync(join(tmpdir(), 'hegui-redact-export-'));
    try {
      const { manifest } = await log.export({ from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-02T00:00:00Z') }, join(dir, 'out'), { includeContent: true });
      expect(manifest.chain.findings).toEqual([]);
      expect(manifest.redactions).toEqual({ events: 2, byRequest: { 'PI-2026-000123': 2 } });
      const lines = readFileSync(join(dir, 'out', 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ExportedAuditEvent);
      expect(lines.find((e) => e.seq === 2)).toMatchObject({ redaction: { request: 'PI-2026-000123', by: 'operator:o1', event: 9 } });
      expect(lines.find((e) => e.seq === 2)).not.toHaveProperty('content');
      expect(lines.find((e) => e.seq === 6)).toMatchObject({ content: { input: 'secret 6' } });
      expect(JSON.stringify(lines)).not.toContain('secret 2');
      // Anyone can check the chain from the export alone: the tombstone is outside the hash.
      let prev = '0'.repeat(64);
      for (const e of lines) {
        const hash = createHash('sha256')
          .update(JSON.stringify(['hegui.audit/1', e.seq, e.at, e.type, e.actor, e.outcome, JSON.stringify(e.risks), canonical(e.payload), e.contentSha256, e.contentKeyId, e.prevHash]))
          .digest('hex');
        expect([e.prevHash, e.hash]).toEqual([prev, hash]);
        prev = e.hash;
      }
      // A tombstone forged after the export shows in the next export's manifest.
      await db.updateTable('audit_events').set({ content: null, redaction: JSON.stringify({ at: 'x', by: 'operator:o1', event: 9, request: 'PI-2026-000123' }) }).where('seq', '=', 6).execute();
      const second = await log.export({ from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-02T00:00:00Z') }, join(dir, 'out2'));
      expect(second.manifest.chain.findings).toEqual([expect.stringMatching(/^event 6 altered: .*does not vouch for/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes nothing when the database fails midway: no tombstone, no redaction event', async () => {
    if (getDatabase().dialect === 'sqlite') {
      await sql`create trigger fail_redaction before update of redaction on audit_events begin select raise(abort, 'disk full'); end`.execute(db);
    } else {
      await sql`create function fail_redaction() returns trigger language plpgsql as $$ begin raise exception 'disk full'; end $$`.execute(db);
      await sql`create trigger fail_redaction before update of redaction on audit_events for each row execute function fail_redaction()`.execute(db);
    }
    await expect(log.redact({ seqs: [2, 4], request: 'PI-2026-000123', actor: 'operator:o1' })).rejects.toThrow(/disk full/);
    expect((await getStore().audit.head()).seq).toBe(8);
    expect(await db.selectFrom('audit_events').select('seq').where('redaction', 'is not', null).execute()).toEqual([]);
    expect(await log.readContent(2)).toEqual({ input: 'secret 2' });
    expect(await verify()).toEqual([]);
    await sql`drop trigger fail_redaction${getDatabase().dialect === 'sqlite' ? sql`` : sql` on audit_events`}`.execute(db);
  });

  it('stays linear when redactions and appends run at once', async () => {
    const appends = Array.from({ length: 40 }, (_, i) => log.append({ type: 'gateway.request', actor: 'user:u9', payload: { i }, content: { input: `late ${i}` } }));
    const redactions = [log.redact({ seqs: [2, 4], request: 'PI-A', actor: 'operator:o1' }), log.redact({ seqs: [4, 6], request: 'PI-B', actor: 'operator:o2' })];
    const [a, b] = await Promise.all(redactions);
    await Promise.all(appends);
    expect([...a!.redacted, ...b!.redacted].sort()).toEqual([2, 4, 6]);
    const report = await log.verify();
    expect(report).toMatchObject({ ok: true, events: 8 + 40 + 2, redactions: { events: 3 } });
  });

  it('refuses a malformed request, actor or event list before touching anything', async () => {
    await expect(log.redact({ seqs: [2], request: '<script>', actor: 'operator:o1' })).rejects.toBeInstanceOf(AuditEventError);
    await expect(log.redact({ seqs: [2], request: 'PI-1', actor: 'sk-abc' })).rejects.toBeInstanceOf(AuditEventError);
    await expect(log.redact({ seqs: [0], request: 'PI-1', actor: 'operator:o1' })).rejects.toBeInstanceOf(AuditEventError);
    await expect(log.redact({ seqs: [1.5], request: 'PI-1', actor: 'operator:o1' })).rejects.toBeInstanceOf(AuditEventError);
    expect(await log.readContent(2)).toEqual({ input: 'secret 2' });
    expect((await getStore().audit.head()).seq).toBe(8);
  });
}, { perTest: true });

/** Canonical JSON as the chain rule defines it: keys sorted by UTF-16 code units, no whitespace. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record).sort().map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
