/**
 * The paper's Fig. 3 at small scale: how much of the return's variance each thinking baseline
 * removes, `Var[R − V] / Var[R]` per budget, on rollouts of a fixed (base) policy.
 */
import { budgetSupport, makePrior, type PriorKind } from '../core/budget.js';
import { thinkingValues } from '../core/advantages.js';
import { baselineCorrelation, varianceRatio } from '../core/metrics.js';
import { bootstrapClusters } from '../core/stats.js';
import { sampleRollouts } from '../model/sampler.js';
import type { TransformerPolicy } from '../model/transformer.js';
import type { Task, TaskProblem } from '../tasks/types.js';
import { meanScoresByBudget } from './targets.js';

export const VARIANCE_BASELINES = ['group-mean', 'own-progress', 'brpo'] as const;
export type VarianceBaseline = (typeof VARIANCE_BASELINES)[number];

export interface VarianceStudy {
  budgets: number[];
  prior: PriorKind;
  questions: number;
  groupSize: number;
  /** `Var[R − V]/Var[R]` per budget, by baseline (null where Var[R] = 0). */
  ratio: Record<VarianceBaseline, (number | null)[]>;
  /** Correlation of V with R per budget, by baseline (null where undefined). */
  correlation: Record<VarianceBaseline, (number | null)[]>;
  /** 95% bootstrap interval over questions of each ratio, per budget (null where undefined). */
  ratioCI: Record<VarianceBaseline, ([number, number] | null)[]>;
  /**
   * BRPO's ratio minus the group mean's, per budget, with its 95% interval over questions (paired:
   * both baselines on the same rollouts); below 0 means BRPO removes more variance.
   */
  brpoMinusGroupMean: ({ estimate: number; lo: number; hi: number } | null)[];
}

export interface VarianceStudyOptions {
  maxBudget: number;
  budgetCount: number;
  groupSize: number;
  summaries: number;
  temperature: number;
  seed: number;
  prior?: PriorKind;
}

/** Rolls out G traces per question and pools `R` and `V` of every group per budget. */
export async function baselineVarianceStudy(
  policy: TransformerPolicy,
  task: Task,
  problems: TaskProblem[],
  opts: VarianceStudyOptions,
): Promise<VarianceStudy> {
  const budgets = budgetSupport(opts.maxBudget, opts.budgetCount);
  const priorKind = opts.prior ?? 'uniform';
  const prior = makePrior(priorKind, budgets);
  const G = opts.groupSize;
  const rollouts = await sampleRollouts(
    policy,
    task,
    problems.flatMap((p) => Array.from({ length: G }, () => p)),
    { budgets, summariesPerGroup: opts.summaries, seed: opts.seed, temperature: opts.temperature, bMax: opts.maxBudget },
  );
  const nullify = (xs: number[]) => xs.map((x) => (Number.isFinite(x) ? x : null));
  const ratio = {} as VarianceStudy['ratio'];
  const correlation = {} as VarianceStudy['correlation'];
  const ratioCI = {} as VarianceStudy['ratioCI'];
  const perQuestion = {} as Record<VarianceBaseline, { R: number[][]; V: number[][] }[]>;
  const S = budgets.length;
  for (const baseline of VARIANCE_BASELINES) {
    const per = problems.map((_, q) => thinkingValues(rollouts.slice(q * G, (q + 1) * G).map(meanScoresByBudget), prior.probs, { baseline }));
    perQuestion[baseline] = per;
    const R = per.flatMap((x) => x.R);
    const V = per.flatMap((x) => x.V);
    ratio[baseline] = nullify(varianceRatio(R, V));
    correlation[baseline] = nullify(baselineCorrelation(R, V));
    const ci = bootstrapClusters(problems.length, (counts) => weightedVarianceRatios(per, counts), { resamples: 1000, seed: 1 });
    ratioCI[baseline] = ci.map((c, s) => (ratio[baseline][s] === null || !Number.isFinite(c.lo) ? null : [c.lo, c.hi]));
  }
  const diff = bootstrapClusters(
    problems.length,
    (counts) => {
      const b = weightedVarianceRatios(perQuestion.brpo, counts);
      const g = weightedVarianceRatios(perQuestion['group-mean'], counts);
      return b.map((x, s) => x - g[s]);
    },
    { resamples: 1000, seed: 2 },
  );
  const brpoMinusGroupMean = Array.from({ length: S }, (_, s) =>
    Number.isFinite(diff[s].estimate) && Number.isFinite(diff[s].lo) ? { estimate: diff[s].estimate, lo: diff[s].lo, hi: diff[s].hi } : null,
  );
  return { budgets, prior: priorKind, questions: problems.length, groupSize: G, ratio, correlation, ratioCI, brpoMinusGroupMean };
}

/**
 * `Var[R − V] / Var[R]` per budget with every trace of question q weighted by `counts[q]` (the
 * bootstrap's multiplicities; null = all 1, which is `varianceRatio` over the pooled traces).
 */
export function weightedVarianceRatios(perQuestion: { R: number[][]; V: number[][] }[], counts: Float64Array | null): number[] {
  const S = perQuestion[0].R[0].length;
  return Array.from({ length: S }, (_, s) => {
    let w = 0;
    let mr = 0;
    let md = 0;
    perQuestion.forEach(({ R, V }, q) => {
      const c = counts ? counts[q] : 1;
      for (let g = 0; g < R.length; g++) {
        w += c;
        mr += c * R[g][s];
        md += c * (R[g][s] - V[g][s]);
      }
    });
    mr /= w;
    md /= w;
    let vr = 0;
    let vd = 0;
    perQuestion.forEach(({ R, V }, q) => {
      const c = counts ? counts[q] : 1;
      for (let g = 0; g < R.length; g++) {
        vr += c * (R[g][s] - mr) ** 2;
        vd += c * (R[g][s] - V[g][s] - md) ** 2;
      }
    });
    return vr > 0 ? vd / vr : Number.NaN;
  });
}
