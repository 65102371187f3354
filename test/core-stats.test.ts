import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bootstrapClusters,
  bootstrapMeans,
  clusteredMean,
  excludesZero,
  pairedBootstrapDiff,
  quantileSorted,
  seededRng,
  standardError,
  type Rng,
} from '../src/index.js';

/**
 * Reference implementation, written the naive way (explicit index lists, nested means), drawing
 * from the generator in the same order as the library: question indices first, then run a's
 * seeds, then run b's. Same seed → the same replicates, so the intervals must agree exactly.
 */
function referencePaired(a: number[][][], b: number[][][] | null, resamples: number, level: number, seed: number) {
  const rng: Rng = seededRng(seed);
  const Q = a[0].length;
  const K = a[0][0].length;
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const runMean = (v: number[][][], qs: number[], ss: number[], k: number) => mean(ss.flatMap((s) => qs.map((q) => v[s][q][k])));
  const all = (n: number) => Array.from({ length: n }, (_, i) => i);
  const reps: number[][] = Array.from({ length: K }, () => []);
  for (let r = 0; r < resamples; r++) {
    const qs = Array.from({ length: Q }, () => Math.floor(rng() * Q));
    const sa = Array.from({ length: a.length }, () => Math.floor(rng() * a.length));
    const sb = b ? Array.from({ length: b.length }, () => Math.floor(rng() * b.length)) : [];
    for (let k = 0; k < K; k++) reps[k].push(runMean(a, qs, sa, k) - (b ? runMean(b, qs, sb, k) : 0));
  }
  return reps.map((xs, k) => {
    const sorted = [...xs].sort((x, y) => x - y);
    const est = runMean(a, all(Q), all(a.length), k) - (b ? runMean(b, all(Q), all(b.length), k) : 0);
    const m = mean(xs);
    const se = Math.sqrt(xs.reduce((acc, x) => acc + (x - m) ** 2, 0) / (xs.length - 1));
    return { estimate: est, lo: quantileSorted(sorted, (1 - level) / 2), hi: quantileSorted(sorted, 1 - (1 - level) / 2), se };
  });
}

const randomRun = (rng: Rng, seeds: number, Q: number, K: number, p = 0.5) =>
  Array.from({ length: seeds }, () => Array.from({ length: Q }, () => Array.from({ length: K }, () => (rng() < p ? 1 : 0))));

describe('standard errors', () => {
  it('standardError: sd(n−1)/√n, hand-worked', () => {
    // [1, 2, 3, 4]: mean 2.5, variance (2.25+0.25+0.25+2.25)/3 = 5/3, se = √(5/3/4).
    expect(standardError([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 12), 14);
    expect(standardError([0.7])).toBeNaN();
    expect(() => standardError([1, Number.NaN])).toThrow(/^values\[1\] must be finite/);
  });
  it('clusteredMean: the standard error is taken over question means, not over samples', () => {
    // Two questions, always right / always wrong: 4 samples each.
    const r = clusteredMean([
      [1, 1, 1, 1],
      [0, 0, 0, 0],
    ]);
    expect(r.mean).toBe(0.5);
    expect(r.clusters).toBe(2);
    expect(r.samples).toBe(8);
    // Cluster means 1 and 0: sd = √0.5, se = √0.5/√2 = 0.5 — not the naive √(0.25/8) ≈ 0.177.
    expect(r.se).toBeCloseTo(0.5, 14);
  });
  it('clusteredMean with equal cluster sizes equals standardError of the cluster means', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 3, maxLength: 3 }), { minLength: 2, maxLength: 30 }), (rows) => {
        const r = clusteredMean(rows);
        const means = rows.map((c) => c.reduce((a, b) => a + b, 0) / c.length);
        expect(r.se).toBeCloseTo(standardError(means), 12);
        expect(r.mean).toBeCloseTo(means.reduce((a, b) => a + b, 0) / means.length, 12);
      }),
    );
  });
  it('clusteredMean rejects bad input, naming it', () => {
    expect(() => clusteredMean([])).toThrow(/^scores: must be a non-empty array/);
    expect(() => clusteredMean([[1], []])).toThrow(/^scores\[1\] must be a non-empty array/);
  });
});

