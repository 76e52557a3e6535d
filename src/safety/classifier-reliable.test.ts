import { describe, expect, it } from 'vitest';
import type { Classifier, ClassifierVerdict, ClassifyContext } from './classifier.js';
import { ReliableClassifier } from './classifier-reliable.js';
import { ClassifierError } from './errors.js';

/** A guard model as seen from outside: answers after `delayMs`, or fails, and honours aborts. */
class ScriptedModel implements Classifier {
  readonly name = 'scripted';
  readonly onFailure = 'open' as const;
  delayMs = 0;
  fail = false;
  calls = 0;
  aborted = 0;

  classify(_text: string, context: ClassifyContext): Promise<ClassifierVerdict> {
    this.calls += 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.fail ? reject(new Error('HTTP 503')) : resolve({ classifier: this.name, flagged: false, labels: [] })), this.delayMs);
      context.signal?.addEventListener('abort', () => {
        this.aborted += 1;
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    });
  }
}

describe('ReliableClassifier', () => {
  it('abandons a call past its budget and aborts the model request', async () => {
    const model = new ScriptedModel();
    model.delayMs = 10_000;
    const reliable = new ReliableClassifier(model, { budgetMs: 30, failures: 3, cooldownMs: 1000 });
    await expect(reliable.classify('x', { direction: 'input' })).rejects.toThrow(/within its budget of 30 ms/);
    expect(model.aborted).toBe(1);
    expect(reliable.stats.timeouts).toBe(1);
  });

  it('opens after failures in a row, fails fast while open, then lets one trial through', async () => {
    let now = 0;
    const model = new ScriptedModel();
    model.fail = true;
    const reliable = new ReliableClassifier(model, { budgetMs: 1000, failures: 2, cooldownMs: 5000, now: () => now });
    for (let i = 0; i < 2; i++) await expect(reliable.classify('x', { direction: 'input' })).rejects.toBeInstanceOf(ClassifierError);
    expect(reliable.state).toBe('open');
    await expect(reliable.classify('x', { direction: 'input' })).rejects.toThrow(/circuit is open for 5 s more/);
    expect(model.calls).toBe(2);
    now = 5000;
    expect(reliable.state).toBe('half-open');
    // the trial fails: open again for a whole cooldown
    await expect(reliable.classify('x', { direction: 'input' })).rejects.toThrow(/HTTP 503/);
    expect(model.calls).toBe(3);
    expect(reliable.state).toBe('open');
    now = 10_000;
    model.fail = false;
    await expect(reliable.classify('x', { direction: 'input' })).resolves.toMatchObject({ flagged: false });
    expect(reliable.state).toBe('closed');
  });

  it('lets only one trial run while half-open', async () => {
    let now = 0;
    const model = new ScriptedModel();
    model.fail = true;
    const reliable = new ReliableClassifier(model, { budgetMs: 1000, failures: 1, cooldownMs: 10, now: () => now });
    await expect(reliable.classify('x', { direction: 'input' })).rejects.toThrow();
    now = 20;
    model.fail = false;
    model.delayMs = 20;
    const trial = reliable.classify('x', { direction: 'input' });
    await expect(reliable.classify('x', { direction: 'input' })).rejects.toThrow(/while one trial call runs/);
    await expect(trial).resolves.toMatchObject({ flagged: false });
    expect(model.calls).toBe(2);
  });

  it('resets the count on success: failures must be in a row', async () => {
    const model = new ScriptedModel();
    const reliable = new ReliableClassifier(model, { budgetMs: 1000, failures: 2, cooldownMs: 1000 });
    model.fail = true;
    await expect(reliable.classify('x', { direction: 'input' })).rejects.toThrow();
    model.fail = false;
    await reliable.classify('x', { direction: 'input' });
    model.fail = true;
    await expect(reliable.classify('x', { direction: 'input' })).rejects.toThrow();
    expect(reliable.state).toBe('closed');
  });

  it('refuses nonsense settings', () => {
    expect(() => new ReliableClassifier(new ScriptedModel(), { budgetMs: 0, failures: 1, cooldownMs: 0 })).toThrow(RangeError);
  });
});
