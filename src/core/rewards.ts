/**
 * Outcome reward shapes of the budget-aware RL methods in the arena (docs/arena.md), as pure
 * functions over plain numbers, and the group filters and masks those methods add to GRPO.
 *
 * Every shape reads the outcome of each of the G traces of one question (`TraceOutcome`: its
 * correctness, its thinking length, whether it finished within the rollout cap) and returns one
 * scalar reward per trace; the trainer then takes GRPO's group-mean advantage `r − mean_G(r)` of
 * those rewards. Shapes are registered by name (`REWARD_SHAPES`), as the thinking baselines are.
 *
 * Scale. Every shape here is written with a correct-vs-wrong gap of 1 (correctness r ∈ [0, 1]),
 * as our GRPO's reward. The papers used GRPO's std-normalised advantage, under which multiplying
 * every reward by a constant changes nothing; our advantage is not normalised (Dr. GRPO, as the
 * AnytimeReasoner paper's GRPO), so each paper's reward is divided by its own correct-vs-wrong gap
 * (DAPO: ±1, gap 2; ShorterBetter: α = 2) to make the methods' step sizes comparable.
 */
import { checkFinite, checkOneOf, fail } from './errors.js';

/** What an outcome reward shape knows about one trace. */
export interface TraceOutcome {
  /** Correctness `r ∈ [0, 1]`: the (mean) score of its final answer. */
  correct: number;
  /** Thinking tokens generated, end-of-thinking included (≤ the rollout cap). */
  length: number;
  /** True when the trace closed its thinking within the rollout cap; false when it was cut there. */
  finished: boolean;
}

function checkOutcomes(group: readonly TraceOutcome[], argument = 'group'): void {
  if (!Array.isArray(group) || group.length === 0) fail(argument, 'must be a non-empty array of trace outcomes');
  group.forEach((o, i) => {
    if (!o || !(o.correct >= 0 && o.correct <= 1)) fail(argument, `[${i}].correct must be in [0, 1], got ${String(o?.correct)}`);
    if (!Number.isInteger(o.length) || o.length < 0) fail(argument, `[${i}].length must be an integer ≥ 0, got ${String(o.length)}`);
    if (typeof o.finished !== 'boolean') fail(argument, `[${i}].finished must be true or false, got ${String(o.finished)}`);
  });
}

/** A trace counts as correct for the group-relative length rewards when every answer of it scored. */
const isCorrect = (o: TraceOutcome): boolean => o.correct >= 1;

// ---------------------------------------------------------------------------------------------
// Traces cut at the rollout cap
// ---------------------------------------------------------------------------------------------

/**
 * What becomes of a trace cut at the rollout cap (it never closed its thinking):
 * - `summary`: its forced summary is scored and trained like any other (our GRPO and
 *   AnytimeReasoner; Elastic Reasoning's budget-constrained rollouts, arXiv 2505.05315);
 * - `zero`: it scores 0 and its forced summary is not trained (ThinkPrune, arXiv 2504.01296: a
 *   response still unfinished at the length limit is thrown away and rewarded 0);
 * - `mask`: it is left out of the loss altogether, thinking and summary (DAPO's overlong
 *   filtering, arXiv 2503.14476, "Overlong Reward Shaping"), though it still counts in its group's
 *   baseline.
 */
export const TRUNCATION_MODES = ['summary', 'zero', 'mask'] as const;
export type TruncationMode = (typeof TRUNCATION_MODES)[number];

/** The correctness a cut trace keeps: `r` unless the mode is `zero` and the trace was cut (then 0). */
export function truncatedCorrectness(correct: number, finished: boolean, mode: TruncationMode): number {
  checkOneOf('mode', mode, TRUNCATION_MODES);
  return mode === 'zero' && !finished ? 0 : correct;
}

/**
 * Which parts of each trace go into the loss: `thinking[g]` and `summary[g]`. Every part trains
 * except a cut trace's summary under `zero`, and both parts of a cut trace under `mask`.
 */
export function truncationLossMask(finished: readonly boolean[], mode: TruncationMode): { thinking: boolean[]; summary: boolean[] } {
  checkOneOf('mode', mode, TRUNCATION_MODES);
  return {
    thinking: finished.map((f) => f || mode !== 'mask'),
    summary: finished.map((f) => f || mode === 'summary'),
  };
}

/**
 * The rollout cap at training step `step` of `steps` (1-based) under a schedule of `caps`
 * (tokens): the steps are split into `caps.length` equal rounds, round k uses `caps[k]`
 * (ThinkPrune's iterative pruning: limits 4k → 3k → 2k; Elastic Reasoning: one thinking budget t).
 * An empty schedule is `maxBudget` throughout.
 */
export function rolloutCapAt(caps: readonly number[], step: number, steps: number, maxBudget: number): number {
  if (!Number.isInteger(steps) || steps < 1) fail('steps', `must be a positive integer, got ${String(steps)}`);
  if (!Number.isInteger(step) || step < 1 || step > steps) fail('step', `must be an integer in [1, ${steps}], got ${String(step)}`);
  if (caps.length === 0) return maxBudget;
  const round = Math.min(caps.length - 1, Math.floor(((step - 1) * caps.length) / steps));
  return caps[round];
}

