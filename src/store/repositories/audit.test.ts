import { expect, it } from 'vitest';
import { describeEachStore } from '../../../test/helpers/stores.js';
import { AUDIT_GENESIS_HASH, type AuditCheckpointRecord, type NewAuditEvent, type Store, StoreConflictError } from '../index.js';

/** Rows continuing `head`; hashes are labels here (the repository never computes them). */
function rows(head: { seq: number; hash: string }, specs: { at: string; type?: string; actor?: string; risks?: string[]; outcome?: string }[]): NewAuditEvent[] {
  let prevHash = head.hash;
  return specs.map((spec, i) => {
    const seq = head.seq + 1 + i;
    const riskCodes = spec.risks ?? [];
    const row: NewAuditEvent = {
      seq,
      at: spec.at,
      type: spec.type ?? 'gateway.request',
      actor: spec.actor ?? 'user:a',
      outcome: spec.outcome ?? null,
      risks: JSON.stringify(riskCodes),
      payload: `{"n":${seq}}`,
      content: seq % 2 === 0 ? Buffer.from([1, 2, 3]) : null,
      contentSha256: seq % 2 === 0 ? 'c'.repeat(64) : null,
      contentKeyId: seq % 2 === 0 ? 'k1' : null,
      prevHash,
      hash: `h${seq}`.padEnd(64, '0'),
      riskCodes,
    };
    prevHash = row.hash;
    return row;
  });
}

/** The four events the listing, counting and purging tests read, from the genesis head. */
function appendFour(audit: Store['audit']): ReturnType<Store['audit']['append']> {
  return audit.append((h) =>
    rows(h, [
      { at: '2026-01-01T00:00:00.000Z', risks: ['A.1.1', 'A.2.3'], outcome: 'block' },
      { at: '2026-01-02T00:00:00.000Z', type: 'operator.login', actor: 'operator:o1' },
      { at: '2026-01-03T00:00:00.000Z', risks: ['A.1.1'], outcome: 'block', actor: 'user:b' },
      { at: '2026-01-04T00:00:00.000Z', outcome: 'pass' },
    ]),
  );
}

