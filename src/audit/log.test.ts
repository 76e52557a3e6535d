import { beforeEach, expect, it, vi } from 'vitest';
import { rawDatabase } from '../../test/helpers/raw-database.js';
import { describeEachStore } from '../../test/helpers/stores.js';
import { AuditConfigError, AuditContentKeyring, AuditEventError, AuditKeyError, AuditLog, AuditQueryError, AuditWriteError } from './index.js';

const keys = AuditContentKeyring.parse(AuditContentKeyring.generateKey());

// Every test asserts places in the chain from its start: each gets a fresh store and clock.
describeEachStore('audit log', (getStore, getDatabase) => {
  let clock = new Date('2026-03-01T00:00:00.000Z');
  beforeEach(() => void (clock = new Date('2026-03-01T00:00:00.000Z')));
  const tick = (): Date => (clock = new Date(clock.getTime() + 60_000));
  const log = (): AuditLog => new AuditLog(getStore(), { contentPolicy: 'flagged', contentKeys: keys, clock: tick });

  it('appends gap-free, in call order, and resolves with the committed place in the chain', async () => {
    const audit = log();
    const first = await audit.append({ type: 'operator.login', actor: 'operator:o1', payload: { method: 'password' } });
    expect(first).toMatchObject({ seq: 1, at: '2026-03-01T00:01:00.000Z', contentKept: false });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    const transactions = vi.spyOn(getStore().audit, 'append');
    const burst = await Promise.all(Array.from({ length: 300 }, (_, i) => audit.append({ type: 'gateway.request', actor: `user:u${i % 7}`, payload: { i } })));
    // Group commit: the burst shares two transactions (256 events, the most per batch, then 44).
    expect(transactions).toHaveBeenCalledTimes(2);
    transactions.mockRestore();
    expect(burst.map((e) => e.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 2));
    expect(new Set(burst.map((e) => e.hash)).size).toBe(300);
    expect((await getStore().audit.head()).seq).toBe(301);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('lets timers and sockets run while clients append back to back', async () => {
    // With SQLite every step of an append settles in microtasks; the log must still yield.
    const audit = log();
    let stop = false;
    const timer = new Promise<void>((resolve) => setTimeout(resolve, 50)).then(() => (stop = true));
    const clients = Array.from({ length: 20 }, async () => {
      let appended = 0;
      while (!stop) appended += (await audit.append({ type: 'gateway.request', actor: 'user:loop' })) ? 1 : 0;
      return appended;
    });
    await timer;
    expect((await Promise.all(clients)).every((n) => n > 0)).toBe(true);
  });

  it('keeps content only as the policy says, encrypted, and reads it back with the key', async () => {
    const flagged = log();
    const kept = await flagged.append({ type: 'gateway.request', actor: 'user:u1', risks: ['A.1.1'], outcome: 'block', content: { input: '敏感内容' } });
    const dropped = await flagged.append({ type: 'gateway.request', actor: 'user:u1', outcome: 'pass', content: { input: 'harmless' } });
    const forced = await flagged.append({ type: 'desk.action', actor: 'operator:o1', flagged: true, content: 'note' });
    expect([kept.contentKept, dropped.contentKept, forced.contentKept]).toEqual([true, false, true]);
    expect(await flagged.readContent(kept.seq)).toEqual({ input: '敏感内容' });
    expect(await flagged.readContent(dropped.seq)).toBeUndefined();
    expect(await flagged.readContent(forced.seq)).toBe('note');
    const raw = rawDatabase(getDatabase());
    const row = await raw.selectFrom('audit_events').select(['content', 'content_key_id']).where('seq', '=', kept.seq).executeTakeFirstOrThrow();
    await raw.destroy();
    expect(Buffer.from(row.content ?? []).includes(Buffer.from('敏感内容'))).toBe(false);
    expect(row.content_key_id).toBe(keys.currentKeyId);

    const all = new AuditLog(getStore(), { contentPolicy: 'all', contentKeys: keys, clock: tick });
    expect((await all.append({ type: 'gateway.request', actor: 'user:u2', content: 'x' })).contentKept).toBe(true);
    const none = new AuditLog(getStore(), { clock: tick });
    expect(none.contentPolicy).toBe('none');
    const minimal = await none.append({ type: 'gateway.request', actor: 'user:u2', risks: ['A.1.1'], content: 'x' });
    expect(minimal.contentKept).toBe(false);
    await expect(none.readContent(kept.seq)).rejects.toThrow(/needs the content key/);
    await expect(none.readContent(99_999)).rejects.toThrow(AuditQueryError);
  });

  it('refuses a content policy without a key, and malformed events without writing', async () => {
    expect(() => new AuditLog(getStore(), { contentPolicy: 'all' })).toThrow(AuditKeyError);
    expect(() => new AuditLog(getStore(), { retentionMonths: 5 })).toThrow(/legal floor/);
    const audit = log();
    const head = await getStore().audit.head();
    await expect(audit.append({ type: 'gateway.request', actor: 'Alice Zhang' })).rejects.toThrow(AuditEventError);
    // A bad event does not spoil the batch it would have joined.
    const [bad, good] = await Promise.allSettled([audit.append({ type: 'x', actor: 'user:u1' }), audit.append({ type: 'gateway.request', actor: 'user:u1' })]);
    expect(bad.status).toBe('rejected');
    expect(good).toMatchObject({ status: 'fulfilled', value: { seq: head.seq + 1 } });
  });

  it('lists with filters and keyset pages, and counts per type, risk and outcome', async () => {
    const store = getStore();
    const audit = log();
    clock = new Date('2026-05-01T00:00:00.000Z');
    const start = clock;
    await audit.append({ type: 'gateway.request', actor: 'user:p', risks: ['A.1.1', 'A.2.2'], outcome: 'block', payload: { model: 'm1' } });
    await audit.append({ type: 'gateway.request', actor: 'user:q', risks: ['A.1.1'], outcome: 'redact' });
    await audit.append({ type: 'gateway.request', actor: 'user:p', outcome: 'pass' });
    await audit.append({ type: 'user.sanction', actor: 'system:gateway', payload: { user: 'p', step: 'warn' } });
    const window = { from: start, to: new Date('2026-05-02T00:00:00.000Z') };

    const page1 = await audit.list({ ...window, limit: 3 });
    expect(page1.events.map((e) => e.type)).toEqual(['user.sanction', 'gateway.request', 'gateway.request']);
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await audit.list({ ...window, limit: 3, cursor: page1.nextCursor });
    expect(page2.events).toHaveLength(1);
    expect(page2.events[0]).toMatchObject({ actor: 'user:p', risks: ['A.1.1', 'A.2.2'], outcome: 'block', payload: { model: 'm1' }, hasContent: false });
    expect(page2.nextCursor).toBeNull();
    expect((await audit.list({ ...window, risk: 'A.1.1' })).events.map((e) => e.outcome)).toEqual(['redact', 'block']);
    expect((await audit.list({ ...window, actor: 'user:p', type: 'gateway.request' })).events).toHaveLength(2);
    expect((await audit.list({ ...window, type: ['user.sanction', 'operator.login'] })).events).toHaveLength(1);
    await expect(audit.list({ cursor: 'abc' })).rejects.toThrow(AuditQueryError);
    await expect(audit.list({ limit: 0 })).rejects.toThrow(/limit/);

    const counts = await audit.counts(window);
    expect(counts.total).toBe(4);
    expect(counts.byType).toEqual([
      { type: 'gateway.request', outcome: 'block', count: 1 },
      { type: 'gateway.request', outcome: 'pass', count: 1 },
      { type: 'gateway.request', outcome: 'redact', count: 1 },
      { type: 'user.sanction', outcome: null, count: 1 },
    ]);
    expect(counts.byRisk).toEqual([
      { risk: 'A.1.1', outcome: 'block', count: 1 },
      { risk: 'A.1.1', outcome: 'redact', count: 1 },
      { risk: 'A.2.2', outcome: 'block', count: 1 },
    ]);
    expect((await audit.counts({ ...window, type: 'user.sanction' })).total).toBe(1);
    await expect(audit.counts({ from: window.to, to: window.from })).rejects.toThrow(/window is empty/);
    expect((await store.audit.head()).seq).toBe(4);
  });

  it('with a commit window, writes the events of the window in one transaction, each resolving at its commit', async () => {
    const audit = new AuditLog(getStore(), { clock: tick, commitWindowMs: 150 });
    const transactions = vi.spyOn(getStore().audit, 'append');
    const committed: number[] = [];
    const first = audit.append({ type: 'gateway.request', actor: 'user:u1', payload: { i: 1 } }).then((e) => void committed.push(e.seq));
    await new Promise((resolve) => setTimeout(resolve, 40));
    // Inside the window nothing is written yet, and nothing resolved: the promise is still "resolves once committed".
    expect(committed).toEqual([]);
    expect((await getStore().audit.head()).seq).toBe(0);
    const second = audit.append({ type: 'gateway.request', actor: 'user:u2', payload: { i: 2 } }).then((e) => void committed.push(e.seq));
    await Promise.all([first, second]);
    expect(committed).toEqual([1, 2]);
    expect(transactions).toHaveBeenCalledTimes(1);
    // flush() does not wait for the window: it writes what waits at once.
    const started = performance.now();
    const third = audit.append({ type: 'gateway.request', actor: 'user:u3', payload: { i: 3 } });
    await audit.flush();
    expect(performance.now() - started).toBeLessThan(140);
    expect((await third).seq).toBe(3);
    expect(transactions).toHaveBeenCalledTimes(2);
    // A full batch does not wait for the window either.
    const full = new AuditLog(getStore(), { clock: tick, commitWindowMs: 1000, maxBatch: 4 });
    const at = performance.now();
    const batch = await Promise.all(Array.from({ length: 4 }, (_, i) => full.append({ type: 'gateway.request', actor: 'user:u4', payload: { i } })));
    expect(performance.now() - at).toBeLessThan(900);
    expect(batch.map((e) => e.seq)).toEqual([4, 5, 6, 7]);
    transactions.mockRestore();
    expect((await audit.verify()).ok).toBe(true);
    // The chain of a windowed batch is as strong as any: an altered event inside it is named.
    const raw = rawDatabase(getDatabase());
    await raw.updateTable('audit_events').set({ payload: '{"i":20}' }).where('seq', '=', 2).execute();
    await raw.destroy();
    const report = await audit.verify();
    expect(report.ok).toBe(false);
    expect(report.findings.map((f) => `${f.kind} ${'seq' in f ? f.seq : f.fromSeq}`)).toEqual(['altered 2']);
    expect(() => new AuditLog(getStore(), { commitWindowMs: 1001 })).toThrow(/commitWindowMs must be a whole number of milliseconds from 0 to 1000/);
    expect(() => new AuditLog(getStore(), { commitWindowMs: -1 })).toThrow(AuditConfigError);
    expect(() => new AuditLog(getStore(), { commitWindowMs: 1.5 })).toThrow(AuditConfigError);
  });

  it('rejects every event of a batch the database refuses, and recovers for the next', async () => {
    const audit = log();
    const raw = rawDatabase(getDatabase());
    const head = await getStore().audit.head();
    // An intruder's row where the next event must go: the insert fails, nothing of the batch is kept.
    await raw.insertInto('audit_events').values({ seq: head.seq + 1, at: 'x', type: 'x.x', actor: 'x:x', outcome: null, risks: '[]', payload: '{}', content: null, content_sha256: null, content_key_id: null, prev_hash: 'x', hash: 'x' }).execute();
    const failed = await Promise.allSettled([audit.append({ type: 'gateway.request', actor: 'user:u1' }), audit.append({ type: 'gateway.request', actor: 'user:u2' })]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(AuditWriteError);
    expect(await getStore().audit.head()).toEqual(head);
    await raw.deleteFrom('audit_events').where('seq', '=', head.seq + 1).execute();
    await raw.destroy();
    expect((await audit.append({ type: 'gateway.request', actor: 'user:u1' })).seq).toBe(head.seq + 1);
    await audit.flush();
    expect((await audit.verify()).ok).toBe(true);
  });
}, { perTest: true });
