/**
 * Supervised warm start: the base policy imitates the task's teacher before RL.
 *
 * Each example is one teacher trace (`task.teacherTrace`, closed by THINK_END and cut at b_max)
 * with a teacher summary (`task.teacherSummary`, then EOS) at every budget of the support plus
 * a few random budgets, each after the right forcing suffix — exactly the tree the sampler
 * produces — so one tree-packed forward trains the thinking and all summaries of a trace.
 * The loss is the mean negative log-likelihood over thinking and summary tokens (forcing
 * tokens are inputs only). Adam with global-norm clipping, a fixed number of steps, seeded.
 *
 * The result is cached as a checkpoint under `data/base/<task>-<hash>.ckpt`, where the hash
 * covers everything that determines the weights (task, model config, options).
 *
 * Measured with the defaults (2 layers, 800 steps × 32 traces; `npx tsx scripts/warmstart.ts
 * <task>`, 2-core machine shared with other jobs, load 4-10, so times are upper bounds):
 *   arithmetic: 384-535 s, loss 3.19 → 0.53; copies the teacher's format (84% of traces close
 *     their thinking, mean 50.9 tokens, as the teacher's 50.9) but held-out accuracy at b_max is
 *     only ~0.17 (teacher 0.81). The bottleneck (scripts/teacher-loss.ts) is finding which prompt
 *     step comes next: ~1 nat on the operand after an op, 0.72 on the result digit.
 *   countdown: 850 s, loss 3.21 → 0.70; held-out accuracy ~0.07-0.10 (chance level).
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkPositiveInt, fail } from '../core/errors.js';
import { deriveSeed, randInt, seededRng, type Rng } from '../core/rng.js';
import { cutPlan } from '../core/truncation.js';
import { budgetSupport } from '../core/budget.js';
import { SPECIAL, forcingTokens, type Task, type TaskProblem } from '../tasks/types.js';
import { trainingSampler } from '../tasks/splits.js';
import { makeConfig, TransformerPolicy, type TransformerConfig } from './transformer.js';
import { requiredSeqLen } from './sampler.js';
import { packTraces, packedLogProbs, TokenKind, type TraceTree } from './forward.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';

export interface WarmStartOptions {
  /** Optimiser steps. Default 800. */
  steps: number;
  /** Teacher traces per step. Default 32. */
  batchSize: number;
  /** Adam learning rate (after warm-up, decayed linearly to 10% over the run). Default 3e-3. */
  lr: number;
  /** Steps of linear learning-rate warm-up. Default 50. */
  warmupSteps: number;
  /** Gradient clipping by global norm. Default 1. */
  clipNorm: number;
  /** Number of evenly spaced support budgets (`budgetSupport(maxThinking, m)`). Default 4. */
  supportSize: number;
  /** Extra budgets per trace drawn uniformly from 1..b_max, so any cut gets a summary. Default 2. */
  randomBudgets: number;
  /** Thinking cap b_max; default `task.maxThinking`. */
  bMax?: number;
  /** Seed of the initial weights and of the teacher data. Default 0. */
  seed: number;
  /** Model shape (vocabSize and maxSeqLen are set from the task when absent). */
  model?: Partial<TransformerConfig>;
  /** Called after every step. */
  onStep?: (info: { step: number; loss: number }) => void;
}

export const WARM_START_DEFAULTS: Omit<WarmStartOptions, 'model' | 'onStep' | 'bMax'> = {
  steps: 800,
  batchSize: 32,
  lr: 3e-3,
  warmupSteps: 50,
  clipNorm: 1,
  supportSize: 4,
  randomBudgets: 2,
  seed: 0,
};

/** The model config a warm start builds for `task` (defaults, sized to its rollouts). */
export function modelConfigFor(task: Task, options: Pick<WarmStartOptions, 'seed' | 'model' | 'bMax'>): TransformerConfig {
  const bMax = options.bMax ?? task.maxThinking;
  return makeConfig({
    vocabSize: task.vocab.length,
    maxSeqLen: requiredSeqLen(task.maxPromptLength, bMax, task.summaryMaxTokens),
    seed: options.seed,
    ...options.model,
  });
}

/**
 * One teacher example as a trace tree: the teacher's trace (THINK_END closing it, cut at
 * `bMax`) with one teacher summary + EOS per prefix group of `budgets`.
 */
export function teacherTree(task: Task, problem: TaskProblem, budgets: number[], bMax: number, rng: Rng): TraceTree {
  const trace = task.teacherTrace(problem, rng);
  const closed = [...trace, SPECIAL.THINK_END];
  const thinking = closed.slice(0, bMax);
  const plan = cutPlan(thinking.length, closed.length <= bMax, budgets);
  return {
    prompt: problem.prompt,
    thinking,
    groups: plan.groups.map((g) => ({
      cutLength: g.cutLength,
      cut: g.cut,
      forcing: forcingTokens(g.cut),
      summaries: [{ tokens: [...task.teacherSummary(problem, thinking.slice(0, Math.min(g.cutLength, trace.length)), rng), SPECIAL.EOS] }],
    })),
  };
}

/** Budgets of one example: the support plus `extra` distinct random budgets in 1..bMax, sorted. */
function exampleBudgets(support: number[], extra: number, bMax: number, rng: Rng): number[] {
  const set = new Set(support.map(Math.floor));
  for (let i = 0; i < extra; i++) set.add(randInt(rng, 1, bMax));
  return [...set].sort((a, b) => a - b);
}

