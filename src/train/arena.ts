/**
 * The trainer's hooks for the arena's budget-aware RL methods (docs/arena.md): which outcome
 * reward a step trains on, and whether a run uses any of the arena's settings at all. The reward
 * shapes themselves are pure functions in src/core/rewards.ts; L1's prompt targets are in
 * prompt-targets.ts.
 */
import type { TrainConfig } from './config.js';
import type { OutcomeShaping } from './targets.js';

/** True when the run uses any arena setting (otherwise it trains exactly as GRPO/AR always did). */
export function usesArena(c: TrainConfig): boolean {
  return c.rewardShape !== 'correctness' || c.truncation !== 'summary' || c.rolloutCaps.length > 0 || c.dynamicSamplingRounds > 0 || c.promptTargets > 0;
}

/**
 * The outcome reward of step `step` (1-based) of a run whose rollouts are capped at `cap` tokens,
 * for a question asking for `target` tokens (null: none): the config's shape, or the correctness
 * alone during the shape's warm-up (the first `shapeWarmup · steps` steps). Undefined when the
 * reward is the plain correctness with cut traces' summaries scored, i.e. GRPO's own targets.
 */
export function outcomeShaping(c: TrainConfig, step: number, cap: number, target: number | null): OutcomeShaping | undefined {
  const warming = step <= Math.floor(c.shapeWarmup * c.steps);
  const shape = warming ? 'correctness' : c.rewardShape;
  if (shape === 'correctness' && c.truncation === 'summary') return undefined;
  return {
    shape,
    truncation: c.truncation,
    context: { maxLength: cap, target, lengthCoef: c.lengthCoef, l1Delta: c.l1Delta, overlongBuffer: c.overlongBuffer },
  };
}
