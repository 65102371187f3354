/**
 * Statistics for reading evaluations and comparing runs: standard errors of accuracies, and
 * percentile bootstrap confidence intervals over questions and seeds, paired when two runs were
 * evaluated on the same questions. Pure functions over plain arrays.
 *
 * Data layout. An evaluation of one run under one seed gives, per held-out question, a value per
 * statistic column (e.g. the question's accuracy at each budget, averaged over its samples; the
 * anytime score; the final accuracy): `values[seed][question][column]`. Every seed of a run is
 * evaluated on the same questions, and two runs compared with each other are evaluated on the
 * same questions with the same sample seeds, so question `q` means the same thing everywhere.
 *
 * Why a two-level (hierarchical) bootstrap: a run's result varies with its training seed and with
 * which questions were drawn for evaluation. Each bootstrap replicate resamples seeds with
 * replacement (independently for each run: seed 0 of one run has nothing to do with seed 0 of
 * another) and question indices with replacement (once per replicate, shared by every seed and
 * by both runs of a paired comparison: the pairing is what removes the between-question variance
 * from a difference). The interval is the percentile interval of the replicates (Efron &
 * Tibshirani 1993, ch. 13); the estimate is the plain statistic on the data.
 */
import { fail } from './errors.js';
import { seededRng, type Rng } from './rng.js';

/** A point estimate with its bootstrap standard error and a two-sided percentile interval. */
export interface Interval {
  estimate: number;
  /** Lower and upper ends of the `level` percentile interval. */
  lo: number;
  hi: number;
  /** Standard deviation of the bootstrap replicates (the bootstrap standard error). */
  se: number;
  /** Coverage, e.g. 0.95. */
  level: number;
}

export interface BootstrapOptions {
  /** Bootstrap replicates (default 2000). */
  resamples?: number;
  /** Interval coverage in (0, 1) (default 0.95). */
  level?: number;
  /** Seed of the resampling (default 0): the same data and seed give the same interval. */
  seed?: number;
}

/** Standard error of a mean, `sd / √n` with the `n − 1` standard deviation; NaN when `n < 2`. */
export function standardError(values: number[]): number {
  checkFiniteArray('values', values);
  const n = values.length;
  if (n < 2) return Number.NaN;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  return Math.sqrt(variance / n);
}

/**
 * Mean and standard error of scores grouped in clusters (`[cluster][sample]`, e.g. questions ×
 * samples of one question). Samples of one question are correlated (an impossible question is
 * wrong every time), so the standard error is taken over the cluster means, not over all samples
 * as if independent. Clusters may differ in size; the mean weights every sample equally.
 */
export function clusteredMean(scores: number[][]): { mean: number; se: number; clusters: number; samples: number } {
  if (!Array.isArray(scores) || scores.length === 0) fail('scores', 'must be a non-empty array of clusters [cluster][sample]');
  let total = 0;
  let samples = 0;
  scores.forEach((cluster, c) => {
    if (!Array.isArray(cluster) || cluster.length === 0) fail('scores', `[${c}] must be a non-empty array of numbers`);
    checkFiniteArray(`scores[${c}]`, cluster);
    for (const x of cluster) total += x;
    samples += cluster.length;
  });
  const mean = total / samples;
  const K = scores.length;
  if (K < 2) return { mean, se: Number.NaN, clusters: K, samples };
  // Ratio-estimator variance of a mean over clusters of unequal size (reduces to sd(means)/√K).
  const mBar = samples / K;
  let ss = 0;
  for (const cluster of scores) {
    const sum = cluster.reduce((a, b) => a + b, 0);
    ss += (sum - mean * cluster.length) ** 2;
  }
  const se = Math.sqrt(ss / (K - 1) / K) / mBar;
  return { mean, se, clusters: K, samples };
}

/**
 * Percentile bootstrap intervals for the mean of each column of one run's values
 * `[seed][question][column]`: the estimate is the mean over seeds of the mean over questions.
 * Replicates resample seeds and questions (see the module comment).
 */