/** Mean NLL over thinking and summary tokens of a packed batch (differentiable). */
function teacherLoss(policy: TransformerPolicy, trees: TraceTree[]): tf.Scalar {
  const batch = packTraces(trees, policy.config.maxSeqLen);
  const weights = Float32Array.from(batch.layout.kind, (k) => (k === TokenKind.THINKING || k === TokenKind.SUMMARY ? 1 : 0));
  const count = weights.reduce((a, b) => a + b, 0);
  const { logp } = packedLogProbs(policy, batch);
  return tf.div(tf.neg(tf.sum(tf.mul(logp, tf.tensor1d(weights)))), count) as tf.Scalar;
}

/** Trains a fresh policy on teacher data. Returns it with the loss of every step and the wall time. */
export async function warmStart(
  task: Task,
  partial: Partial<WarmStartOptions> = {},
): Promise<{ policy: TransformerPolicy; losses: number[]; seconds: number }> {
  const o: WarmStartOptions = { ...WARM_START_DEFAULTS, ...partial };
  checkPositiveInt('steps', o.steps);
  checkPositiveInt('batchSize', o.batchSize);
  checkPositiveInt('supportSize', o.supportSize);
  if (!(o.lr > 0)) fail('lr', `must be > 0, got ${o.lr}`);
  if (!(o.clipNorm > 0)) fail('clipNorm', `must be > 0, got ${o.clipNorm}`);
  if (!Number.isInteger(o.warmupSteps) || o.warmupSteps < 0) fail('warmupSteps', `must be an integer ≥ 0, got ${o.warmupSteps}`);
  if (!Number.isInteger(o.randomBudgets) || o.randomBudgets < 0) fail('randomBudgets', `must be an integer ≥ 0, got ${o.randomBudgets}`);
  const bMax = o.bMax ?? task.maxThinking;
  const support = budgetSupport(bMax, o.supportSize);
  const policy = new TransformerPolicy(modelConfigFor(task, { ...o, bMax }));
  const nextProblem = trainingSampler(task, deriveSeed(o.seed, 'warmstart-problems'));
  const rng = seededRng(deriveSeed(o.seed, 'warmstart-teacher'));
  const optimizer = tf.train.adam(o.lr);
  const variables = policy.variables();
  const losses: number[] = [];
  const start = performance.now();
  try {
    for (let step = 0; step < o.steps; step++) {
      const trees = Array.from({ length: o.batchSize }, () =>
        teacherTree(task, nextProblem(), exampleBudgets(support, o.randomBudgets, bMax, rng), bMax, rng),
      );
      // Linear warm-up, then linear decay to 10% of the peak rate (Adam reads the field every step).
      const warm = Math.min(1, (step + 1) / Math.max(1, o.warmupSteps));
      (optimizer as unknown as { learningRate: number }).learningRate = o.lr * warm * (1 - (0.9 * step) / o.steps);
      const { value, grads } = tf.variableGrads(() => teacherLoss(policy, trees), variables);
      const clipped = tf.tidy(() => {
        const list = Object.values(grads);
        const norm = tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g)))));
        const scale = tf.minimum(1, tf.div(o.clipNorm, tf.add(norm, 1e-6)));
        const out: tf.NamedTensorMap = {};
        for (const [name, g] of Object.entries(grads)) out[name] = tf.mul(g, scale);
        return out;
      });
      optimizer.applyGradients(Object.entries(clipped).map(([name, tensor]) => ({ name, tensor })));
      const loss = (await value.data())[0];
      tf.dispose([value, ...Object.values(grads), ...Object.values(clipped)]);
      losses.push(loss);
      o.onStep?.({ step, loss });
    }
  } finally {
    optimizer.dispose();
  }
  return { policy, losses, seconds: (performance.now() - start) / 1000 };
}

/** Short hash of everything that determines a warm-started policy. */
export function warmStartHash(task: Task, partial: Partial<WarmStartOptions> = {}): string {
  const o = { ...WARM_START_DEFAULTS, ...partial };
  // The model enters through its resolved config, so spelling out a default changes nothing.
  const { onStep: _onStep, model: _model, ...rest } = o;
  // A task's format version enters only when set, so tasks that never bumped keep their keys.
  const taskKey = task.version === undefined ? { task: task.name } : { task: task.name, taskVersion: task.version };
  const key = JSON.stringify({ ...taskKey, vocab: task.vocab, model: modelConfigFor(task, o), options: rest, version: 1 });
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

/**
 * The base policy for `task`: loaded from `<dir>/<task>-<hash>.ckpt` when present, else trained
 * with `warmStart` and saved there (atomically) with its loss curve and time in the meta.
 */
export async function basePolicy(
  task: Task,
  partial: Partial<WarmStartOptions> = {},
  dir = join('data', 'base'),
): Promise<{ policy: TransformerPolicy; path: string; cached: boolean; meta: Record<string, unknown> }> {
  const path = join(dir, `${task.name}-${warmStartHash(task, partial)}.ckpt`);
  if (existsSync(path)) {
    const { policy, checkpoint } = loadCheckpoint(path);
    return { policy, path, cached: true, meta: checkpoint.meta };
  }
  const { policy, losses, seconds } = await warmStart(task, partial);
  const { onStep: _onStep, ...options } = { ...WARM_START_DEFAULTS, ...partial };
  const meta = { kind: 'warm-start', task: task.name, options, seconds, losses, finalLoss: meanTail(losses, 20) };
  await saveCheckpoint(path, policy, { meta });
  return { policy, path, cached: false, meta };
}

/** Mean of the last `n` values (a less noisy "final loss"). */
export function meanTail(values: number[], n: number): number {
  const tail = values.slice(-n);
  return tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
}