// ---------------------------------------------------------------------------------------------
// L1 / LCPO (Aggarwal & Welleck, arXiv 2503.04697, "Length Controlled Policy Optimization")
// ---------------------------------------------------------------------------------------------

/**
 * LCPO-Exact: `r = 1[y = y_gold] − α · |n_gold − n_y|`: right answers pay for every token
 * of distance from the length asked for in the prompt, in either direction. Paper: α = 0.0003 per
 * token, targets n_gold ~ U[100, 4000] with responses up to 4096 tokens.
 */
export function l1ExactReward(correct: number, length: number, target: number, alpha: number): number {
  checkFinite('alpha', alpha);
  checkFinite('target', target);
  return correct - alpha * Math.abs(target - length);
}

/**
 * LCPO-Max: `r = 1[y = y_gold] · clip(α · (n_gold − n_y) + δ, 0, 1)`: the length asked
 * for is a budget; a right answer earns δ exactly at the budget, rising to 1 at `(1 − δ)/α` tokens
 * under it and falling to 0 at `δ/α` tokens over it; a wrong answer earns 0. Paper: δ = 0.5,
 * α = 0.0003 (L1-Max is trained from L1-Exact).
 */
export function l1MaxReward(correct: number, length: number, target: number, alpha: number, delta: number): number {
  checkFinite('alpha', alpha);
  checkFinite('target', target);
  checkFinite('delta', delta);
  return correct * Math.min(1, Math.max(0, alpha * (target - length) + delta));
}

// ---------------------------------------------------------------------------------------------
// DAPO (Yu et al., arXiv 2503.14476: "Dynamic Sampling", "Overlong Reward Shaping")
// ---------------------------------------------------------------------------------------------

/**
 * Soft overlong punishment (DAPO's length-aware penalty), with `L_max` the cap and `L_cache` the buffer before it:
 *
 *     R_length(|y|) = 0                                   |y| ≤ L_max − L_cache
 *                   = ((L_max − L_cache) − |y|) / L_cache  L_max − L_cache < |y| ≤ L_max
 *                   = −1                                  L_max < |y|
 *
 * A linear ramp from 0 to −1 over the last `L_cache` tokens. Paper: L_max = 20480, L_cache = 4096
 * (a 16384-token expected maximum plus the buffer), added to the ±1 correctness reward.
 */
export function dapoOverlongPenalty(length: number, maxLength: number, buffer: number): number {
  checkFinite('length', length);
  if (!(maxLength > 0)) fail('maxLength', `must be > 0, got ${String(maxLength)}`);
  if (!(buffer > 0 && buffer <= maxLength)) fail('buffer', `must be in (0, maxLength = ${maxLength}], got ${String(buffer)}`);
  const free = maxLength - buffer;
  if (length <= free) return 0;
  if (length <= maxLength) return (free - length) / buffer;
  return -1;
}

/**
 * Dynamic sampling's filter (the constraint `0 < |{o_i | is_equivalent(a, o_i)}| < G` of the DAPO
 * objective): a group
 * is informative unless its correctness is the same for every trace (all right or all wrong),
 * where GRPO's advantages are all zero.
 */
export function isInformativeGroup(correct: readonly number[]): boolean {
  if (!Array.isArray(correct) || correct.length === 0) fail('correct', 'must be a non-empty array of numbers');
  correct.forEach((c, i) => checkFinite(`correct[${i}]`, c));
  return correct.some((c) => c !== correct[0]);
}

// ---------------------------------------------------------------------------------------------
// Kimi k1.5 (Kimi Team, arXiv 2501.12599, "Length Penalty" of its RL recipe)
// ---------------------------------------------------------------------------------------------

/**
 * The group length reward: with `min_len`, `max_len` the shortest and longest trace of the group,
 *
 *     λ = 0.5 − (len(i) − min_len) / (max_len − min_len)
 *     len_reward(i) = λ             if trace i is correct
 *                   = min(0, λ)     otherwise
 *
 * Shorter right answers are rewarded and longer ones penalised; wrong answers are only ever
 * penalised, the longer the more. All 0 when every trace has the same length.
 */
export function kimiLengthRewards(group: readonly TraceOutcome[]): number[] {
  checkOutcomes(group);
  const lengths = group.map((o) => o.length);
  const min = Math.min(...lengths);
  const max = Math.max(...lengths);
  if (max === min) return group.map(() => 0);
  return group.map((o) => {
    const lambda = 0.5 - (o.length - min) / (max - min);
    return isCorrect(o) ? lambda : Math.min(0, lambda);
  });
}

// ---------------------------------------------------------------------------------------------
// ShorterBetter (Yi et al., arXiv 2504.21370: the Sample Optimal Length reward)
// ---------------------------------------------------------------------------------------------

