/**
 * Every hyperparameter of a training run, in one typed config with its default and meaning,
 * and the paper's runs (ANYTIME.md §7) as named presets over it.
 */
import { checkOneOf, checkPositiveInt, fail } from '../core/errors.js';
import { PRIOR_KINDS, type PriorKind } from '../core/budget.js';
import { SUMMARY_MODES, type BaselineName, type SummaryMode } from '../core/advantages.js';
import { LOSS_AGGREGATIONS, type LossAggregation } from '../core/loss.js';

export interface TrainConfig {
  /** Run label (one of RUN_NAMES for the paper's runs). */
  run: string;
  /** Synthetic task name (see src/tasks). */
  task: string;
  /** Seed of everything stochastic in the run: problems, rollouts, minibatch order. */
  seed: number;

  // ---- budgets and the anytime objective ----
  /** b_max: the thinking budget cap (tokens, end-of-thinking included); 0 = the task's default. */
  maxBudget: number;
  /** S: number of evenly spaced training budgets b_j = b_max·j/S (GRPO: 1). */
  trainBudgetCount: number;
  /** Prior over the training budgets (§2). */
  prior: PriorKind;
  /** A: summaries sampled per prefix (per budget). */
  summariesPerBudget: number;
  /** Which summaries are trained (§5): all of them, or the final budget's only (GRPO). */
  summaryMode: SummaryMode;
  /** Thinking baseline (§4). */
  baseline: BaselineName;
  /** Own-progress discount base d (2 = the paper's 2^k weights). */
  discount: number;

  // ---- rollouts ----
  /** Questions per rollout batch. */
  questionsPerStep: number;
  /** G: traces per question. */
  groupSize: number;
  /** Rollout batches (training steps). */
  steps: number;
  /** Optimiser steps per rollout batch (the batch is split into this many minibatches; one PPO epoch). */
  updatesPerBatch: number;
  /** Sampling temperature for training rollouts. */
  temperature: number;

  // ---- loss ----
  /** ε_low of the clipped surrogate. */
  clipLow: number;
  /** ε_high (clip-higher); equal to clipLow in the paper. */
  clipHigh: number;
  /** Loss aggregation; the paper sums over trainable tokens and divides by a constant. */
  aggregation: LossAggregation;

  // ---- optimiser (AdamW) ----
  /** Learning rate (the paper's 1e-6 is for a 1.5B model; the tiny policy trains from scratch). */
  lr: number;
  /** Decoupled weight decay. */
  weightDecay: number;
  /** Global gradient-norm clip. */
  gradClip: number;
  beta1: number;
  beta2: number;

  // ---- evaluation ----
  /** Evenly spaced evaluation budgets up to b_max. */
  evalBudgetCount: number;
  /** Held-out questions. */
  evalQuestions: number;
  /** k: samples per held-out question. */
  evalSamples: number;
  /** Evaluation sampling temperature. */
  evalTemperature: number;
  /**
   * Seed of the evaluation's sampling streams. It is the same for every run and training seed, so
   * all runs are evaluated on the same questions with the same streams: differences are paired.
   */
  evalSeed: number;
  /** Evaluate every this many steps during training (0: only at the end), for curves over steps. */
  evalEvery: number;
  /** Questions of those evaluations during training (the first ones of the held-out set; ≤ evalQuestions when evalEvery > 0). */
  evalEveryQuestions: number;
  /** Checkpoint every this many steps (the last step always checkpoints). */
  checkpointEvery: number;

  // ---- compute (src/train/parallel.ts) ----
  /**
   * Threads the run computes on: 0 = every core of the machine; 1 = this thread only; N = this
   * thread and N − 1 worker threads, each with its own tfjs-wasm. Rollouts are split by rows and
   * gradients by `gradientChunks`, so no number changes with it (a run may resume on another count).
   */
  threads: number;
  /**
   * Chunks each minibatch's gradient is summed from, in chunk order (traces split by length, a
   * rule of the data alone): fixes the float reduction order, so results do not depend on
   * `threads`. At most this many threads share an update. Changing it changes the run's numbers.
   */
  gradientChunks: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  run: 'ar-uniform',
  task: 'arithmetic',
  seed: 0,
  maxBudget: 0,
  trainBudgetCount: 4,
  prior: 'uniform',
  summariesPerBudget: 4,
  summaryMode: 'all-budgets',
  baseline: 'brpo',
  discount: 2,
  questionsPerStep: 8,
  groupSize: 8,
  steps: 60,
  updatesPerBatch: 2,
  temperature: 1.0,
  clipLow: 0.2,
  clipHigh: 0.2,
  aggregation: 'seq-mean-token-sum-norm',
  lr: 1e-4,
  weightDecay: 0.01,
  gradClip: 1.0,
  beta1: 0.9,
  beta2: 0.999,
  evalBudgetCount: 16,
  evalQuestions: 64,
  evalSamples: 4,
  evalTemperature: 0.6,
  evalSeed: 0,
  evalEvery: 0,
  evalEveryQuestions: 256,
  checkpointEvery: 5,
  threads: 0,
  gradientChunks: 4,
};

