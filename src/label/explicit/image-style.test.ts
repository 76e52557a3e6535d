/**
 * The luminance percentiles the notice's colour choice reads: a histogram then a selection
 * within one bin must give exactly the order statistics a sort gives, ties, values at and
 * beyond 0 and 1, and small arrays (plain selection) included.
 */
import { describe, expect, it } from 'vitest';
import { summarise, summariseValues } from './image-style.js';

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const bySort = (values: Float64Array): { p05: number; p50: number; p95: number } => {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return { p05: at(0.05), p50: at(0.5), p95: at(0.95) };
};

describe('summariseValues', () => {
  it('gives the percentiles a sort gives, for spread, tied, clustered and out-of-range values of any count', () => {
    const next = random(7);
    const kinds: ((i: number) => number)[] = [
      () => next(),
      () => Math.floor(next() * 5) / 4,
      () => 0.5 + next() * 1e-6,
      () => (next() < 0.5 ? 0 : 1),
      () => next() * 1.2 - 0.1,
      (i) => (i % 100 === 0 ? next() : 0.25),
    ];
    for (const n of [1, 2, 19, 511, 512, 513, 2000, 19_158]) {
      for (const kind of kinds) {
        const values = Float64Array.from({ length: n }, (_, i) => kind(i));
        expect(summariseValues(Float64Array.from(values))).toEqual(bySort(values));
      }
    }
  });

  it('is what summarise gives for the same values, and zeros for none', () => {
    const next = random(11);
    const list = Array.from({ length: 3000 }, () => next() ** 2);
    expect(summariseValues(Float64Array.from(list))).toEqual(summarise(list));
    expect(summariseValues(new Float64Array(0))).toEqual({ p05: 0, p50: 0, p95: 0 });
  });
});
