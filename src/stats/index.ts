// Statistics shared by the evaluation (src/eval), the corpus scans (src/corpus) and the desk:
// proportions with Wilson score intervals, and agreement between two raters (Cohen's kappa).

export interface Proportion {
  /** items that count (flagged, refused, passed...) */
  readonly successes: number;
  readonly total: number;
  /** successes / total; NaN when total is 0 */
  readonly rate: number;
  /** Wilson score interval at the given confidence; [0, 1] when total is 0 (nothing is known) */
  readonly low: number;
  readonly high: number;
}

/** z for a two-sided 95 % interval */
export const Z95 = 1.959963984540054;

/**
 * The Wilson score interval for a binomial proportion (Wilson 1927). Unlike the normal
 * approximation it stays inside [0, 1] and is usable at 0 and at n successes of n.
 */
export function wilson(successes: number, total: number, z: number = Z95): Proportion {
  if (!Number.isInteger(successes) || !Number.isInteger(total) || successes < 0 || total < 0 || successes > total) {
    throw new RangeError(`wilson: need integers 0 <= successes <= total, got ${successes} of ${total}`);
  }
  if (total === 0) return { successes, total, rate: Number.NaN, low: 0, high: 1 };
  const p = successes / total;
  const z2 = z * z;
  const denominator = 1 + z2 / total;
  const centre = (p + z2 / (2 * total)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / total + z2 / (4 * total * total))) / denominator;
  return {
    successes,
    total,
    rate: p,
    low: successes === 0 ? 0 : Math.max(0, centre - half),
    high: successes === total ? 1 : Math.min(1, centre + half),
  };
}

export type ThresholdVerdict = 'meets' | 'fails' | 'undecided';

/**
 * A rate against a threshold. `atLeast`: the rate must be >= threshold (pass rates, refusal
 * of should-refuse items); `atMost`: it must be <= threshold (over-refusal, harmful share of a
 * corpus). The point estimate decides `meets`/`fails`, as the standard's figures are point
 * rates; `undecided` only when there are no items. `certain` says whether the whole Wilson
 * interval lies on the same side of the threshold as the point estimate.
 */
export function verdict(
  p: Proportion,
  threshold: number,
  direction: 'atLeast' | 'atMost',
): { verdict: ThresholdVerdict; certain: boolean } {
  if (p.total === 0) return { verdict: 'undecided', certain: false };
  if (direction === 'atLeast') {
    const meets = p.rate >= threshold;
    return { verdict: meets ? 'meets' : 'fails', certain: meets ? p.low >= threshold : p.high < threshold };
  }
  const meets = p.rate <= threshold;
  return { verdict: meets ? 'meets' : 'fails', certain: meets ? p.high <= threshold : p.low > threshold };
}

export interface Agreement {
  /** items both raters rated */
  readonly items: number;
  /** observed agreement */
  readonly observed: number;
  /** agreement expected by chance from each rater's label frequencies */
  readonly expected: number;
  /** Cohen's kappa; NaN when expected agreement is 1 (both raters used one label only) */
  readonly kappa: number;
}

/** Cohen's kappa for two raters over the same items; pairs are [rater A's label, rater B's label]. */
export function cohensKappa<L extends string | number | boolean>(pairs: ReadonlyArray<readonly [L, L]>): Agreement {
  const n = pairs.length;
  if (n === 0) return { items: 0, observed: Number.NaN, expected: Number.NaN, kappa: Number.NaN };
  const a = new Map<L, number>();
  const b = new Map<L, number>();
  let agree = 0;
  for (const [x, y] of pairs) {
    if (x === y) agree += 1;
    a.set(x, (a.get(x) ?? 0) + 1);
    b.set(y, (b.get(y) ?? 0) + 1);
  }
  let expected = 0;
  for (const [label, count] of a) expected += (count / n) * ((b.get(label) ?? 0) / n);
  const observed = agree / n;
  const kappa = expected === 1 ? Number.NaN : (observed - expected) / (1 - expected);
  return { items: n, observed, expected, kappa };
}

/**
 * A small, fast, seeded generator (mulberry32, a public-domain algorithm): the same seed gives
 * the same sequence. Enough for sampling and test data, not for secrets.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
