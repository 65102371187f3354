/**
 * How a task's teacher behaves across thinking budgets: the check that a task makes anytime
 * reasoning matter before any policy is trained on it. The warm-started policy imitates the
 * teacher, so the same three properties are expected of it (and can be measured on it the
 * same way once it exists):
 *   (a) trace lengths spread over the budget support, with some traces cut at b_max;
 *   (b) accuracy rises gradually across budgets rather than in one step;
 *   (c) accuracy at b_max is well below 100%.
 */
import { checkPositiveInt, fail } from '../core/errors.js';
import { deriveSeed, seededRng } from '../core/rng.js';
import type { Task } from './types.js';

/** What `teacherBudgetProfile` measured. */
export interface TeacherBudgetProfile {
  task: string;
  problems: number;
  seed: number;
  /** The budgets b_1 < … < b_m (thinking tokens, THINK_END included). */
  budgets: number[];
  /**
   * lengthHistogram[j]: traces whose length (THINK_END included) lies in (b_{j-1}, b_j],
   * with b_0 = 0, i.e. that finish within budget b_j but not b_{j-1}.
   */
  lengthHistogram: number[];
  /** Traces longer than b_m: cut at the largest budget. */
  overMaxBudget: number;
  /** overMaxBudget / problems. */
  fractionCut: number;
  /** Number of histogram segments with at least one trace. */
  segmentsHit: number;
  /** Mean trace length (THINK_END included, before any cut). */
  meanLength: number;
  /** accuracy[j]: mean score of teacherSummary on the trace cut at budgets[j]. */
  accuracy: number[];
  /** Mean score of teacherSummary on the whole, uncut trace. */
  fullTraceAccuracy: number;
  /** Mean of accuracy over the budgets (uniform prior): the discrete area under the curve. */
  anytimeAccuracy: number;
}

/** `count` evenly spaced budgets up to `maxBudget`: b_j = round(j · maxBudget / count). */
export function evenBudgets(maxBudget: number, count: number): number[] {
  checkPositiveInt('maxBudget', maxBudget);
  checkPositiveInt('count', count);
  if (count > maxBudget) fail('count', `must be ≤ maxBudget (${maxBudget}) so budgets are distinct, got ${count}`);
  return Array.from({ length: count }, (_, j) => Math.round(((j + 1) * maxBudget) / count));
}

/**
 * The thinking a summary sees at budget `budget`: the whole trace when it finishes within
 * the budget (its length plus THINK_END ≤ budget), else its first `budget` tokens.
 */
export function thinkingAtBudget(trace: readonly number[], budget: number): { thinking: number[]; cut: boolean } {
  return trace.length + 1 <= budget
    ? { thinking: trace.slice(), cut: false }
    : { thinking: trace.slice(0, budget), cut: true };
}

/**
 * Samples `n` problems and one teacher trace each, and measures the trace-length
 * distribution over the budget support and the teacher's accuracy at every budget
 * (teacherSummary on the cut prefix, scored with `task.score`).
 *
 * `budgets` is a list of increasing budgets, or a count of evenly spaced budgets up to
 * `task.maxThinking` (default 16, the evaluation grid). Problems, traces and summaries use
 * separate seed streams derived from `seed`.
 */
export function teacherBudgetProfile(
  task: Task,
  n: number,
  budgets: number | readonly number[] = 16,
  seed = 0,
): TeacherBudgetProfile {
  checkPositiveInt('n', n);
  const bs = typeof budgets === 'number' ? evenBudgets(task.maxThinking, budgets) : budgets.slice();
  if (bs.length === 0) fail('budgets', 'must hold at least one budget');
  bs.forEach((b, j) => {
    checkPositiveInt(`budgets[${j}]`, b);
    if (j > 0 && b <= bs[j - 1]) fail('budgets', `must be strictly increasing, got ${bs[j - 1]} then ${b}`);
  });

  const problemRng = seededRng(deriveSeed(seed, 'profile', task.name, 'problems'));
  const traceRng = seededRng(deriveSeed(seed, 'profile', task.name, 'traces'));
  const summaryRng = seededRng(deriveSeed(seed, 'profile', task.name, 'summaries'));

  const samples: BudgetSample[] = [];
  for (let i = 0; i < n; i++) {
    const problem = task.sample(problemRng);
    const trace = task.teacherTrace(problem, traceRng);
    const fullScore = task.score(problem, task.teacherSummary(problem, trace, summaryRng));
    const scores = bs.map((b) => {
      const { thinking } = thinkingAtBudget(trace, b);
      return task.score(problem, task.teacherSummary(problem, thinking, summaryRng));
    });
    samples.push({ length: trace.length + 1, scores, fullScore });
  }
  return profileFromSamples(task.name, bs, samples, seed);
}

/** One rolled-out problem, as `profileFromSamples` needs it. */
export interface BudgetSample {
  /** Thinking length with THINK_END (a trace that never closed: any number > the largest budget). */
  length: number;
  /** Score of the summary at each budget. */
  scores: readonly number[];
  /** Score of the summary of the whole, uncut trace. */
  fullScore: number;
}

/**
 * Aggregates per-problem lengths and scores into a profile. `teacherBudgetProfile` uses it
 * for the teacher; a policy evaluation can use it for rollouts of a trained model.
 */
export function profileFromSamples(
  task: string,
  budgets: readonly number[],
  samples: readonly BudgetSample[],
  seed = 0,
): TeacherBudgetProfile {
  if (samples.length === 0) fail('samples', 'must hold at least one sample');
  const n = samples.length;
  const histogram = new Array<number>(budgets.length).fill(0);
  const correct = new Array<number>(budgets.length).fill(0);
  let over = 0;
  let fullCorrect = 0;
  let totalLength = 0;
  samples.forEach((s, i) => {
    if (s.scores.length !== budgets.length) {
      fail(`samples[${i}].scores`, `must have one score per budget (${budgets.length}), got ${s.scores.length}`);
    }
    totalLength += s.length;
    const segment = budgets.findIndex((b) => s.length <= b);
    if (segment < 0) over++;
    else histogram[segment]++;
    fullCorrect += s.fullScore;
    s.scores.forEach((v, j) => (correct[j] += v));
  });
  const accuracy = correct.map((c) => c / n);
  return {
    task,
    problems: n,
    seed,
    budgets: budgets.slice(),
    lengthHistogram: histogram,
    overMaxBudget: over,
    fractionCut: over / n,
    segmentsHit: histogram.filter((h) => h > 0).length,
    meanLength: totalLength / n,
    accuracy,
    fullTraceAccuracy: fullCorrect / n,
    anytimeAccuracy: accuracy.reduce((s, a) => s + a, 0) / budgets.length,
  };
}

/** A few lines of text describing a profile (for logs and doc comments). */
export function formatProfile(p: TeacherBudgetProfile): string {
  const f = (x: number) => x.toFixed(3).replace(/^0/, '');
  return [
    `${p.task}: ${p.problems} problems, seed ${p.seed}, budgets ${p.budgets.join(', ')}`,
    `length histogram per segment: ${p.lengthHistogram.join(' ')}   over b_max: ${p.overMaxBudget}`,
    `fraction cut at b_max ${p.fractionCut.toFixed(3)}, mean length ${p.meanLength.toFixed(1)}, ${p.segmentsHit} of ${p.budgets.length} segments hit`,
    `accuracy by budget: ${p.accuracy.map(f).join(' ')}`,
    `full-trace accuracy ${p.fullTraceAccuracy.toFixed(3)}, anytime (uniform) ${p.anytimeAccuracy.toFixed(3)}`,
  ].join('\n');
}
