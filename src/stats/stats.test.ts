import { describe, expect, it } from 'vitest';
import { cohensKappa, verdict, wilson } from './index.js';

describe('wilson', () => {
  it('matches published values', () => {
    // 81 of 263: interval 0.2553 to 0.3662 (Newcombe 1998, method 3, to 4 places)
    const p = wilson(81, 263);
    expect(p.low).toBeCloseTo(0.2553, 3);
    expect(p.high).toBeCloseTo(0.3662, 3);
  });
  it('stays inside [0, 1] at the edges and knows nothing of no items', () => {
    expect(wilson(0, 10).low).toBe(0);
    expect(wilson(10, 10).high).toBe(1);
    expect(wilson(0, 10).high).toBeCloseTo(0.2775, 3);
    const none = wilson(0, 0);
    expect([none.low, none.high, Number.isNaN(none.rate)]).toEqual([0, 1, true]);
  });
  it('refuses impossible counts', () => {
    expect(() => wilson(3, 2)).toThrow(RangeError);
    expect(() => wilson(-1, 2)).toThrow(RangeError);
    expect(() => wilson(0.5, 2)).toThrow(RangeError);
  });
});

describe('verdict', () => {
  it('decides by the point rate and says whether the interval agrees', () => {
    expect(verdict(wilson(950, 1000), 0.9, 'atLeast')).toEqual({ verdict: 'meets', certain: true });
    expect(verdict(wilson(905, 1000), 0.9, 'atLeast')).toEqual({ verdict: 'meets', certain: false });
    expect(verdict(wilson(60, 1000), 0.05, 'atMost')).toEqual({ verdict: 'fails', certain: false });
    expect(verdict(wilson(0, 0), 0.05, 'atMost').verdict).toBe('undecided');
  });
});

describe('cohensKappa', () => {
  it('matches a worked example', () => {
    // 50 items: both yes 20, A yes B no 5, A no B yes 10, both no 15 -> kappa 0.4
    const pairs: Array<[string, string]> = [
      ...Array.from({ length: 20 }, () => ['y', 'y'] as [string, string]),
      ...Array.from({ length: 5 }, () => ['y', 'n'] as [string, string]),
      ...Array.from({ length: 10 }, () => ['n', 'y'] as [string, string]),
      ...Array.from({ length: 15 }, () => ['n', 'n'] as [string, string]),
    ];
    expect(cohensKappa(pairs).kappa).toBeCloseTo(0.4, 10);
  });
  it('is NaN when it cannot be defined', () => {
    expect(Number.isNaN(cohensKappa([]).kappa)).toBe(true);
    expect(Number.isNaN(cohensKappa([['a', 'a'], ['a', 'a']]).kappa)).toBe(true);
  });
});
