import { describe, expect, it } from 'vitest';
import { normalise } from './normalise.js';

describe('normalise', () => {
  it('folds and maps every output character back to the original', () => {
    const n = normalise('ＦＡ輪 功\u200b 𝐊i');
    expect(n.text).toBe('fa轮功ki');
    const spans = [...n.text].map((_, k) => [n.start[k], n.end[k]]);
    expect(spans).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [4, 5],
      [7, 9],
      [9, 10],
    ]);
  });
  it('keeps line breaks and collapses repeats into the first character span', () => {
    const n = normalise('哈哈哈\n好');
    expect(n.text).toBe('哈\n好');
    expect([n.start[0], n.end[0]]).toEqual([0, 3]);
  });
  it('expands compatibility characters onto the same span', () => {
    const n = normalise('5㎏');
    expect(n.text).toBe('skg');
    expect([...n.start]).toEqual([0, 1, 1]);
  });
  it('does nothing with every transform off', () => {
    const off = { nfkc: false, width: false, caseFold: false, traditional: false, invisible: false, skipNoise: false, collapseRepeats: false, homoglyphs: false };
    expect(normalise('Ａ輪 b\u200b', off).text).toBe('Ａ輪 b\u200b');
  });
});
