/**
 * L1's target length in the prompt (Aggarwal & Welleck, arXiv 2503.04697: "Think for N tokens."),
 * for the tiny policy over the shared 24-token symbolic vocabulary, and L1's evaluation: ask for
 * each evaluation budget in turn.
 *
 * How the target reaches the prompt. The vocabulary has no spare ids (the base checkpoints have
 * vocabSize 24 = the task's vocabulary) and the committed base policies in data/base/ must keep
 * loading and giving the same outputs for every other run. So an L1 run grows *its own copy* of
 * the base policy by L input-only tokens, one per target level l = 1..L ("think for b_max·l/L
 * tokens"), and the prompt's last token, the query mark `?` that every task's prompt ends with,
 * is replaced by the level's token. Each level token's embedding starts as a copy of `?`'s, and
 * its output logit is pinned at −10⁴ (zero head weights): its probability is exactly 0 in float32,
 * so it is never sampled, and at step 0 the grown policy gives exactly the base policy's
 * distributions. The prompt keeps its length and every position: only training tells the levels
 * apart. The base checkpoint file is never modified.
 */
import { budgetSupport } from '../core/budget.js';
import { deriveSeed } from '../core/rng.js';
import { checkPositiveInt, fail } from '../core/errors.js';
import { makeConfig, type TransformerConfig } from '../model/transformer.js';
import type { Checkpoint } from '../model/checkpoint.js';
import { sampleRollouts, type Rollout } from '../model/sampler.js';
import type { TransformerPolicy } from '../model/transformer.js';
import { TOKEN } from '../tasks/vocab.js';
import type { Task, TaskProblem } from '../tasks/types.js';
import { summarizeEvaluation, type EvalOptions, type EvalResult } from './evaluate.js';
import { meanScoresByBudget } from './targets.js';

/** The output logit of every level token: exp(−10⁴ − max) is 0 in float32, so it is never sampled. */
export const LEVEL_TOKEN_LOGIT = -1e4;

/** The L target lengths `b_max·l/L`, l = 1..L (the evaluation budgets when L = evalBudgetCount). */
export function targetLevels(maxBudget: number, levels: number): number[] {
  return budgetSupport(maxBudget, levels);
}

/** Token id of target level `level` (0-based): the ids just past the task's vocabulary. */
export function levelToken(task: Task, level: number): number {
  if (!Number.isInteger(level) || level < 0) fail('level', `must be an integer ≥ 0, got ${String(level)}`);
  return task.vocab.length + level;
}

/** The problem with its prompt asking for target level `level`: the final `?` becomes the level's token. */
export function askFor(problem: TaskProblem, level: number, task: Task): TaskProblem {
  const last = problem.prompt[problem.prompt.length - 1];
  if (last !== TOKEN.QUERY) fail('problem.prompt', `must end with the query mark '?' (id ${TOKEN.QUERY}) to carry a target, got id ${String(last)} (problem '${problem.id}')`);
  return { ...problem, prompt: [...problem.prompt.slice(0, -1), levelToken(task, level)] };
}

/** Index of the largest level ≤ `budget` (level 0 when every level is larger): what to ask for at that budget. */
export function levelForBudget(levels: readonly number[], budget: number): number {
  let best = 0;
  levels.forEach((b, l) => {
    if (b <= budget) best = l;
  });
  return best;
}

/**
 * The base policy's weights grown by `levels` level tokens (see the module comment); a checkpoint
 * already grown (a resumed run's own) is returned as it is. Pure: the input is not modified.
 */
