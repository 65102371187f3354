/**
 * Evaluation and training metrics (ANYTIME.md §8), over plain arrays.
 */
import { checkMatrix, checkVector, fail } from './errors.js';
import { checkPrior, type BudgetPrior } from './budget.js';

/** Accuracy at each budget: the mean over rows (questions × samples) of `scores[i][s]`. */
export function accuracyByBudget(scores: number[][]): number[] {
  const [N, S] = checkMatrix('scores', scores);
  const acc = new Array<number>(S).fill(0);
  for (const row of scores) for (let s = 0; s < S; s++) acc[s] += row[s] / N;
  return acc;
}

/**
 * Anytime accuracy `Σ_j p_j · acc_j` (Eq. 2 evaluated on the accuracy curve). Under a uniform
 * prior over evenly spaced budgets this is the discrete area under the accuracy-vs-budget curve
 * (the paper's Table 2 uses 32 budgets).
 */
export function anytimeScore(accByBudget: number[], prior: BudgetPrior): number {
  checkPrior(prior);
  checkVector('accByBudget', accByBudget, prior.budgets.length);
  return accByBudget.reduce((sum, a, j) => sum + prior.probs[j] * a, 0);
}

/** Running maximum of one trace's scores over budgets: the best answer seen so far. */
export function bestSoFar(scores: number[]): number[] {
  checkVector('scores', scores);
  const out: number[] = [];
  let best = -Infinity;
  for (const s of scores) {
    best = Math.max(best, s);
    out.push(best);
  }
  return out;
}

/**
 * "Overthinking": the number of budgets whose score is below the best score at an earlier
 * budget — more thinking made the answer worse.
 */
export function overthinkingCount(scores: number[]): number {
  checkVector('scores', scores);
  let best = -Infinity;
  let count = 0;
  for (const s of scores) {
    if (s < best) count++;
    best = Math.max(best, s);
  }
  return count;
}

function columnStats(argument: string, X: number[][]): { N: number; S: number } {
  const [N, S] = checkMatrix(argument, X);
  return { N, S };
}

function checkSameShape(R: number[][], V: number[][]): { N: number; S: number } {
  const { N, S } = columnStats('R', R);
  const v = columnStats('V', V);
  if (v.N !== N || v.S !== S) fail('V', `must have the shape of R [${N}][${S}], got [${v.N}][${v.S}]`);
  return { N, S };
}

function variance(xs: number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length;
}

/**
 * The variance-reduction ratio `Var[R − V] / Var[R]` per budget (the paper's Fig. 3), over all
 * rows (traces of all questions). Below 1: the baseline removes variance. NaN where `Var[R] = 0`.
 */
export function varianceRatio(R: number[][], V: number[][]): number[] {
  const { S } = checkSameShape(R, V);
  return Array.from({ length: S }, (_, s) => {
    const r = R.map((row) => row[s]);
    const d = R.map((row, i) => row[s] - V[i][s]);
    const vr = variance(r);
    return vr > 0 ? variance(d) / vr : Number.NaN;
  });
}

/** Pearson correlation of the baseline with the return, per budget. NaN where either is constant. */
export function baselineCorrelation(R: number[][], V: number[][]): number[] {
  const { N, S } = checkSameShape(R, V);
  return Array.from({ length: S }, (_, s) => {
    const r = R.map((row) => row[s]);
    const v = V.map((row) => row[s]);
    const mr = r.reduce((a, b) => a + b, 0) / N;
    const mv = v.reduce((a, b) => a + b, 0) / N;
    let cov = 0;
    let vr = 0;
    let vv = 0;
    for (let i = 0; i < N; i++) {
      cov += (r[i] - mr) * (v[i] - mv);
      vr += (r[i] - mr) ** 2;
      vv += (v[i] - mv) ** 2;
    }
    return vr > 0 && vv > 0 ? cov / Math.sqrt(vr * vv) : Number.NaN;
  });
}

/** Mean and (sample) standard deviation, for reporting over seeds. */
export function meanStd(xs: number[]): { mean: number; std: number; n: number } {
  checkVector('xs', xs);
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}
