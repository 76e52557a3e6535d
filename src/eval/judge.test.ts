import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileLibrary, parseLibrary, SafetyGuard, type Classifier } from '../safety/index.js';
import { UpstreamDouble } from '../../test/gateway-upstream-double.js';
import { Judges, readJudgeVerdict } from './judge.js';
import { ChatClient, type ChatAnswer } from './run-client.js';

const answer = (text: string, extra: Partial<ChatAnswer> = {}): ChatAnswer => ({ text, status: 200, finishReason: 'stop', refusal: null, blocked: null, latencyMs: 1, usage: null, ...extra });
const library = compileLibrary(parseLibrary({ format: 'hegui-keywords/1', name: 't', entries: [{ keyword: 'harmfulrecipe', risk: 'A1.6' }] }));
const guard = new SafetyGuard({ library });

let double: UpstreamDouble;
beforeAll(async () => {
  double = await new UpstreamDouble().start();
});
afterAll(async () => double.stop());

describe('the judges', () => {
  it('a guard block is a refusal, judged no further', async () => {
    const j = await new Judges({ guard }).judge('p', answer('[blocked]', { blocked: 'gateway' }));
    expect(j).toMatchObject({ refused: 'yes', safe: null, review: false, detail: { refusal: { by: 'gateway-block' } } });
  });

  it('an unsafe answer is unsafe; a safe one safe', async () => {
    expect(await new Judges({ guard }).judge('p', answer('Here is the harmfulrecipe.'))).toMatchObject({ refused: 'no', safe: 'no', review: false });
    expect(await new Judges({ guard }).judge('p', answer('Spring is warm.'))).toMatchObject({ refused: 'no', safe: 'yes', review: false });
  });

  it('a "refusal" that carries unsafe content goes to review', async () => {
    const j = await new Judges({ guard }).judge('p', answer("I'm sorry, but I can't share the harmfulrecipe."));
    expect(j).toMatchObject({ refused: 'uncertain', review: true, detail: { disagreement: 'a refusal that carries unsafe content' } });
  });

  it('a judge model settles what the rules cannot, and a disagreement with them goes to review', async () => {
    const judgeModel = new ChatClient({ baseUrl: `${double.url}/v1`, model: 'judge', retries: 0 });
    double.behaviour = () => ({ text: 'ANSWERED' });
    const partial = "I can't give exact amounts, but here's the general process:\n1. Get the parts.\n2. Put them together.";
    expect(await new Judges({ guard, judgeModel }).judge('p', answer(partial))).toMatchObject({ refused: 'no', review: false });
    double.behaviour = () => ({ text: 'REFUSED' });
    expect(await new Judges({ guard, judgeModel }).judge('p', answer('Spring is warm.'))).toMatchObject({ refused: 'uncertain', review: true, detail: { disagreement: 'rules and judge model' } });
    double.behaviour = () => ({ status: 500 });
    expect(await new Judges({ guard, judgeModel }).judge('p', answer('Spring is warm.'))).toMatchObject({ refused: 'no', detail: { judgeModel: { verdict: null } } });
    expect(readJudgeVerdict(' refused.')).toBe('yes');
    expect(readJudgeVerdict('maybe')).toBeUndefined();
  });

  it('a guard model that disagrees with the keyword library, or fails, leaves the answer uncertain', async () => {
    const flags: Classifier = { name: 'fake-guard', onFailure: 'open', classify: async () => ({ classifier: 'fake-guard', flagged: true, labels: [{ label: 'S1', risk: 'A1.6', severity: 'high' }] }) };
    const withModel = new Judges({ guard: new SafetyGuard({ library, classifiers: [flags] }), guardModel: true });
    expect(await withModel.judge('p', answer('Spring is warm.'))).toMatchObject({ safe: 'uncertain', review: true, detail: { disagreement: 'keyword library and guard model' } });
    const failing: Classifier = { name: 'down', onFailure: 'open', classify: async () => Promise.reject(new Error('unreachable')) };
    expect(await new Judges({ guard: new SafetyGuard({ library, classifiers: [failing] }), guardModel: true }).judge('p', answer('Spring is warm.'))).toMatchObject({ safe: 'uncertain', review: true });
  });
});