export function withLevelTokens(ckpt: Pick<Checkpoint, 'config' | 'weights'>, task: Task, levels: number): { config: TransformerConfig; weights: Map<string, Float32Array> } {
  checkPositiveInt('levels', levels);
  const V = task.vocab.length;
  const have = ckpt.config.vocabSize;
  if (have === V + levels) return { config: ckpt.config, weights: ckpt.weights };
  if (have !== V) fail('policy.config.vocabSize', `must be the task's ${V} tokens (a base policy) or ${V + levels} (grown for ${levels} target levels), got ${have}`);
  if (ckpt.config.tiedHead) fail('policy.config.tiedHead', 'must be false: a tied head would give the level tokens the query mark\'s logit');
  const d = ckpt.config.dModel;
  const grownV = V + levels;
  const get = (name: string) => {
    const w = ckpt.weights.get(name);
    if (!w) fail('weights', `missing parameter '${name}'`);
    return w;
  };
  const emb = get('tok_emb');
  const tokEmb = new Float32Array(grownV * d);
  tokEmb.set(emb);
  const query = emb.subarray(TOKEN.QUERY * d, (TOKEN.QUERY + 1) * d);
  for (let l = 0; l < levels; l++) tokEmb.set(query, (V + l) * d);
  const headW = get('head.w');
  const grownHeadW = new Float32Array(d * grownV);
  for (let i = 0; i < d; i++) grownHeadW.set(headW.subarray(i * V, (i + 1) * V), i * grownV);
  const headB = new Float32Array(grownV).fill(LEVEL_TOKEN_LOGIT);
  headB.set(get('head.b'));
  const weights = new Map(ckpt.weights);
  weights.set('tok_emb', tokEmb);
  weights.set('head.w', grownHeadW);
  weights.set('head.b', headB);
  return { config: makeConfig({ ...ckpt.config, vocabSize: grownV }), weights };
}

/** L1's evaluation result: the anytime evaluation's fields, each budget's accuracy measured when asking for it. */
export interface AskedEvalResult extends EvalResult {
  /** Mean thinking length when asking for each budget (uncut, up to b_max): how well the length follows the prompt. */
  lengthByBudget: number[];
  /** The target level asked for at each budget (index into `targetLevels`). */
  levelByBudget: number[];
}

/**
 * L1's evaluation on the anytime evaluation's budgets: for each budget b_j, sample k traces per
 * question asking for the largest target level ≤ b_j, cut each at b_j, force a summary there and
 * score it. The traces run to b_max, so their length shows how well the prompt is followed;
 * accuracy at b_j is that of the cut at b_j, as for every other run. The questions are every
 * run's, so per-question scores pair with other runs'; the samples asked for b_j draw from their
 * own stream, `deriveSeed(seed, 'asked', j)`. `meanLength`, `questionLengths` and `finishedFraction` are those of the traces asked
 * for b_max (a run's natural length), and `lengthByBudget` those asked for each budget.
 */
export async function evaluateAskingEachBudget(
  policy: TransformerPolicy,
  task: Task,
  problems: TaskProblem[],
  opts: EvalOptions & { levels: number },
): Promise<AskedEvalResult> {
  const budgets = budgetSupport(opts.maxBudget, opts.budgetCount);
  const levels = targetLevels(opts.maxBudget, opts.levels);
  const k = opts.samples;
  const levelByBudget = budgets.map((b) => levelForBudget(levels, b));
  const bySample: number[][] = problems.flatMap(() => Array.from({ length: k }, () => [] as number[]));
  const lengthByBudget: number[] = [];
  let asked: Rollout[] = [];
  for (const [j, b] of budgets.entries()) {
    const prompts = problems.flatMap((p) => Array.from({ length: k }, () => askFor(p, levelByBudget[j], task)));
    asked = await sampleRollouts(policy, task, prompts, {
      budgets: [b],
      summariesPerGroup: opts.summaries ?? 1,
      seed: deriveSeed(opts.seed, 'asked', j),
      temperature: opts.temperature,
      bMax: opts.maxBudget,
    });
    asked.forEach((r, i) => bySample[i].push(meanScoresByBudget(r)[0]));
    lengthByBudget.push(asked.reduce((a, r) => a + r.thinking.length, 0) / asked.length);
  }
  // `asked` now holds the traces asked for b_max.
  const result = summarizeEvaluation(budgets, problems.length, k, bySample, asked.map((r) => r.thinking.length), asked.map((r) => r.finished));
  return { ...result, lengthByBudget, levelByBudget };
}