/** The paper's runs and ablations (§7), as overrides of the defaults. */
export const RUN_PRESETS = {
  grpo: { prior: 'base', trainBudgetCount: 1, summariesPerBudget: 1, summaryMode: 'final-only', baseline: 'group-mean' },
  'ar-base': { prior: 'base', trainBudgetCount: 4, summariesPerBudget: 4, summaryMode: 'all-budgets', baseline: 'brpo' },
  'ar-linear': { prior: 'linear', trainBudgetCount: 4, summariesPerBudget: 4, summaryMode: 'all-budgets', baseline: 'brpo' },
  'ar-uniform': { prior: 'uniform', trainBudgetCount: 4, summariesPerBudget: 4, summaryMode: 'all-budgets', baseline: 'brpo' },
  'grpo-dense': { prior: 'linear', trainBudgetCount: 4, summariesPerBudget: 1, summaryMode: 'final-only', baseline: 'group-mean' },
  'grpo-decouple': { prior: 'base', trainBudgetCount: 4, summariesPerBudget: 4, summaryMode: 'all-budgets', baseline: 'group-mean' },
  'grpo-vr': { prior: 'base', trainBudgetCount: 4, summariesPerBudget: 1, summaryMode: 'final-only', baseline: 'brpo' },
} as const satisfies Record<string, Partial<TrainConfig>>;

export type RunName = keyof typeof RUN_PRESETS;
export const RUN_NAMES = Object.keys(RUN_PRESETS) as RunName[];

/** A run's config: defaults, then the run's preset, then explicit overrides. */
export function runConfig(run: RunName, overrides: Partial<TrainConfig> = {}): TrainConfig {
  checkOneOf('run', run, RUN_NAMES);
  return checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, ...RUN_PRESETS[run], run, ...overrides });
}

const BASELINES = ['brpo', 'group-mean', 'own-progress', 'none'] as const;

/** Checks every field, naming the bad one and what is allowed. */
export function checkTrainConfig(c: TrainConfig): TrainConfig {
  const ints: (keyof TrainConfig)[] = [
    'trainBudgetCount', 'summariesPerBudget', 'questionsPerStep', 'groupSize', 'steps', 'updatesPerBatch',
    'evalBudgetCount', 'evalQuestions', 'evalSamples', 'evalEveryQuestions', 'checkpointEvery', 'gradientChunks',
  ];
  for (const k of ints) checkPositiveInt(`config.${k}`, c[k] as number);
  if (!Number.isInteger(c.maxBudget) || c.maxBudget < 0) fail('config.maxBudget', `must be an integer ≥ 0 (0 = task default), got ${c.maxBudget}`);
  if (!Number.isInteger(c.evalEvery) || c.evalEvery < 0) fail('config.evalEvery', `must be an integer ≥ 0, got ${c.evalEvery}`);
  if (!Number.isInteger(c.seed)) fail('config.seed', `must be an integer, got ${c.seed}`);
  if (!Number.isInteger(c.evalSeed)) fail('config.evalSeed', `must be an integer, got ${c.evalSeed}`);
  if (c.evalEvery > 0 && c.evalEveryQuestions > c.evalQuestions) {
    fail('config.evalEveryQuestions', `must be ≤ evalQuestions (${c.evalQuestions}), got ${c.evalEveryQuestions}`);
  }
  if (!Number.isInteger(c.threads) || c.threads < 0) fail('config.threads', `must be an integer ≥ 0 (0 = every core), got ${c.threads}`);
  checkOneOf('config.prior', c.prior, PRIOR_KINDS);
  checkOneOf('config.summaryMode', c.summaryMode, SUMMARY_MODES);
  checkOneOf('config.baseline', c.baseline, BASELINES);
  checkOneOf('config.aggregation', c.aggregation, LOSS_AGGREGATIONS);
  const positive: (keyof TrainConfig)[] = ['temperature', 'lr', 'gradClip', 'evalTemperature', 'discount'];
  for (const k of positive) {
    const v = c[k] as number;
    if (!(Number.isFinite(v) && v > 0)) fail(`config.${k}`, `must be a finite number > 0, got ${String(v)}`);
  }
  for (const k of ['clipLow', 'clipHigh', 'weightDecay'] as const) {
    if (!(Number.isFinite(c[k]) && c[k] >= 0)) fail(`config.${k}`, `must be a finite number ≥ 0, got ${String(c[k])}`);
  }
  if (c.clipLow >= 1) fail('config.clipLow', `must be < 1, got ${c.clipLow}`);
  for (const k of ['beta1', 'beta2'] as const) {
    if (!(c[k] >= 0 && c[k] < 1)) fail(`config.${k}`, `must be in [0, 1), got ${String(c[k])}`);
  }
  if (c.updatesPerBatch > c.questionsPerStep) {
    fail('config.updatesPerBatch', `must be ≤ questionsPerStep (${c.questionsPerStep}): each minibatch holds whole question groups`);
  }
  if (c.summaryMode === 'final-only' && c.summariesPerBudget < 1) fail('config.summariesPerBudget', 'must be ≥ 1');
  return c;
}
