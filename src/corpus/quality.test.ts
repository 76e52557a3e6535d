import { describe, expect, it } from 'vitest';
import { annotationQa } from './annotation.js';
import { languageOf } from './inspect.js';
import { findDuplicates, minhash, similarity } from './quality.js';
import { fileSeed, itemKey } from './random.js';
import { fieldPath, pathValue } from './read.js';

describe('sampling keys', () => {
  it('are deterministic, uniform enough, and differ by seed and file', () => {
    const base = fileSeed(7, '/data/a.jsonl');
    expect(itemKey(base, 123)).toBe(itemKey(fileSeed(7, '/data/a.jsonl'), 123));
    expect(itemKey(base, 123)).not.toBe(itemKey(fileSeed(8, '/data/a.jsonl'), 123));
    expect(itemKey(base, 123)).not.toBe(itemKey(fileSeed(7, '/data/b.jsonl'), 123));
    const keys = Array.from({ length: 20000 }, (_, i) => itemKey(base, i * 97));
    expect(keys.every((k) => k >= 0 && k < 1)).toBe(true);
    const below = keys.filter((k) => k < 0.2).length / keys.length;
    expect(below).toBeGreaterThan(0.19);
    expect(below).toBeLessThan(0.21);
    expect(itemKey(base, 2 ** 40)).not.toBe(itemKey(base, 0));
  });
});

describe('duplicates', () => {
  it('MinHash estimates similarity: near texts agree, unrelated ones do not', () => {
    const a = '国家统计局今天发布数据显示，上个月全国居民消费价格同比上涨百分之零点五，环比持平。';
    const b = `${a}记者 张三`;
    const c = '一只小猫在阳光下睡觉，旁边的小狗在草地上追逐蝴蝶，孩子们笑着跑来跑去。';
    expect(similarity(minhash(a), minhash(a))).toBe(1);
    expect(similarity(minhash(a), minhash(b))).toBeGreaterThan(0.7);
    expect(similarity(minhash(a), minhash(c))).toBeLessThan(0.2);
  });

  it('counts exact and near duplicates once each, and stops at maxItems', async () => {
    const texts = ['同一段 文字', '同一段   文字', 'the quick brown fox jumps over the lazy dog near the river bank today', 'the quick brown fox jumps over the lazy dog near the river bank today!', 'something else entirely, about weather and rain in the mountains'];
    const report = await findDuplicates(texts.map((text, i) => ({ id: String(i), text })));
    expect(report).toMatchObject({ items: 5, exactDuplicates: 1, nearDuplicates: 1 });
    expect(report.examples).toEqual([['0', '1'], ['2', '3']]);
    expect((await findDuplicates(texts.map((text, i) => ({ id: String(i), text })), { maxItems: 2 })).notChecked).toBe(3);
  });
});

it('language by script share', () => {
  expect(languageOf('今天天气很好 OK')).toBe('zh');
  expect(languageOf('The weather is fine today, 好')).toBe('en');
  expect(languageOf('Сегодня хорошая погода')).toBe('other');
  expect(languageOf('12345 !!!')).toBe('other');
});

it('field paths refuse prototype names and follow own properties only', () => {
  expect(() => fieldPath('__proto__.x')).toThrow(/not a usable path/);
  expect(() => fieldPath('a..b')).toThrow(/not a usable path/);
  expect(pathValue(JSON.parse('{"a":{"b":"x"}}'), fieldPath('a.b'))).toBe('x');
  expect(pathValue({}, fieldPath('toString'))).toBeUndefined();
  expect(pathValue({ m: ['p', 'q'] }, fieldPath('m.1'))).toBe('q');
});

it('annotation QA: kappa per pair, accuracy on gold, untrained annotators', () => {
  const at = '2026-12-04T00:00:00Z';
  const label = (item: string, annotator: string, value: string) => ({ batch: 'b', item, annotator, label: value, rulesId: 'r', rulesVersion: 1, createdAt: at });
  const qa = annotationQa(
    [label('1', 'x', 'a'), label('1', 'y', 'a'), label('2', 'x', 'b'), label('2', 'y', 'b'), label('3', 'x', 'a'), label('3', 'y', 'b'), label('4', 'x', 'b')],
    [{ batch: 'b', item: '1', label: 'a' }, { batch: 'b', item: '3', label: 'a' }],
    [{ id: 't', annotator: 'x', rulesId: 'r', rulesVersion: 1, completedAt: at, score: 1, passed: true, notes: null }],
    [],
  );
  expect(qa.batches[0]).toMatchObject({ items: 4, labels: 7, doubleAnnotated: 3, accuracy: { successes: 3, total: 4 } });
  expect(qa.batches[0]!.pairs[0]).toMatchObject({ annotators: ['x', 'y'], items: 3 });
  expect(qa.batches[0]!.pairs[0]!.kappa).toBeCloseTo(0.4, 5);
  expect(qa.annotators.map((a) => [a.annotator, a.untrainedFor])).toEqual([
    ['x', []],
    ['y', ['r@1']],
  ]);
});