/**
 * The Sample Optimal Length (SOL): the length of the shortest correct trace of the group, or,
 * when none is correct, the mean length of the group.
 */
export function sampleOptimalLength(group: readonly TraceOutcome[]): number {
  checkOutcomes(group);
  const right = group.filter(isCorrect).map((o) => o.length);
  if (right.length > 0) return Math.min(...right);
  return group.reduce((a, o) => a + o.length, 0) / group.length;
}

/**
 * `r_i = α · 1[correct] − β · |ℓ_i − ℓ_SOL|` (α = 2, β = 0.001 per token, responses up to 6000
 * tokens in the authors' scripts), divided by α to our correct-vs-wrong gap of 1: `r_i = correct − (β/α) · |ℓ_i − ℓ_SOL|`,
 * with `lengthCoef = β/α`.
 */
export function shorterBetterRewards(group: readonly TraceOutcome[], lengthCoef: number): number[] {
  checkFinite('lengthCoef', lengthCoef);
  const sol = sampleOptimalLength(group);
  return group.map((o) => o.correct - lengthCoef * Math.abs(o.length - sol));
}

// ---------------------------------------------------------------------------------------------
// The registry
// ---------------------------------------------------------------------------------------------

/** What a shape may read besides the outcomes; each shape checks the fields it uses. */
export interface RewardShapeContext {
  /** The rollout cap (tokens): DAPO's L_max. */
  maxLength: number;
  /** The length asked for in the prompt (L1), or null when the prompt asks for none. */
  target: number | null;
  /** The shape's per-token coefficient or weight (L1's α, ShorterBetter's β/α, Kimi's and DAPO's weight). */
  lengthCoef: number;
  /** L1-Max's δ. */
  l1Delta: number;
  /** DAPO's L_cache (tokens). */
  overlongBuffer: number;
}

/** A reward shape: one reward per trace of a question's group. */
export type RewardShape = (group: readonly TraceOutcome[], ctx: RewardShapeContext) => number[];

function needTarget(ctx: RewardShapeContext, shape: string): number {
  if (ctx.target === null || !Number.isFinite(ctx.target)) fail('target', `the '${shape}' reward needs a target length in the prompt (config.promptTargets > 0)`);
  return ctx.target;
}

/**
 * Registered shapes (each `correct + lengthCoef · term` unless said otherwise):
 * - `correctness`: `r` (GRPO);
 * - `l1-exact`: `l1ExactReward` with α = lengthCoef;
 * - `l1-max`: `l1MaxReward` with α = lengthCoef, δ = l1Delta (multiplicative);
 * - `dapo-overlong`: `r + lengthCoef · dapoOverlongPenalty` (lengthCoef = ½ turns DAPO's ±1 into our 0/1);
 * - `kimi-length`: `r + lengthCoef · kimiLengthRewards`;
 * - `shorter-better`: `shorterBetterRewards`.
 */
export const REWARD_SHAPES: Record<string, RewardShape> = {
  correctness: (group) => group.map((o) => o.correct),
  'l1-exact': (group, ctx) => {
    const target = needTarget(ctx, 'l1-exact');
    return group.map((o) => l1ExactReward(o.correct, o.length, target, ctx.lengthCoef));
  },
  'l1-max': (group, ctx) => {
    const target = needTarget(ctx, 'l1-max');
    return group.map((o) => l1MaxReward(o.correct, o.length, target, ctx.lengthCoef, ctx.l1Delta));
  },
  'dapo-overlong': (group, ctx) => group.map((o) => o.correct + ctx.lengthCoef * dapoOverlongPenalty(o.length, ctx.maxLength, ctx.overlongBuffer)),
  'kimi-length': (group, ctx) => kimiLengthRewards(group).map((l, i) => group[i].correct + ctx.lengthCoef * l),
  'shorter-better': (group, ctx) => shorterBetterRewards(group, ctx.lengthCoef),
};

export const REWARD_SHAPE_NAMES = ['correctness', 'l1-exact', 'l1-max', 'dapo-overlong', 'kimi-length', 'shorter-better'] as const;
export type RewardShapeName = (typeof REWARD_SHAPE_NAMES)[number];

/** Adds a shape under a new name; refuses to overwrite silently. */
export function registerRewardShape(name: string, fn: RewardShape, opts: { replace?: boolean } = {}): void {
  if (REWARD_SHAPES[name] && !opts.replace) fail('name', `reward shape '${name}' is already registered; pass { replace: true }`);
  REWARD_SHAPES[name] = fn;
}

/** The rewards of one group under the named shape, checked finite. */
export function shapeRewards(name: string, group: readonly TraceOutcome[], ctx: RewardShapeContext): number[] {
  const fn = REWARD_SHAPES[name];
  if (!fn) fail('shape', `must be one of ${Object.keys(REWARD_SHAPES).map((k) => `'${k}'`).join(', ')}, got '${name}'`);
  checkOutcomes(group);
  const rewards = fn(group, ctx);
  rewards.forEach((r, i) => checkFinite(`rewards[${i}]`, r));
  return rewards;
}
