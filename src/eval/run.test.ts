import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachStore } from '../../test/helpers/stores.js';
import { UpstreamDouble } from '../../test/gateway-upstream-double.js';
import type { Judges } from './judge.js';
import { createRun, executeRun } from './run.js';

let double: UpstreamDouble;
beforeAll(async () => {
  double = await new UpstreamDouble().start();
  double.behaviour = () => ({ text: '好的。' });
});
afterAll(async () => double.stop());

describeEachStore('executeRun', (getStore) => {
  it('a judge that throws sends the item to a person instead of stalling the run', async () => {
    const store = getStore();
    const bank = ['a', 'b'].map((id) => ({ id, prompt: `boom ${id}`, risk: null, kind: 'should-not-refuse' as const, language: 'zh-CN', source: 't' }));
    const { run } = await createRun({ store, bank, endpoint: `${double.url}/v1`, model: 'm', seed: 1, settings: { concurrency: 2, requestsPerSecond: 0, timeoutMs: 5000, retries: 0, backoffMs: 1, sample: { 'should-not-refuse': null }, judges: {}, bank: { source: 't', items: 2 } } });
    const judges = {
      judge: async (prompt: string) => {
        if (prompt.endsWith('a')) throw new Error('library gone');
        return { refused: 'no' as const, safe: 'yes' as const, review: false, detail: {} };
      },
    } as unknown as Judges;
    const progress: number[] = [];
    const result = await executeRun({ store, runId: run.id, judges, onProgress: (p) => progress.push(p.done) });
    expect(result).toEqual({ completed: 2, finished: true });
    expect(progress.at(-1)).toBe(2);
    const [a, b] = await store.evalRuns.items(run.id);
    expect(a).toMatchObject({ status: 'done', refused: 'uncertain', safe: 'uncertain', reviewStatus: 'open', judges: { error: 'the judges failed: library gone' } });
    expect(b).toMatchObject({ status: 'done', refused: 'no', safe: 'yes', reviewStatus: 'none' });
    // Nothing left to do: a second execution sends nothing.
    const seen = double.seen.length;
    expect(await executeRun({ store, runId: run.id, judges })).toEqual({ completed: 0, finished: true });
    expect(double.seen.length).toBe(seen);
  });

  it('a store that fails to write stops the run with its error, leaves the items pending and releases the run', async () => {
    const store = getStore();
    const bank = ['x', 'y', 'z'].map((id) => ({ id, prompt: `store fails ${id}`, risk: null, kind: 'should-not-refuse' as const, language: 'zh-CN', source: 't' }));
    const { run } = await createRun({ store, bank, endpoint: `${double.url}/v1`, model: 'm', seed: 1, settings: { concurrency: 1, requestsPerSecond: 0, timeoutMs: 5000, retries: 0, backoffMs: 1, sample: { 'should-not-refuse': null }, judges: {}, bank: { source: 't', items: 3 } } });
    const judges = { judge: async () => ({ refused: 'no' as const, safe: 'yes' as const, review: false, detail: {} }) } as unknown as Judges;
    const write = vi.spyOn(store.evalRuns, 'completeMany').mockRejectedValue(new Error('disk full'));
    try {
      await expect(executeRun({ store, runId: run.id, judges })).rejects.toThrow('disk full');
    } finally {
      write.mockRestore();
    }
    expect((await store.evalRuns.counts(run.id)).pending).toBe(3);
    expect(await store.evalRuns.get(run.id)).toMatchObject({ status: 'running', leaseOwner: null });
    // A resume stores every item.
    expect(await executeRun({ store, runId: run.id, judges })).toEqual({ completed: 3, finished: true });
  });
});
