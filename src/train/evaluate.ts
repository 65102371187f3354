/**
 * Evaluation at many budgets (ANYTIME.md §8): sample k traces per held-out question once, cut
 * each at every evaluation budget, force one summary per distinct prefix, and score it.
 */
import { budgetSupport, makePrior } from '../core/budget.js';
import { anytimeScore } from '../core/metrics.js';
import { sampleRollouts, type RolloutSampler } from '../model/sampler.js';
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
  /** What samples the rollouts (default `sampleRollouts`; a `ComputePool`'s uses every core, same rollouts). */
  sampler?: RolloutSampler;
}

export interface EvalResult {
  budgets: number[];
  /** Mean score at each budget over questions × samples. */
  accuracy: number[];
  /** Uniform-prior mean of `accuracy`: the discrete area under the accuracy-vs-budget curve. */
  anytime: number;
  /** Accuracy at b_max. */
  final: number;
  /** Mean thinking length (tokens, end-of-thinking included), cut at b_max. */
  meanLength: number;
  /** Fraction of traces that closed their thinking within b_max. */
  finishedFraction: number;
  questions: number;
  samples: number;
}

export async function evaluatePolicy(policy: TransformerPolicy, task: Task, problems: TaskProblem[], opts: EvalOptions): Promise<EvalResult> {
  const budgets = budgetSupport(opts.maxBudget, opts.budgetCount);
  const expanded = problems.flatMap((p) => Array.from({ length: opts.samples }, () => p));
  const rollouts = await (opts.sampler ?? sampleRollouts)(policy, task, expanded, {
    budgets,
    summariesPerGroup: opts.summaries ?? 1,
    seed: opts.seed,
    temperature: opts.temperature,
    bMax: opts.maxBudget,
  });
  const S = budgets.length;
  const accuracy = new Array<number>(S).fill(0);
  let length = 0;
  let finished = 0;
  for (const r of rollouts) {
    meanScoresByBudget(r).forEach((x, s) => (accuracy[s] += x / rollouts.length));
    length += r.thinking.length / rollouts.length;
    finished += r.finished ? 1 / rollouts.length : 0;
  }
  return {
    budgets,
    accuracy,
    anytime: anytimeScore(accuracy, makePrior('uniform', budgets)),
    final: accuracy[S - 1],
    meanLength: length,
    finishedFraction: finished,
    questions: problems.length,
    samples: opts.samples,
  };
}
