import type { Kysely } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { findingNames } from '../../test/helpers/audit.js';
import { rawDatabase, resetAuditLog } from '../../test/helpers/raw-database.js';
import { describeEachStore } from '../../test/helpers/stores.js';
import type { Database } from '../store/index.js';
import { AuditKeyError, AuditLog, AuditRetentionError, AuditTamperedError, generateAuditSigningKey, parseAuditSigningKey } from './index.js';

const pair = generateAuditSigningKey();
const signingKey = parseAuditSigningKey(pair.privateKeyPem);
const NOW = new Date('2026-09-01T00:00:00.000Z');

describeEachStore('audit purge', (getStore, getDatabase) => {
  let db: Kysely<Database>;
  let now = NOW;
  const log = (options: { withKey?: boolean; retentionMonths?: number } = {}): AuditLog =>
    new AuditLog(getStore(), { signingKey: options.withKey === false ? undefined : signingKey, retentionMonths: options.retentionMonths, clock: () => now });

  /** Ten events on 1-10 January, five on 1-5 August; then it is 1 September. */
  beforeEach(async () => {
    db = rawDatabase(getDatabase());
    await resetAuditLog(db);
    const days = [...Array.from({ length: 10 }, (_, i) => Date.UTC(2026, 0, 1 + i)), ...Array.from({ length: 5 }, (_, i) => Date.UTC(2026, 7, 1 + i))];
    for (const [i, day] of days.entries()) {
      now = new Date(day);
      await log().append({ type: 'gateway.request', actor: 'user:u1', risks: i % 2 ? ['A.1.1'] : [], payload: { i } });
    }
    now = NOW;
  });
  afterEach(async () => db.destroy());

  it('refuses to delete anything younger than six months, saying up to when it may', async () => {
    const error = await log()
      .purge({ before: new Date('2026-03-02T00:00:00.000Z') })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditRetentionError);
    expect((error as Error).message).toMatch(/kept at least 6 months \(Cybersecurity Law Art\. 21\(3\).*on or before 2026-03-01/);
    await expect(log({ retentionMonths: 12 }).purge({ before: new Date('2026-01-06T00:00:00.000Z') })).rejects.toThrow(/at least 12 months/);
    expect((await getStore().audit.scan(0, 100)).length).toBe(15);
  });

  it('reports a dry run without deleting, and needs no key for it', async () => {
    const result = await log({ withKey: false }).purge({ before: new Date('2026-01-06T00:00:00.000Z'), dryRun: true });
    expect(result).toMatchObject({ dryRun: true, plan: { firstSeq: 1, lastSeq: 5, count: 5 }, deleted: 0, checkpoint: null, cutoff: '2026-03-01T00:00:00.000Z' });
    expect((await getStore().audit.scan(0, 100)).length).toBe(15);
    await expect(log({ withKey: false }).purge({ before: new Date('2026-01-06T00:00:00.000Z') })).rejects.toThrow(AuditKeyError);
    await expect(log({ withKey: false }).purge({ before: new Date('2026-01-06T00:00:00.000Z') })).rejects.toThrow(/HEGUI_AUDIT_SIGNING_KEY/);
  });

  it('deletes the old prefix under a signed checkpoint, and verify proves the rest continues it', async () => {
    const audit = log();
    const result = await audit.purge({ before: new Date('2026-01-06T00:00:00.000Z'), actor: 'operator:o1' });
    expect(result).toMatchObject({ deleted: 5, plan: { firstSeq: 1, lastSeq: 5 }, checkpoint: { seq: 5, firstSeq: 1, keyId: pair.keyId } });
    const remaining = await getStore().audit.scan(0, 100);
    expect(remaining.map((r) => r.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(remaining.at(-1)).toMatchObject({ type: 'audit.purge', actor: 'operator:o1' });
    expect(JSON.parse(remaining.at(-1)?.payload ?? '{}')).toMatchObject({ firstSeq: 1, lastSeq: 5, deleted: 5 });
    expect(await audit.counts({ from: new Date('2026-01-01T00:00:00.000Z'), to: new Date('2026-01-06T00:00:00.000Z') })).toMatchObject({ total: 0, byRisk: [] });

    const report = await audit.verify({ trustedKeys: [pair.publicKeyPem] });
    expect(report).toMatchObject({ ok: true, events: 11, firstSeq: 6, anchor: { seq: 5, from: 'checkpoint' } });
    expect(report.checkpoints).toEqual([expect.objectContaining({ seq: 5, firstSeq: 1, keyId: pair.keyId, signatureValid: true, trusted: true })]);
  });

  it('chains checkpoints across purges and purges everything old, keeping the head', async () => {
    const audit = log();
    await audit.purge({ before: new Date('2026-01-04T00:00:00.000Z') });
    await audit.purge({ before: new Date('2026-02-01T00:00:00.000Z') });
    const report = await audit.verify();
    expect(report.ok).toBe(true);
    expect(report.checkpoints.map((c) => [c.firstSeq, c.seq, c.trusted])).toEqual([
      [1, 3, null],
      [4, 10, null],
    ]);
    // A year on, everything is old: August's events and the two purge records go too.
    now = new Date('2027-09-01T00:00:00.000Z');
    expect((await audit.purge({ before: new Date('2027-01-01T00:00:00.000Z') })).deleted).toBe(7);
    expect(await audit.verify()).toMatchObject({ ok: true, events: 1, firstSeq: 18, anchor: { seq: 17 }, head: { seq: 18 } });
  });

  it('says which checkpoints are altered or signed by a key that is not trusted', async () => {
    const audit = log();
    await audit.purge({ before: new Date('2026-01-06T00:00:00.000Z') });
    const other = generateAuditSigningKey();
    expect(findingNames((await audit.verify({ trustedKeys: [other.publicKeyPem] })).findings)).toEqual(['checkpoint 5']);
    await db.updateTable('audit_checkpoints').set({ first_seq: 2 }).execute();
    const report = await audit.verify();
    expect(report.findings.map((f) => f.reason)).toEqual([expect.stringMatching(/signature does not match/), expect.stringMatching(/began at event 2/)]);
    expect(report.checkpoints[0]).toMatchObject({ signatureValid: false, keyId: pair.keyId });
  });

  it('names events deleted right after a checkpoint, and purged events that come back', async () => {
    const audit = log();
    await audit.purge({ before: new Date('2026-01-06T00:00:00.000Z') });
    const sixth = await db.selectFrom('audit_events').selectAll().where('seq', '=', 6).executeTakeFirstOrThrow();
    await db.deleteFrom('audit_events').where('seq', 'in', [6, 7]).execute();
    expect(findingNames((await audit.verify()).findings)).toEqual(['deleted 6-7']);
    await db.insertInto('audit_events').values({ ...sixth, seq: 3 }).execute();
    expect(findingNames((await audit.verify()).findings)).toEqual(['inserted 3', 'deleted 6-7']);
  });

  it('refuses to sign a checkpoint over a damaged prefix, and deletes nothing', async () => {
    await db.updateTable('audit_events').set({ payload: '{"i":99}' }).where('seq', '=', 2).execute();
    const error = await log()
      .purge({ before: new Date('2026-01-06T00:00:00.000Z') })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditTamperedError);
    expect((error as Error).message).toMatch(/event 2 altered/);
    expect((await getStore().audit.scan(0, 100)).length).toBe(15);
    expect(await getStore().audit.checkpoints()).toEqual([]);
  });
});
