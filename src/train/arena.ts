/**
 * The trainer's hooks for the arena's budget-aware RL methods (docs/arena.md): which questions and
 * rollouts a step trains on (prompt targets, dynamic sampling), which outcome reward, and whether a
 * run uses any of the arena's settings at all. The reward shapes themselves are pure functions in
 * src/core/rewards.ts; L1's prompt targets are in prompt-targets.ts.
 */
import { isInformativeGroup, truncatedCorrectness } from '../core/rewards.js';
import { deriveSeed, randInt, seededRng } from '../core/rng.js';
import type { Rollout } from '../model/sampler.js';
import { trainingSampler } from '../tasks/splits.js';
import type { Task, TaskProblem } from '../tasks/types.js';
import type { TrainConfig } from './config.js';
import { askFor } from './prompt-targets.js';
import { meanScoresByBudget, type OutcomeShaping } from './targets.js';

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

/** One question of a step with its G rollouts. */
export interface QuestionGroup {
  question: TaskProblem;
  /** The length its prompt asked for (L1), or null. */
  target: number | null;
  rollouts: Rollout[];
  /** Whether its traces' correctness varies (else GRPO's advantages are all 0). */
  informative: boolean;
}

/**
 * The step's `questionsPerStep` question groups. Questions come from the step's own stream; under
 * prompt targets each asks for a level drawn uniformly from `levels` (L1); `sample(problems, seed)`
 * gives their G traces each. Under dynamic sampling (DAPO) groups whose correctness is the same for
 * every trace are set aside and up to `dynamicSamplingRounds` more rounds of questions are drawn
 * until the batch is full; if the rounds run out, the first groups set aside fill the rest. Round 0
 * draws exactly what a run without these settings draws (same questions, same rollout seed).
 */
export async function drawQuestionGroups(
  c: TrainConfig,
  step: number,
  task: Task,
  levels: readonly number[],
  sample: (problems: TaskProblem[], seed: number) => Promise<Rollout[]>,
): Promise<{ groups: QuestionGroup[]; sampledGroups: number }> {
  const Q = c.questionsPerStep;
  const G = c.groupSize;
  const draw = trainingSampler(task, deriveSeed(c.seed, 'problems', step));
  const targetRng = seededRng(deriveSeed(c.seed, 'targets', step));
  const kept: QuestionGroup[] = [];
  const spare: QuestionGroup[] = [];
  let sampledGroups = 0;
  for (let round = 0; round <= c.dynamicSamplingRounds && kept.length < Q; round++) {
    const drawn = Array.from({ length: Q }, () => draw());
    const level = drawn.map(() => (levels.length > 0 ? randInt(targetRng, 0, levels.length - 1) : -1));
    const asked = drawn.map((q, i) => (level[i] >= 0 ? askFor(q, level[i], task) : q));
    const seed = round === 0 ? deriveSeed(c.seed, 'rollouts', step) : deriveSeed(c.seed, 'rollouts', step, round);
    const sampled = await sample(asked.flatMap((q) => Array.from({ length: G }, () => q)), seed);
    sampledGroups += drawn.length;
    drawn.forEach((question, q) => {
      const rollouts = sampled.slice(q * G, (q + 1) * G);
      const correct = rollouts.map((r) => {
        const scores = meanScoresByBudget(r);
        return truncatedCorrectness(scores[scores.length - 1], r.finished, c.truncation);
      });
      const group = { question, target: level[q] >= 0 ? levels[level[q]] : null, rollouts, informative: isInformativeGroup(correct) };
      if (c.dynamicSamplingRounds === 0 || group.informative) kept.push(group);
      else spare.push(group);
    });
  }
  kept.push(...spare.slice(0, Math.max(0, Q - kept.length)));
  return { groups: kept.slice(0, Q), sampledGroups };
}