export function bootstrapMeans(values: number[][][], opts: BootstrapOptions = {}): Interval[] {
  const a = Values.from('values', values);
  const { resamples, level, rng } = resolve(opts);
  const reps = Array.from({ length: a.columns }, () => new Float64Array(resamples));
  const qCounts = new Float64Array(a.questions);
  const sums = new Float64Array(a.columns);
  for (let r = 0; r < resamples; r++) {
    drawCounts(qCounts, rng);
    a.resampledMeans(qCounts, rng, sums);
    for (let k = 0; k < a.columns; k++) reps[k][r] = sums[k];
  }
  const est = a.means();
  return est.map((e, k) => interval(e, reps[k], level));
}

/**
 * Paired bootstrap intervals for `mean(a) − mean(b)`, column by column, of two runs evaluated on
 * the same questions (`a[seedA][question][column]`, `b[seedB][question][column]`; the seed counts
 * may differ). Each replicate draws one set of question indices for both runs (the pairing) and
 * resamples each run's seeds on its own. A difference whose interval excludes 0 is significant at
 * `1 − level`.
 */
export function pairedBootstrapDiff(a: number[][][], b: number[][][], opts: BootstrapOptions = {}): Interval[] {
  const A = Values.from('a', a);
  const B = Values.from('b', b);
  if (A.questions !== B.questions) fail('b', `must hold the same questions as a (${A.questions}), got ${B.questions}`);
  if (A.columns !== B.columns) fail('b', `must have the same columns as a (${A.columns}), got ${B.columns}`);
  const { resamples, level, rng } = resolve(opts);
  const reps = Array.from({ length: A.columns }, () => new Float64Array(resamples));
  const qCounts = new Float64Array(A.questions);
  const sa = new Float64Array(A.columns);
  const sb = new Float64Array(A.columns);
  for (let r = 0; r < resamples; r++) {
    drawCounts(qCounts, rng);
    A.resampledMeans(qCounts, rng, sa);
    B.resampledMeans(qCounts, rng, sb);
    for (let k = 0; k < A.columns; k++) reps[k][r] = sa[k] - sb[k];
  }
  const ma = A.means();
  const mb = B.means();
  return ma.map((m, k) => interval(m - mb[k], reps[k], level));
}

/**
 * Generic cluster bootstrap: resamples `clusters` indices with replacement and evaluates
 * `statistic` on each replicate's multiplicities (`counts[i]` = times cluster i was drawn), for
 * statistics that are not means (e.g. a variance ratio over questions). `statistic(null)` must
 * return the estimate on the original data. Replicates where a statistic is not finite are dropped
 * from that statistic's interval.
 */
export function bootstrapClusters(
  clusters: number,
  statistic: (counts: Float64Array | null) => number[],
  opts: BootstrapOptions = {},
): Interval[] {
  if (!Number.isInteger(clusters) || clusters < 1) fail('clusters', `must be a positive integer, got ${String(clusters)}`);
  const { resamples, level, rng } = resolve(opts);
  const est = statistic(null);
  const reps = est.map(() => [] as number[]);
  const counts = new Float64Array(clusters);
  for (let r = 0; r < resamples; r++) {
    drawCounts(counts, rng);
    statistic(counts).forEach((x, k) => {
      if (Number.isFinite(x)) reps[k].push(x);
    });
  }
  return est.map((e, k) => interval(e, Float64Array.from(reps[k]), level));
}

/** Whether an interval excludes 0 (the difference is significant at its level). */
export function excludesZero(i: Interval): boolean {
  return i.lo > 0 || i.hi < 0;
}

/** Percentile of sorted data by linear interpolation between order statistics (type 7). */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

// ---- internals ----

/** One run's values flattened to `[seed][question][column]` in a Float64Array. */
class Values {
  private constructor(
    readonly data: Float64Array,
    readonly seeds: number,
    readonly questions: number,
    readonly columns: number,
  ) {}