// Each test asserts places in the chain from its start: each gets a fresh store.
describeEachStore('audit repository', (getStore) => {
  it('starts at the genesis head and appends linked rows under the head lock', async () => {
    const { audit } = getStore();
    expect(await audit.head()).toEqual({ seq: 0, hash: AUDIT_GENESIS_HASH });
    const head = await appendFour(audit);
    expect(head.seq).toBe(4);
    expect(await audit.head()).toEqual(head);
    const stored = await audit.scan(0, 10);
    expect(stored.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(stored[1]).toMatchObject({ content: Buffer.from([1, 2, 3]), contentKeyId: 'k1', prevHash: stored[0]?.hash });
    expect(await audit.find(3)).toMatchObject({ actor: 'user:b', risks: '["A.1.1"]' });
    expect(await audit.scan(1, 2, 2)).toHaveLength(1);
  });

  it('rejects rows that do not continue the head, and writes nothing', async () => {
    const { audit } = getStore();
    const before = await audit.head();
    await expect(audit.append((h) => rows({ seq: h.seq + 1, hash: h.hash }, [{ at: '2026-01-05T00:00:00.000Z' }]))).rejects.toThrow(/expected/);
    await expect(audit.append((h) => rows({ seq: h.seq, hash: 'x' }, [{ at: '2026-01-05T00:00:00.000Z' }]))).rejects.toThrow(/does not link/);
    expect(await audit.head()).toEqual(before);
  });

  it('appends inside a store transaction and rolls back with it', async () => {
    const store = getStore();
    const before = await store.audit.head();
    await expect(
      store.transaction(async (tx) => {
        await tx.audit.append((h) => rows(h, [{ at: '2026-01-05T00:00:00.000Z' }]));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.audit.head()).toEqual(before);
    expect(await store.audit.find(before.seq + 1)).toBeUndefined();
  });

  it('lists newest first with filters and keyset pages, without content', async () => {
    const { audit } = getStore();
    await appendFour(audit);
    const all = await audit.list({ limit: 10 });
    expect(all.map((r) => r.seq)).toEqual([4, 3, 2, 1]);
    expect(all[0]).not.toHaveProperty('content');
    expect((await audit.list({ limit: 2, beforeSeq: 4 })).map((r) => r.seq)).toEqual([3, 2]);
    expect((await audit.list({ limit: 10, risk: 'A.1.1' })).map((r) => r.seq)).toEqual([3, 1]);
    expect((await audit.list({ limit: 10, risk: 'A.2.3' })).map((r) => r.seq)).toEqual([1]);
    expect((await audit.list({ limit: 10, actor: 'user:b' })).map((r) => r.seq)).toEqual([3]);
    expect((await audit.list({ limit: 10, types: ['operator.login'] })).map((r) => r.seq)).toEqual([2]);
    expect((await audit.list({ limit: 10, outcome: 'pass' })).map((r) => r.seq)).toEqual([4]);
    expect((await audit.list({ limit: 10, from: '2026-01-02T00:00:00.000Z', to: '2026-01-04T00:00:00.000Z' })).map((r) => r.seq)).toEqual([3, 2]);
  });

  it('counts per type and per risk, by outcome, in a window', async () => {
    const { audit } = getStore();
    await appendFour(audit);
    const window = { from: '2026-01-01T00:00:00.000Z', to: '2026-01-04T00:00:00.000Z' };
    expect(await audit.countByType(window)).toEqual([
      { key: 'gateway.request', outcome: 'block', count: 2 },
      { key: 'operator.login', outcome: null, count: 1 },
    ]);
    expect(await audit.countByRisk(window)).toEqual([
      { key: 'A.1.1', outcome: 'block', count: 2 },
      { key: 'A.2.3', outcome: 'block', count: 1 },
    ]);
    expect(await audit.countByRisk({ ...window, type: 'operator.login' })).toEqual([]);
    expect(await audit.seqBounds({ from: '2026-01-02T00:00:00.000Z', to: '2026-01-09T00:00:00.000Z' })).toEqual({ firstSeq: 2, lastSeq: 4 });
    expect(await audit.seqBounds({ from: '2027-01-01T00:00:00.000Z', to: '2027-01-02T00:00:00.000Z' })).toBeUndefined();
  });

  it('plans a purge of the old prefix only, and purges it with a checkpoint', async () => {
    const { audit } = getStore();
    await appendFour(audit);
    expect(await audit.purgePlan('2026-01-01T00:00:00.000Z')).toBeUndefined();
    expect(await audit.purgePlan('2026-01-03T00:00:00.000Z')).toEqual({ firstSeq: 1, lastSeq: 2, count: 2 });
    const last = await audit.find(2);
    const checkpoint: AuditCheckpointRecord = {
      seq: 2,
      hash: last?.hash ?? '',
      firstSeq: 1,
      purgedBefore: '2026-01-03T00:00:00.000Z',
      createdAt: '2026-09-01T00:00:00.000Z',
      keyId: 'key',
      publicKey: 'pem',
      signature: 'sig',
    };
    await expect(audit.purge({ ...checkpoint, hash: 'stale' })).rejects.toThrow(StoreConflictError);
    expect(await audit.purge(checkpoint)).toBe(2);
    expect(await audit.checkpoints()).toEqual([checkpoint]);
    expect((await audit.scan(0, 10)).map((r) => r.seq)).toEqual([3, 4]);
    expect(await audit.countByRisk({ from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' })).toEqual([]);
    expect((await audit.head()).seq).toBe(4);
  });
}, { perTest: true });

describeEachStore('audit repository, a clock that stepped back', (getStore) => {
  it('never plans a purge past the first young event, even when older-stamped events follow it', async () => {
    const { audit } = getStore();
    await audit.append((h) => rows(h, [{ at: '2026-01-01T00:00:00.000Z' }, { at: '2026-03-01T00:00:00.000Z' }, { at: '2026-01-15T00:00:00.000Z' }]));
    expect(await audit.purgePlan('2026-02-01T00:00:00.000Z')).toEqual({ firstSeq: 1, lastSeq: 1, count: 1 });
    expect(await audit.purgePlan('2026-04-01T00:00:00.000Z')).toEqual({ firstSeq: 1, lastSeq: 3, count: 3 });
  });
});

describeEachStore('audit repository, next to other transactions', (getStore) => {
  it('an append made while another transaction is open waits for it and never joins it', async () => {
    const store = getStore();
    const before = await store.audit.head();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let opened!: () => void;
    const isOpen = new Promise<void>((resolve) => (opened = resolve));
    const rolledBack = store.transaction(async (tx) => {
      await tx.settings.set('audit.test', { n: 1 });
      opened();
      await held;
      throw new Error('rolled back');
    });
    await isOpen;
    const appended = store.audit.append((h) => rows(h, [{ at: '2026-01-05T00:00:00.000Z', type: 'outside' }]));
    release();
    await expect(rolledBack).rejects.toThrow('rolled back');
    const head = await appended;
    expect(head.seq).toBe(before.seq + 1);
    expect(await store.audit.find(head.seq)).toMatchObject({ type: 'outside' });
    expect(await store.settings.get('audit.test')).toBeUndefined();
  });
});
