/**
 * Evaluation at many budgets (ANYTIME.md §8): sample k traces per held-out question once, cut
 * each at every evaluation budget, force one summary per distinct prefix, and score it.
 *
 * Every run is evaluated on the same questions with the same sampling streams (the seed does not
 * depend on the run or its training seed), so two runs' results are paired question by question:
 * their difference is read with `pairedBootstrapDiff` (src/core/stats.ts), which removes the
 * spread between easy and hard questions from the comparison.
 */
import { budgetSupport, makePrior } from '../core/budget.js';
import { anytimeScore } from '../core/metrics.js';
import { clusteredMean } from '../core/stats.js';
import { sampleRollouts } from '../model/sampler.js';
import type { TransformerPolicy } from '../model/transformer.js';
import type { Task, TaskProblem } from '../tasks/types.js';
import { meanScoresByBudget } from './targets.js';

export interface EvalOptions {
  /** b_max. */
  maxBudget: number;
  /** Number of evenly spaced budgets up to b_max. */
  budgetCount: number;
  /** k samples per question. */
  samples: number;
  temperature: number;
  seed: number;
  /** Summaries per prefix (1 by default; their mean is the per-trace score). */
  summaries?: number;
}

export interface EvalResult {
  budgets: number[];
  /** Mean score at each budget over questions × samples. */
  accuracy: number[];
  /** Standard error of each `accuracy` entry, clustered by question (samples of a question are correlated). */
  accuracySE: number[];
  /** Uniform-prior mean of `accuracy`: the discrete area under the accuracy-vs-budget curve. */
  anytime: number;
  anytimeSE: number;
  /** Accuracy at b_max. */
  final: number;
  finalSE: number;
  /** Mean thinking length (tokens, end-of-thinking included), cut at b_max. */
  meanLength: number;
  /** Fraction of traces that closed their thinking within b_max (1 − the fraction cut at b_max). */
  finishedFraction: number;
  questions: number;
  samples: number;
  /** `[question][budget]`: each question's score at each budget, averaged over its k samples (for paired comparisons). */
  questionScores: number[][];
  /** Each question's thinking length, averaged over its samples. */
  questionLengths: number[];
}

export async function evaluatePolicy(policy: TransformerPolicy, task: Task, problems: TaskProblem[], opts: EvalOptions): Promise<EvalResult> {
  const budgets = budgetSupport(opts.maxBudget, opts.budgetCount);
  const k = opts.samples;
  const expanded = problems.flatMap((p) => Array.from({ length: k }, () => p));
  const rollouts = await sampleRollouts(policy, task, expanded, {
    budgets,
    summariesPerGroup: opts.summaries ?? 1,
    seed: opts.seed,
    temperature: opts.temperature,
    bMax: opts.maxBudget,
  });
  const S = budgets.length;
  const prior = makePrior('uniform', budgets);
  // Per sample: the score at each budget; grouped by question for clustered standard errors.
  const bySample = rollouts.map(meanScoresByBudget);
  const clusters = (pick: (scores: number[]) => number) => problems.map((_, q) => bySample.slice(q * k, (q + 1) * k).map(pick));
  const perBudget = budgets.map((_, s) => clusteredMean(clusters((x) => x[s])));
  const anytime = clusteredMean(clusters((x) => anytimeScore(x, prior)));
  const questionScores = problems.map((_, q) => budgets.map((__, s) => mean(bySample.slice(q * k, (q + 1) * k).map((x) => x[s]))));
  const questionLengths = problems.map((_, q) => mean(rollouts.slice(q * k, (q + 1) * k).map((r) => r.thinking.length)));
  return {
    budgets,
    accuracy: perBudget.map((x) => x.mean),
    accuracySE: perBudget.map((x) => x.se),
    anytime: anytime.mean,
    anytimeSE: anytime.se,
    final: perBudget[S - 1].mean,
    finalSE: perBudget[S - 1].se,
    meanLength: mean(rollouts.map((r) => r.thinking.length)),
    finishedFraction: mean(rollouts.map((r) => (r.finished ? 1 : 0))),
    questions: problems.length,
    samples: k,
    questionScores,
    questionLengths,
  };
}

/**
 * A compact evaluation taken during training (for curves of held-out accuracy over steps): the
 * headline numbers and each question's anytime and final score, without the per-budget detail.
 */
export interface EvalSnapshot {
  step: number;
  anytime: number;
  anytimeSE: number;
  final: number;
  finalSE: number;
  meanLength: number;
  /** Each question's anytime score (uniform prior over the evaluation budgets). */
  questionAnytime: number[];
  /** Each question's score at b_max. */
  questionFinal: number[];
}

export function evalSnapshot(step: number, e: EvalResult): EvalSnapshot {
  const prior = makePrior('uniform', e.budgets);
  const S = e.budgets.length;
  return {
    step,
    anytime: e.anytime,
    anytimeSE: e.anytimeSE,
    final: e.final,
    finalSE: e.finalSE,
    meanLength: e.meanLength,
    questionAnytime: e.questionScores.map((row) => anytimeScore(row, prior)),
    questionFinal: e.questionScores.map((row) => row[S - 1]),
  };
}

/**
 * Per-question statistic columns of an evaluation for the bootstrap: the score at each budget,
 * then the anytime score, then the final score (`[question][S + 2]`).
 */
export function questionColumns(e: EvalResult): number[][] {
  const prior = makePrior('uniform', e.budgets);
  const S = e.budgets.length;
  return e.questionScores.map((row) => [...row, anytimeScore(row, prior), row[S - 1]]);
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
