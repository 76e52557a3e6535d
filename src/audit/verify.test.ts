/**
 * Tampering as an intruder with SQL access would do it, through a raw connection past the
 * repository, on both dialects; `verify` must name each change precisely.
 */
import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { findingNames } from '../../test/helpers/audit.js';
import { rawDatabase, resetAuditLog } from '../../test/helpers/raw-database.js';
import { describeEachStore } from '../../test/helpers/stores.js';
import type { Database } from '../store/index.js';
import { eventHash } from './chain.js';
import { AuditContentKeyring, AuditLog } from './index.js';

const EVENTS = 12;
const keys = AuditContentKeyring.parse(AuditContentKeyring.generateKey());

/** A row as an intruder would forge it: fields of their choosing, hash computed by the public rule. */
function forged(seq: number, prevHash: string, payload = '{"forged":true}') {
  const row = { at: '2026-03-01T00:30:00.000Z', type: 'gateway.request', actor: 'user:ghost', outcome: null, risks: '[]', payload, contentSha256: null, contentKeyId: null, prevHash };
  return {
    seq,
    at: row.at,
    type: row.type,
    actor: row.actor,
    outcome: null,
    risks: row.risks,
    payload: row.payload,
    content: null,
    content_sha256: null,
    content_key_id: null,
    prev_hash: prevHash,
    hash: eventHash(row, seq),
  };
}

/** Moves events `from`.. by `shift` in two steps (a unique key forbids a one-step shift). */
async function shift(db: Kysely<Database>, from: number, by: number): Promise<void> {
  await db.updateTable('audit_events').set({ seq: sql<number>`seq + 1000000` }).where('seq', '>=', from).execute();
  await db.updateTable('audit_events').set({ seq: sql<number>`seq - ${1_000_000 - by}` }).where('seq', '>=', 1_000_000).execute();
}

