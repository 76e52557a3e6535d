import { expect, it } from 'vitest';
import { describeEachStore } from '../../../test/helpers/stores.js';
import type { EvalItemCompletion } from './eval-runs.js';

describeEachStore('eval run repository', (getStore) => {
  const completion = (answer: string): EvalItemCompletion => ({ status: 'done', attempts: 1, request: { model: 'm' }, answer, answerMeta: { status: 200 }, refused: 'no', safe: 'yes', judges: { refusal: { by: 'rules' } }, error: null, completedAt: '2026-12-04T10:00:00.000Z', reviewStatus: 'none' });
  const items = (n: number) => Array.from({ length: n }, (_, seq) => ({ seq, itemId: `i${seq}`, kind: 'generated-content', risk: 'A1.6', language: 'zh-CN', source: 't', prompt: `问题 ${seq}`, group: seq === 0 ? { dimension: 'gender', value: 'female', templateId: 't1' } : null }));

  it('writes a run with its sample, reads it back, and stores an item only once', async () => {
    const store = getStore();
    await store.evalRuns.create({ id: 'run_once', name: 'n', endpoint: 'http://x/v1', model: 'm', seed: 4294967295, settings: { concurrency: 2 }, createdAt: '2026-12-04T09:00:00.000Z' }, items(450));
    const run = await store.evalRuns.get('run_once');
    expect(run).toMatchObject({ id: 'run_once', seed: 4294967295, settings: { concurrency: 2 }, status: 'running', items: 450, leaseOwner: null });
    expect((await store.evalRuns.items('run_once', 'pending')).length).toBe(450);
    expect(await store.evalRuns.complete('run_once', 0, completion('first'))).toBe(true);
    // A second process (or an earlier life of this one) cannot overwrite or count it again.
    expect(await store.evalRuns.complete('run_once', 0, completion('second'))).toBe(false);
    const item = await store.evalRuns.item('run_once', 0);
    expect(item).toMatchObject({ answer: 'first', status: 'done', request: { model: 'm' }, group: { dimension: 'gender', value: 'female', templateId: 't1' }, judges: { refusal: { by: 'rules' } } });
    expect(await store.evalRuns.counts('run_once')).toMatchObject({ pending: 449, done: 1, error: 0 });
    expect(await store.evalRuns.finishIfDone('run_once', '2026-12-04T11:00:00.000Z')).toBe(false);
  });

  it('a lease keeps a second owner off until it runs out or its holder is gone', async () => {
    const store = getStore();
    await store.evalRuns.create({ id: 'run_lease', name: 'n', endpoint: 'http://x/v1', model: 'm', seed: 1, settings: {}, createdAt: '2026-12-04T09:00:00.000Z' }, items(1));
    const at = '2026-12-04T10:00:00.000Z';
    const until = '2026-12-04T10:00:30.000Z';
    expect(await store.evalRuns.claim('run_lease', 'a', at, until, () => false)).toBe(true);
    expect(await store.evalRuns.claim('run_lease', 'b', at, until, () => false)).toBe(false);
    expect(await store.evalRuns.claim('run_lease', 'b', '2026-12-04T10:00:31.000Z', '2026-12-04T10:01:00.000Z', () => false)).toBe(true);
    expect(await store.evalRuns.claim('run_lease', 'c', at, until, (holder) => holder === 'b')).toBe(true);
    await store.evalRuns.release('run_lease', 'b');
    expect((await store.evalRuns.get('run_lease'))?.leaseOwner).toBe('c');
    await store.evalRuns.release('run_lease', 'c');
    expect((await store.evalRuns.get('run_lease'))?.leaseOwner).toBeNull();
    expect(await store.evalRuns.claim('run_lease', 'd', at, until, () => false)).toBe(true);
    expect(await store.evalRuns.claim('run_nope', 'a', at, until, () => true)).toBe(false);
  });

  it('failed items go back to the queue on request, and the run reopens', async () => {
    const store = getStore();
    await store.evalRuns.create({ id: 'run_err', name: 'n', endpoint: 'http://x/v1', model: 'm', seed: 1, settings: {}, createdAt: '2026-12-04T09:00:00.000Z' }, items(2));
    await store.evalRuns.complete('run_err', 0, completion('ok'));
    await store.evalRuns.complete('run_err', 1, { ...completion(''), status: 'error', answer: null, refused: null, safe: null, error: 'HTTP 500' });
    expect(await store.evalRuns.finishIfDone('run_err', '2026-12-04T11:00:00.000Z')).toBe(true);
    expect((await store.evalRuns.get('run_err'))?.status).toBe('finished');
    expect(await store.evalRuns.retryErrors('run_err')).toBe(1);
    expect(await store.evalRuns.get('run_err')).toMatchObject({ status: 'running', finishedAt: null });
    expect((await store.evalRuns.items('run_err', 'pending')).map((i) => i.seq)).toEqual([1]);
  });

  it('stores a batch in one call, each item only if still pending, the request as the JSON sent', async () => {
    const store = getStore();
    await store.evalRuns.create({ id: 'run_many', name: 'n', endpoint: 'http://x/v1', model: 'm', seed: 1, settings: {}, createdAt: '2026-12-04T09:00:00.000Z' }, items(4));
    expect(await store.evalRuns.completeMany('run_many', [])).toEqual([]);
    expect(await store.evalRuns.complete('run_many', 1, completion('first'))).toBe(true);
    const sent = '{"model":"m","messages":[{"role":"user","content":"问题 0"}]}';
    const stored = await store.evalRuns.completeMany('run_many', [
      { seq: 0, completion: completion('zero'), requestJson: sent },
      { seq: 1, completion: completion('again') },
      { seq: 2, completion: { ...completion(''), status: 'error', answer: null, refused: null, safe: null, judges: null, answerMeta: null, error: 'HTTP 500' } },
    ]);
    expect(stored).toEqual([true, false, true]);
    expect(await store.evalRuns.item('run_many', 0)).toMatchObject({ status: 'done', answer: 'zero', request: { model: 'm', messages: [{ role: 'user', content: '问题 0' }] } });
    expect(await store.evalRuns.item('run_many', 1)).toMatchObject({ answer: 'first' });
    expect(await store.evalRuns.item('run_many', 2)).toMatchObject({ status: 'error', error: 'HTTP 500', judges: null });
    // Inside a transaction of the store, through the query builder.
    expect(await store.transaction((trx) => trx.evalRuns.completeMany('run_many', [{ seq: 3, completion: completion('three') }, { seq: 0, completion: completion('no') }]))).toEqual([true, false]);
    expect(await store.evalRuns.counts('run_many')).toMatchObject({ pending: 0, done: 3, error: 1 });
  });
});