  static from(argument: string, values: number[][][]): Values {
    if (!Array.isArray(values) || values.length === 0) fail(argument, 'must be a non-empty array [seed][question][column]');
    const Q = Array.isArray(values[0]) ? values[0].length : 0;
    const K = Q > 0 && Array.isArray(values[0][0]) ? values[0][0].length : 0;
    if (Q === 0 || K === 0) fail(argument, `must have shape [seed][question][column] with at least one question and column, got ${Q} questions, ${K} columns`);
    const data = new Float64Array(values.length * Q * K);
    values.forEach((seed, s) => {
      if (!Array.isArray(seed) || seed.length !== Q) fail(argument, `is ragged: seed 0 has ${Q} questions but seed ${s} has ${seed?.length}`);
      seed.forEach((row, q) => {
        if (!Array.isArray(row) || row.length !== K) fail(argument, `is ragged: [0][0] has ${K} columns but [${s}][${q}] has ${row?.length}`);
        row.forEach((x, k) => {
          if (!Number.isFinite(x)) fail(argument, `[${s}][${q}][${k}] must be finite, got ${String(x)}`);
          data[(s * Q + q) * K + k] = x;
        });
      });
    });
    return new Values(data, values.length, Q, K);
  }

  means(): number[] {
    const out = new Array<number>(this.columns).fill(0);
    const n = this.seeds * this.questions;
    for (let i = 0; i < n; i++) for (let k = 0; k < this.columns; k++) out[k] += this.data[i * this.columns + k];
    return out.map((x) => x / n);
  }

  /** Column means under question multiplicities `qCounts` and freshly drawn seed multiplicities. */
  resampledMeans(qCounts: Float64Array, rng: Rng, out: Float64Array): void {
    const { seeds: S, questions: Q, columns: K, data } = this;
    out.fill(0);
    for (let draw = 0; draw < S; draw++) {
      const s = Math.floor(rng() * S);
      const base = s * Q * K;
      for (let q = 0; q < Q; q++) {
        const c = qCounts[q];
        if (c === 0) continue;
        const row = base + q * K;
        for (let k = 0; k < K; k++) out[k] += c * data[row + k];
      }
    }
    for (let k = 0; k < K; k++) out[k] /= S * Q;
  }
}

function resolve(opts: BootstrapOptions): { resamples: number; level: number; rng: Rng } {
  const { resamples = 2000, level = 0.95, seed = 0 } = opts;
  if (!Number.isInteger(resamples) || resamples < 10) fail('resamples', `must be an integer ≥ 10, got ${String(resamples)}`);
  if (!(level > 0 && level < 1)) fail('level', `must be in (0, 1), got ${String(level)}`);
  if (!Number.isInteger(seed)) fail('seed', `must be an integer, got ${String(seed)}`);
  return { resamples, level, rng: seededRng(seed) };
}

/** Multiplicities of n draws with replacement from n items. */
function drawCounts(counts: Float64Array, rng: Rng): void {
  const n = counts.length;
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[Math.floor(rng() * n)]++;
}

function interval(estimate: number, replicates: Float64Array, level: number): Interval {
  const sorted = Float64Array.from(replicates).sort();
  const n = sorted.length;
  let mean = 0;
  for (const x of sorted) mean += x / n;
  let ss = 0;
  for (const x of sorted) ss += (x - mean) ** 2;
  const tail = (1 - level) / 2;
  return {
    estimate,
    lo: quantileSorted(sorted, tail),
    hi: quantileSorted(sorted, 1 - tail),
    se: n > 1 ? Math.sqrt(ss / (n - 1)) : Number.NaN,
    level,
  };
}

function checkFiniteArray(argument: string, values: number[]): void {
  if (!Array.isArray(values)) fail(argument, 'must be an array of numbers');
  values.forEach((x, i) => {
    if (!Number.isFinite(x)) fail(argument, `[${i}] must be finite, got ${String(x)}`);
  });
}