describe('bootstrap intervals', () => {
  it('bootstrapMeans equals the naive reference implementation replicate for replicate', () => {
    const rng = seededRng(11);
    const a = randomRun(rng, 3, 40, 4);
    const ours = bootstrapMeans(a, { resamples: 300, seed: 5 });
    const ref = referencePaired(a, null, 300, 0.95, 5);
    ours.forEach((x, k) => {
      expect(x.estimate).toBeCloseTo(ref[k].estimate, 12);
      expect(x.lo).toBeCloseTo(ref[k].lo, 12);
      expect(x.hi).toBeCloseTo(ref[k].hi, 12);
      expect(x.se).toBeCloseTo(ref[k].se, 12);
    });
  });
  it('pairedBootstrapDiff equals the naive reference implementation (unequal seed counts)', () => {
    const rng = seededRng(12);
    const a = randomRun(rng, 5, 30, 3, 0.6);
    const b = randomRun(rng, 3, 30, 3, 0.4);
    const ours = pairedBootstrapDiff(a, b, { resamples: 250, level: 0.9, seed: 9 });
    const ref = referencePaired(a, b, 250, 0.9, 9);
    ours.forEach((x, k) => {
      expect(x.level).toBe(0.9);
      expect(x.estimate).toBeCloseTo(ref[k].estimate, 12);
      expect(x.lo).toBeCloseTo(ref[k].lo, 12);
      expect(x.hi).toBeCloseTo(ref[k].hi, 12);
    });
  });
  it('constant data gives a zero-width interval at the value', () => {
    const [i] = bootstrapMeans([[[0.25], [0.25], [0.25]]], { resamples: 50 });
    expect(i).toMatchObject({ estimate: 0.25, level: 0.95 });
    expect(i.lo).toBeCloseTo(0.25, 14);
    expect(i.hi).toBeCloseTo(0.25, 14);
    expect(i.se).toBeLessThan(1e-14);
  });
  it('pairing removes the between-question spread: a constant per-question shift has a zero-width interval', () => {
    // Questions vary wildly, but run a is exactly 0.1 above run b on every question, one seed each.
    const rng = seededRng(3);
    const b = [Array.from({ length: 50 }, () => [rng()])];
    const a = [b[0].map(([x]) => [x + 0.1])];
    const [d] = pairedBootstrapDiff(a, b, { resamples: 200 });
    expect(d.estimate).toBeCloseTo(0.1, 12);
    expect(d.hi - d.lo).toBeLessThan(1e-12);
    expect(excludesZero(d)).toBe(true);
    // Unpaired, the same data would look like noise: each run's own interval is wide.
    const [ia] = bootstrapMeans(a, { resamples: 200 });
    expect(ia.hi - ia.lo).toBeGreaterThan(0.1);
  });
  it('seed spread widens the interval: two seeds that disagree vs two that agree', () => {
    const q = 40;
    const same = [Array.from({ length: q }, (_, i) => [i % 2]), Array.from({ length: q }, (_, i) => [i % 2])];
    const apart = [Array.from({ length: q }, (_, i) => [i % 2 ? 1 : 0.4]), Array.from({ length: q }, (_, i) => [i % 2 ? 0.6 : 0])];
    const [s] = bootstrapMeans(same, { resamples: 400 });
    const [p] = bootstrapMeans(apart, { resamples: 400 });
    expect(s.estimate).toBeCloseTo(p.estimate, 12);
    expect(p.hi - p.lo).toBeGreaterThan(s.hi - s.lo);
  });
  it('large samples: the interval is close to estimate ± 1.96 × standard error', () => {
    const rng = seededRng(21);
    const Q = 2000;
    const a = [Array.from({ length: Q }, () => [rng() < 0.3 ? 1 : 0])];
    const [i] = bootstrapMeans(a, { resamples: 2000, seed: 1 });
    const se = standardError(a[0].map(([x]) => x));
    expect(i.se).toBeCloseTo(se, 3);
    expect(i.lo).toBeCloseTo(i.estimate - 1.96 * se, 2);
    expect(i.hi).toBeCloseTo(i.estimate + 1.96 * se, 2);
  });
  it('covers the true mean about 95% of the time (simulation)', () => {
    const rng = seededRng(99);
    let covered = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const a = [Array.from({ length: 60 }, () => [rng() < 0.4 ? 1 : 0])];
      const [i] = bootstrapMeans(a, { resamples: 400, seed: t });
      if (i.lo <= 0.4 && 0.4 <= i.hi) covered++;
    }
    // Binomial(200, 0.95) lies in [180, 197] with probability > 0.999.
    expect(covered).toBeGreaterThanOrEqual(180);
    expect(covered).toBeLessThanOrEqual(198);
  });
  it('the same seed gives the same interval; another seed a slightly different one', () => {
    const a = randomRun(seededRng(4), 2, 30, 2);
    expect(bootstrapMeans(a, { seed: 7, resamples: 100 })).toEqual(bootstrapMeans(a, { seed: 7, resamples: 100 }));
    expect(bootstrapMeans(a, { seed: 8, resamples: 100 })).not.toEqual(bootstrapMeans(a, { seed: 7, resamples: 100 }));
  });
  it('bootstrapClusters: a ratio statistic over questions; counts = null gives the estimate', () => {
    // Statistic: Σ x / Σ y over clusters (a ratio of sums, not a mean).
    const x = [1, 2, 3, 4, 5];
    const y = [2, 2, 2, 2, 2];
    const stat = (c: Float64Array | null) => {
      let sx = 0;
      let sy = 0;
      x.forEach((v, i) => {
        const w = c ? c[i] : 1;
        sx += w * v;
        sy += w * y[i];
      });
      return [sx / sy];
    };
    const [r] = bootstrapClusters(5, stat, { resamples: 500 });
    expect(r.estimate).toBe(1.5);
    expect(r.lo).toBeLessThan(1.5);
    expect(r.hi).toBeGreaterThan(1.5);
    expect(r.lo).toBeGreaterThanOrEqual(0.5);
    expect(r.hi).toBeLessThanOrEqual(2.5);
  });
  it('rejects bad input, naming the argument and what is allowed', () => {
    expect(() => bootstrapMeans([])).toThrow(/^values: must be a non-empty array \[seed\]\[question\]\[column\]/);
    expect(() => bootstrapMeans([[[1]], [[1], [0]]])).toThrow(/^values: is ragged: seed 0 has 1 questions but seed 1 has 2/);
    expect(() => pairedBootstrapDiff([[[1]]], [[[1]], [[0]]].slice(0, 1).map(() => [[1], [0]]))).toThrow(/^b: must hold the same questions as a \(1\), got 2/);
    expect(() => bootstrapMeans([[[1]]], { level: 1.5 })).toThrow(/^level: must be in \(0, 1\)/);
    expect(() => bootstrapMeans([[[1]]], { resamples: 3 })).toThrow(/^resamples: must be an integer ≥ 10/);
    expect(() => bootstrapMeans([[[Number.NaN]]])).toThrow(/^values\[0\]\[0\]\[0\] must be finite/);
    expect(() => bootstrapClusters(0, () => [0])).toThrow(/^clusters: must be a positive integer/);
  });
  it('quantileSorted interpolates between order statistics', () => {
    expect(quantileSorted([0, 10], 0.25)).toBe(2.5);
    expect(quantileSorted([1, 2, 3], 0.5)).toBe(2);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
});
