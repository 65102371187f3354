/**
 * The paper's Fig. 3 at small scale: how much of the return's variance each thinking baseline
 * removes, `Var[R − V] / Var[R]` per budget, on rollouts of a fixed (base) policy.
 */
import { budgetSupport, makePrior, type PriorKind } from '../core/budget.js';
import { thinkingValues } from '../core/advantages.js';
import { baselineCorrelation, varianceRatio } from '../core/metrics.js';
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
  for (const baseline of VARIANCE_BASELINES) {
    const per = problems.map((_, q) => thinkingValues(rollouts.slice(q * G, (q + 1) * G).map(meanScoresByBudget), prior.probs, { baseline }));
    const R = per.flatMap((x) => x.R);
    const V = per.flatMap((x) => x.V);
    ratio[baseline] = nullify(varianceRatio(R, V));
    correlation[baseline] = nullify(baselineCorrelation(R, V));
  }
  return { budgets, prior: priorKind, questions: problems.length, groupSize: G, ratio, correlation };
}