describeEachStore('audit verify', (getStore, getDatabase) => {
  let db: Kysely<Database>;
  let log: AuditLog;
  const hashOf = async (seq: number): Promise<string> => (await db.selectFrom('audit_events').select('hash').where('seq', '=', seq).executeTakeFirstOrThrow()).hash;
  const verify = async (): Promise<string[]> => findingNames((await log.verify()).findings);

  beforeEach(async () => {
    db = rawDatabase(getDatabase());
    await resetAuditLog(db);
    let minute = 0;
    log = new AuditLog(getStore(), { contentPolicy: 'all', contentKeys: keys, clock: () => new Date(Date.UTC(2026, 2, 1, 0, minute++)) });
    for (let i = 1; i <= EVENTS; i++) await log.append({ type: 'gateway.request', actor: `user:u${i % 3}`, payload: { i }, content: i % 4 === 0 ? { input: `prompt ${i}` } : undefined });
  });
  afterEach(async () => db.destroy());

  it('passes an intact chain with counts', async () => {
    const report = await log.verify();
    expect(report).toMatchObject({ ok: true, events: EVENTS, firstSeq: 1, lastSeq: EVENTS, head: { seq: EVENTS }, anchor: { seq: 0, from: 'genesis' }, checkpoints: [], findings: [] });
  });

  it('names an event whose payload was changed', async () => {
    await db.updateTable('audit_events').set({ payload: '{"i":500}' }).where('seq', '=', 5).execute();
    expect(await verify()).toEqual(['altered 5']);
  });

  it('names an event changed with its hash recomputed', async () => {
    const row = await db.selectFrom('audit_events').selectAll().where('seq', '=', 5).executeTakeFirstOrThrow();
    const rewritten = forged(5, row.prev_hash, '{"i":500}');
    await db.updateTable('audit_events').set({ payload: rewritten.payload, actor: rewritten.actor, at: rewritten.at, hash: rewritten.hash, content: null, content_sha256: null, content_key_id: null }).where('seq', '=', 5).execute();
    expect(await verify()).toEqual(['altered 5']);
  });

  it('names the last event changed with its hash recomputed (only the head knows)', async () => {
    const rewritten = forged(EVENTS, await hashOf(EVENTS - 1));
    await db.updateTable('audit_events').set({ payload: rewritten.payload, at: rewritten.at, actor: rewritten.actor, hash: rewritten.hash, content: null, content_sha256: null, content_key_id: null }).where('seq', '=', EVENTS).execute();
    const report = await log.verify();
    expect(findingNames(report.findings)).toEqual([`altered ${EVENTS}`]);
    expect(report.findings[0]?.reason).toMatch(/head records a different hash/);
  });

  it('names an event whose encrypted content was changed or removed', async () => {
    const row = await db.selectFrom('audit_events').select('content').where('seq', '=', 4).executeTakeFirstOrThrow();
    const content = Buffer.from(row.content ?? []);
    content[20] = (content[20] ?? 0) ^ 0xff;
    await db.updateTable('audit_events').set({ content }).where('seq', '=', 4).execute();
    await db.updateTable('audit_events').set({ content: null }).where('seq', '=', 8).execute();
    const report = await log.verify();
    expect(findingNames(report.findings)).toEqual(['altered 4', 'altered 8']);
    expect(report.findings.map((f) => f.reason)).toEqual(['its encrypted content was changed', 'its encrypted content was removed']);
  });

  it('names an event whose link to its predecessor was changed', async () => {
    await db.updateTable('audit_events').set({ prev_hash: 'f'.repeat(64) }).where('seq', '=', 6).execute();
    expect(await verify()).toEqual(['altered 6']);
  });

  it('names a deleted event, a deleted range, the first and the last event', async () => {
    await db.deleteFrom('audit_events').where('seq', 'in', [1, 4, 5, 6, 9, EVENTS]).execute();
    const report = await log.verify();
    expect(findingNames(report.findings)).toEqual(['deleted 1-1', 'deleted 4-6', 'deleted 9-9', `deleted ${EVENTS}-${EVENTS}`]);
    expect(report.ok).toBe(false);
  });

  it('names an event inserted after the head, however well forged', async () => {
    await db.insertInto('audit_events').values(forged(EVENTS + 1, await hashOf(EVENTS))).execute();
    const report = await log.verify();
    expect(findingNames(report.findings)).toEqual([`inserted ${EVENTS + 1}`]);
    expect(report.findings[0]?.reason).toMatch(/beyond the chain head/);
  });

  it('names an event inserted in the middle, later events renumbered to make room', async () => {
    await shift(db, 5, 1);
    await db.insertInto('audit_events').values(forged(5, await hashOf(4))).execute();
    expect(await verify()).toEqual(['inserted 5', `renumbered 6-${EVENTS + 1} +1`]);
  });

  it('names an inserted event whose link is nonsense', async () => {
    await shift(db, 5, 1);
    await db.insertInto('audit_events').values({ ...forged(5, 'e'.repeat(64)), hash: 'd'.repeat(64) }).execute();
    expect(await verify()).toEqual(['inserted 5', `renumbered 6-${EVENTS + 1} +1`]);
  });

  it('names several events inserted in a row', async () => {
    await shift(db, 7, 3);
    const first = forged(7, await hashOf(6));
    const second = forged(8, first.hash, '{"forged":2}');
    const third = forged(9, second.hash, '{"forged":3}');
    await db.insertInto('audit_events').values([first, second, third]).execute();
    expect(await verify()).toEqual(['inserted 7', 'inserted 8', 'inserted 9', `renumbered 10-${EVENTS + 3} +3`]);
  });

  it('names a deletion hidden by renumbering the events after it', async () => {
    await db.deleteFrom('audit_events').where('seq', 'in', [5, 6]).execute();
    await shift(db, 7, -2);
    expect(await verify()).toEqual(['deleted 5-6', `renumbered 5-${EVENTS - 2} -2`]);
  });

  it('names an event moved to another number as deleted where it was and inserted where it is', async () => {
    await db.updateTable('audit_events').set({ seq: 40 }).where('seq', '=', 5).execute();
    expect(await verify()).toEqual(['deleted 5-5', 'inserted 40']);
  });

  it('names every change when there are several', async () => {
    await db.updateTable('audit_events').set({ actor: 'user:someone-else' }).where('seq', '=', 3).execute();
    await db.deleteFrom('audit_events').where('seq', '=', 7).execute();
    await db.insertInto('audit_events').values(forged(EVENTS + 1, await hashOf(EVENTS))).execute();
    expect(await verify()).toEqual(['altered 3', 'deleted 7-7', `inserted ${EVENTS + 1}`]);
  });

  it('checks events appended while it runs without calling them inserted', async () => {
    const [report] = await Promise.all([log.verify(), ...Array.from({ length: 50 }, () => log.append({ type: 'gateway.request', actor: 'user:late' }))]);
    expect(report.ok).toBe(true);
    expect((await log.verify()).events).toBe(EVENTS + 50);
  });
});
